import Datagram
import LinkSimulator
import Testing

/// Thousands of seeded runs of two endpoints exchanging messages over impaired links.
///
/// Each scenario is one test case; its runs share nothing, so a failing run is reproduced alone from the
/// seed and scenario its failure prints. The last scenario to finish prints the summary line.
@Suite("Simulation sweep")
struct SweepTests {
    /// Specs/wire-format.md, section 4: Serial-number arithmetic (RFC 1982) across the wrap.
    /// Specs/wire-format.md, section 5: Reliable channel: once, intact, in order; fragments of the next message
    /// always accepted; a fragment that cannot be buffered MUST be dropped before it is recorded.
    /// Specs/wire-format.md, section 5: A sender MUST NOT send a reliable fragment for the first time *R* or more
    /// beyond its oldest unacknowledged one.
    /// Specs/reliability.md, "Putting messages back in order": A bounded reorder buffer; a fragment it cannot take is
    /// dropped before it is recorded; the sender's window rule keeps that from happening; the head is always
    /// accepted; the unreliable channel apart.
    /// Specs/reliability.md, "Staying alive and noticing death": Every way a connection ends is one `Event.closed`;
    /// no reliable message is lost without the application being able to take it back.
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
                if settings.isTracing, settings.onlySeed != nil, run.failures.isEmpty {
                    print(run.pair.trace.joined(separator: "\n"))
                }
                guard !run.failures.isEmpty else { continue }
                failedRuns += 1
                report(run, settings: settings)
                if failedRuns >= 5 { break }
            }
        }
        if settings.isListingGiveUps, !givenUp.isEmpty {
            print("'\(scenario.name)' gave up in \(givenUp.count) runs:\n  " + givenUp.joined(separator: "\n  "))
        }
        let budget = Int((scenario.giveUpBudget * Double(total.runs)).rounded(.up))
        #expect(givenUp.count <= budget, """
            \(givenUp.count) of \(total.runs) runs under '\(scenario.name)' gave up (budget \(budget)):
              \(givenUp.prefix(10).joined(separator: "\n  "))
            """)
        if scenario.configuration.reorderBufferLimit < 64, total.runs > 1 {
            #expect(total.outOfOrderBuffered > 0, "the reorder buffer was never used")
        }
        if let server = scenario.serverConfiguration, server.reorderBufferLimit < 64, total.runs > 1 {
            #expect(total.reorderBufferDropped > 0, "the receiver's reorder buffer limit never came into play")
        }
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
