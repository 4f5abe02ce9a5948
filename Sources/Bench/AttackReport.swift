import Foundation

/// The table `bench attack` prints.
struct AttackReport {
    let outcomes: [AttackOutcome]

    func render() -> String {
        var lines = ["Attacks on the relay while alice (udp) and carol (tcp) chat in #lobby", ""]
        lines.append("scenario       alice→carol  carol→alice  dup  order  lost-conn  stall   relay RSS start→peak  result")
        for outcome in outcomes {
            let a = outcome.alice
            let c = outcome.carol
            let cells = [
                pad(outcome.scenario.rawValue, 14),
                pad("\(a.delivered)/\(a.sent)", 12),
                pad("\(c.delivered)/\(c.sent)", 12),
                pad("\(a.duplicates + c.duplicates)", 4),
                pad("\(a.outOfOrder + c.outOfOrder)", 6),
                pad("\(a.disconnects + c.disconnects)", 10),
                pad(String(format: "%.1f s", max(a.longestStall, c.longestStall)), 7),
                pad("\(megabytes(outcome.relayStartRSS)) → \(megabytes(outcome.relayPeakRSS))", 21),
                outcome.isPassed ? "PASS" : (outcome.isRelayAlive ? "FAIL" : "FAIL (relay died)"),
            ]
            lines.append(cells.joined(separator: " "))
        }
        lines.append("")
        let failed = outcomes.filter { !$0.isPassed }.count
        lines.append(failed == 0 ? "All \(outcomes.count) scenarios passed." : "\(failed) of \(outcomes.count) scenarios FAILED.")
        lines.append("PASS means: every line arrived exactly once and in order, nobody was disconnected, no pause over "
            + "\(Int(AttackOutcome.stallLimit)) s while the attack ran, and the scenario's own check held.")
        lines.append("")
        for outcome in outcomes {
            lines.append("\(outcome.scenario.rawValue): \(outcome.attack)")
            if outcome.check != "-" { lines.append("  check: \(outcome.check)") }
            let pushed = outcome.alice.pushedBack + outcome.carol.pushedBack
            if pushed > 0 { lines.append("  the users' sessions pushed back \(pushed) times (retried, not lost)") }
            for (name, tally) in [("alice", outcome.alice), ("carol", outcome.carol)] {
                for reason in tally.disconnectReasons { lines.append("  \(name) lost her connection: \(reason)") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    private func megabytes(_ bytes: Int) -> String {
        "\(bytes / 1_000_000) MB"
    }
}
