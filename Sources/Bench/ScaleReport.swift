/// Renders a `RelayScaleResult` as rows per second, a rule, and a summary with the targets.
struct ScaleReport {
    var result: RelayScaleResult
    var options: RelayScaleOptions

    func render() -> String {
        // The first scale targets (< 25 % of a core, < 100 MB) are for 10,000 peers; other counts get
        // issue 13's lines below, which scale the memory limit.
        let isTenThousand = result.peers == 10_000
        var lines = [
            "Relay scale: \(result.peers) idle UDP peers (Datagram keepalive 1 s), rooms of \(options.roomSize), relay as a child process; loopback"
                + (result.workerProcesses > 0 ? "; the peers in \(result.workerProcesses) worker processes" : ""),
            "Machine: \(result.machine)",
            "",
            "[ Time]  Relay CPU   Relay RSS   Bench CPU   Connected",
        ]
        for sample in result.samples {
            lines.append("[\(leftPad("\(sample.second) s", 5))]  "
                + leftPad(formatFixed(sample.relayCorePercent, decimals: 1) + " %", 9) + "   "
                + leftPad(formatFixed(sample.relayResidentMegabytes, decimals: 1) + " MB", 9) + "   "
                + leftPad(formatFixed(sample.benchCorePercent, decimals: 1) + " %", 9) + "   "
                + leftPad("\(sample.connectedPeers)", 9))
        }
        lines.append(ruleLine)
        lines.append("Summary (\(result.samples.count) s of idle heartbeating):")
        lines.append("  " + rightPad("peers joined", 28) + "\(result.joined)/\(result.peers) in "
            + formatFixed(result.joinSeconds, decimals: 1) + " s")
        lines.append("  " + rightPad("connections closed", 28) + "\(result.failedJoins) before joining, \(result.lostDuringRun) during the idle phase")
        lines.append("  " + rightPad("peer datagrams per second", 28) + formatFixed(result.peerDatagramsSentPerSecond, decimals: 0)
            + " to the relay, " + formatFixed(result.peerDatagramsReceivedPerSecond, decimals: 0) + " back"
            + (result.sendsRefused > 0 ? " (\(result.sendsRefused) sends refused by a full socket buffer)" : ""))
        lines.append("  " + rightPad("relay CPU (one core)", 28) + "mean " + formatFixed(result.relayCPUMean, decimals: 1)
            + " %, max " + formatFixed(result.relayCPUMax, decimals: 1) + " %"
            + (isTenThousand ? "   (target < 25 %)   " + verdict(result.isCPUTargetMet) : ""))
        lines.append("  " + rightPad("relay RSS", 28) + "max " + formatFixed(result.relayRSSMax, decimals: 1)
            + " MB" + (isTenThousand ? "                (target < 100 MB)  " + verdict(result.isMemoryTargetMet) : ""))
        // Issue 13's targets: under 10 % of a core at 10,000 peers (about 3 µs per datagram), and under
        // 100 MB per 10,000 peers (500 MB at 50,000, with every peer joined).
        let microsecondsPerDatagram = result.peerDatagramsSentPerSecond > 0
            ? result.relayCPUMean / 100 * 1_000_000 / result.peerDatagramsSentPerSecond : 0
        lines.append("  " + rightPad("relay CPU per datagram", 28) + formatFixed(microsecondsPerDatagram, decimals: 1)
            + " µs; mean " + formatFixed(result.relayCPUMean, decimals: 1) + " % (issue 13: < 10 %)   "
            + verdict(result.relayCPUMean < 10))
        let memoryLimit = Double(max(result.peers, 10_000)) / 100
        lines.append("  " + rightPad("relay RSS for these peers", 28) + "max " + formatFixed(result.relayRSSMax, decimals: 1)
            + " MB (issue 13: < " + formatFixed(memoryLimit, decimals: 0) + " MB, all joined)   "
            + verdict(result.relayRSSMax < memoryLimit && result.joined == result.peers))
        lines.append("  " + rightPad("bench CPU (load generator)", 28) + "mean " + formatFixed(result.benchCPUMean, decimals: 1)
            + " % of one core")
        if result.relayCPUMax >= 90 {
            lines.append("  note: the relay was saturated (one core), so keepalives queued and the figures are a floor.")
        }
        if result.joined < result.peers {
            lines.append("  note: only \(result.joined) of \(result.peers) peers joined; the figures are for those.")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
