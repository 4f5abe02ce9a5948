import Datagram
import Foundation
import LinkSimulator
import Synchronization

/// How many runs to do and which, from the environment.
///
/// - `DATAGRAM_SIM_RUNS`: total runs over all scenarios (default 2,100); setting it also prints the table.
/// - `DATAGRAM_SIM_SEED`: run only this seed (in each scenario selected).
/// - `DATAGRAM_SIM_SCENARIO`: run only the scenario of this name (for example `loss 30%`).
/// - `DATAGRAM_SIM_TRACE=1`: print the packet trace of a failing run.
struct SweepSettings: Sendable {
    var totalRuns = 2_100
    var onlySeed: UInt64?
    var onlyScenario: String?
    var isTracing = false
    var isPrintingTable = false

    static let current: SweepSettings = {
        let environment = ProcessInfo.processInfo.environment
        var settings = SweepSettings()
        if let runs = environment["DATAGRAM_SIM_RUNS"].flatMap(Int.init), runs > 0 {
            settings.totalRuns = runs
            settings.isPrintingTable = true
        }
        settings.onlySeed = environment["DATAGRAM_SIM_SEED"].flatMap { UInt64($0) }
        settings.onlyScenario = environment["DATAGRAM_SIM_SCENARIO"]
        settings.isTracing = environment["DATAGRAM_SIM_TRACE"] == "1"
        return settings
    }()

    func includes(_ scenario: Scenario) -> Bool {
        onlyScenario == nil || onlyScenario == scenario.name
    }

    /// Seeds read as scenario number then run number: 7000013 is run 13 of scenario 7.
    func seeds(for scenario: Scenario) -> [UInt64] {
        if let onlySeed { return [onlySeed] }
        let number = UInt64(Scenario.all.firstIndex { $0.name == scenario.name } ?? 0) + 1
        let perScenario = (totalRuns + Scenario.all.count - 1) / Scenario.all.count
        return (0..<UInt64(perScenario)).map { number * 1_000_000 + $0 }
    }

    func rerunCommand(seed: UInt64, scenario: Scenario) -> String {
        "DATAGRAM_SIM_SEED=\(seed) DATAGRAM_SIM_SCENARIO='\(scenario.name)' swift test --filter SimulationTests.SweepTests"
    }
}

/// Totals over every scenario of the sweep; the last scenario to finish prints them.
final class SimulationLedger: Sendable {
    static let shared = SimulationLedger()

    private struct State {
        var rows: [String: SimulationRun.Tally] = [:]
        var finished = 0
    }

    private let state = Mutex(State())

    /// Records one scenario's totals; returns the text to print if it was the last scenario.
    func finish(_ scenario: Scenario, with tally: SimulationRun.Tally) -> String? {
        state.withLock { state -> String? in
            state.rows[scenario.name] = tally
            state.finished += 1
            guard state.finished == Scenario.all.count else { return nil }
            return report(state.rows)
        }
    }

    private func report(_ rows: [String: SimulationRun.Tally]) -> String {
        var total = SimulationRun.Tally()
        var lines: [String] = []
        if SweepSettings.current.isPrintingTable {
            lines.append(Self.header)
            lines.append(String(repeating: "- ", count: Self.header.count / 2))
        }
        for scenario in Scenario.all {
            guard let row = rows[scenario.name] else { continue }
            total.add(row)
            if SweepSettings.current.isPrintingTable, row.runs > 0 { lines.append(Self.line(scenario.name, row)) }
        }
        if SweepSettings.current.isPrintingTable {
            lines.append(String(repeating: "- ", count: Self.header.count / 2))
            lines.append(Self.line("all", total))
        }
        lines.append("simulation: \(total.runs) runs, \(total.messages) messages, \(total.links.dropped) datagrams lost, "
                     + "\(total.links.duplicated) duplicated, \(total.links.reordered) reordered, "
                     + "\(total.links.corrupted) corrupted on the wire, \(total.corruptedDelivered) corrupted delivered, "
                     + "\(total.gaveUp) gave up, \(Int(total.totalRunTime.milliseconds / 1000)) s of virtual time")
        return lines.joined(separator: "\n")
    }

    private static let header = pad("scenario", 18) + pad("runs", 7) + pad("messages", 10) + pad("datagrams", 11)
        + pad("lost", 9) + pad("dup", 7) + pad("reord", 7) + pad("corrupt", 8) + pad("retrans", 9)
        + pad("unrel %", 8) + pad("gave up", 8) + pad("mean s", 8) + "max s"

    private static func line(_ name: String, _ row: SimulationRun.Tally) -> String {
        let lossPercent = row.links.sent == 0 ? 0 : 100 * Double(row.links.dropped) / Double(row.links.sent)
        let unreliable = row.unreliableSent == 0 ? 100 : 100 * Double(row.unreliableDelivered) / Double(row.unreliableSent)
        let mean = row.runs == 0 ? 0 : row.totalRunTime.milliseconds / 1000 / Double(row.runs)
        return pad(name, 18) + pad("\(row.runs)", 7) + pad("\(row.messages)", 10) + pad("\(row.links.sent)", 11)
            + pad("\(row.links.dropped) \(format(lossPercent, 0))%", 9) + pad("\(row.links.duplicated)", 7)
            + pad("\(row.links.reordered)", 7) + pad("\(row.links.corrupted)", 8) + pad("\(row.retransmissions)", 9)
            + pad(format(unreliable, 1), 8) + pad("\(row.gaveUp)", 8) + pad(format(mean, 2), 8)
            + format(row.longestRun.milliseconds / 1000, 1)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private static func format(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }
}
