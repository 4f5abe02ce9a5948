/// Renders a `FanoutResult`: one row for the run, a rule, and the exactly-once, in-order verdict.
struct FanoutReport {
    var result: FanoutResult

    func render() -> String {
        let rate = result.deliveriesPerSecond
        let payloadRate = rate * Double(result.size) / 1_000_000
        var lines = [
            "Fan-out: 1 sender, \(result.receivers) receivers in #lobby, \(result.messages) messages of \(result.size) B, "
                + "relay as a child process; loopback",
            "Machine: \(result.machine)",
            "",
            "[Receivers]  Sent      Delivered         Time to last   Deliveries/s   Payload out   Relay CPU   Bench CPU",
            "[\(leftPad("\(result.receivers)", 9)) ]  " + rightPad("\(result.sent)", 8)
                + rightPad("\(result.deliveries)/\(result.expectedDeliveries)", 18)
                + leftPad(formatFixed(result.elapsedSeconds * 1000, decimals: 0) + " ms", 12)
                + leftPad(formatFixed(rate, decimals: 0), 15)
                + leftPad(formatFixed(payloadRate, decimals: 2) + " MB/s", 14)
                + leftPad(formatFixed(result.relayCorePercent, decimals: 1) + " %", 12)
                + leftPad(formatFixed(result.benchCorePercent, decimals: 1) + " %", 12),
            ruleLine,
            "Summary:",
            "  " + rightPad("receivers complete", 26) + "\(result.completeReceivers)/\(result.receivers)",
            "  " + rightPad("duplicates, out of order", 26) + "\(result.duplicates), \(result.outOfOrder)",
            "  " + rightPad("errors from the relay", 26) + "\(result.errorsFromRelay)",
            "  " + rightPad("sender retransmissions", 26) + "\(result.senderRetransmissions)",
            "  " + rightPad("exactly once, in order", 26) + verdict(result.isExact),
        ]
        lines.append("")
        return lines.joined(separator: "\n")
    }
}
