import Datagram
import LinkSimulator
import Testing

/// Thousands of seeded runs of two endpoints exchanging messages over impaired links.
///
/// Each scenario is one test case; its runs share nothing, so a failing run is reproduced alone from the
/// seed and scenario its failure prints. The last scenario to finish prints the summary line.
@Suite("Simulation sweep")
struct SweepTests {
    @Test("two endpoints exchange messages over an impaired link", arguments: Scenario.all)
    func sweep(_ scenario: Scenario) {
        let settings = SweepSettings.current
        var total = SimulationRun.Tally()
        var failedRuns = 0
        var givenUp: [String] = []
        if settings.includes(scenario) {
            for seed in settings.seeds(for: scenario) {
                var run = SimulationRun(scenario, seed: seed, isTracing: settings.isTracing)
                run.execute()
                total.add(run.tally)
                if run.tally.gaveUp > 0 { givenUp.append("seed \(seed): \(run.closures)") }
                guard !run.failures.isEmpty else { continue }
                failedRuns += 1
                report(run, settings: settings)
                if failedRuns >= 5 { break }
            }
        }
        let budget = Int((scenario.giveUpBudget * Double(total.runs)).rounded(.up))
        #expect(givenUp.count <= budget, """
            \(givenUp.count) of \(total.runs) runs under '\(scenario.name)' gave up (budget \(budget)):
              \(givenUp.prefix(10).joined(separator: "\n  "))
            """)
        if let summary = SimulationLedger.shared.finish(scenario, with: total) { print(summary) }
    }

    private func report(_ run: SimulationRun, settings: SweepSettings) {
        let scenario = run.scenario
        let text = """
            seed \(run.seed) under '\(scenario.name)' failed:
              \(run.failures.joined(separator: "\n  "))
              client→server: \(scenario.clientToServer)
              server→client: \(scenario.serverToClient)
              first packet number: \(scenario.firstPacketNumber)
              rerun alone: \(settings.rerunCommand(seed: run.seed, scenario: scenario))
            """
        Issue.record(Comment(rawValue: text))
        if settings.isTracing { print(run.pair.trace.joined(separator: "\n")) }
    }
}
