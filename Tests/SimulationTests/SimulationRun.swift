import Datagram
import LinkSimulator

/// One seeded run of one scenario: builds the pair, plays the workload, checks every invariant.
struct SimulationRun {
    /// What a run measured, summed into the ledger.
    struct Tally: Sendable {
        var runs = 0
        var messages = 0
        var links = LinkStatistics()
        var corruptedDelivered = 0
        var retransmissions = 0
        var reorderBufferDropped = 0
        var outOfOrderBuffered = 0
        var unreliableSent = 0
        var unreliableDelivered = 0
        var gaveUp = 0
        var longestRun: Duration = .zero
        var totalRunTime: Duration = .zero

        mutating func add(_ other: Tally) {
            runs += other.runs
            messages += other.messages
            links = links + other.links
            corruptedDelivered += other.corruptedDelivered
            retransmissions += other.retransmissions
            reorderBufferDropped += other.reorderBufferDropped
            outOfOrderBuffered += other.outOfOrderBuffered
            unreliableSent += other.unreliableSent
            unreliableDelivered += other.unreliableDelivered
            gaveUp += other.gaveUp
            longestRun = max(longestRun, other.longestRun)
            totalRunTime += other.totalRunTime
        }
    }

    let scenario: Scenario
    let seed: UInt64
    var pair: SimulatedPair
    var failures: [String] = []
    var tally = Tally()
    let workload: Workload

    init(_ scenario: Scenario, seed: UInt64, isTracing: Bool = false) {
        self.scenario = scenario
        self.seed = seed
        var options = SimulatedPair.Options(seed: seed)
        options.clientToServer = scenario.clientToServer
        options.serverToClient = scenario.serverToClient
        if scenario.firstPacketNumber > 0 {
            options.clientFirstPacketNumber = scenario.firstPacketNumber
            options.serverFirstPacketNumber = scenario.firstPacketNumber
        }   // else both drawn from the seed, as real ends draw them at random
        options.isRecordingTrace = isTracing
        options.clientConfiguration = scenario.configuration
        options.serverConfiguration = scenario.serverConfiguration ?? scenario.configuration
        options.clientConfiguration.isTracing = isTracing
        options.serverConfiguration.isTracing = isTracing
        pair = SimulatedPair(options: options)
        workload = Workload(seed: seed)
        for message in workload.messages {
            pair.send(message.bytes, on: message.channel, from: message.side, at: message.time)
        }
    }

    /// Runs to completion (or to the limit) and checks; `failures` is empty when every invariant held.
    mutating func execute() {
        let limit = Timestamp.zero + scenario.timeLimit
        let outcome: RunOutcome
        switch scenario.kind {
        case .exchange:
            outcome = pair.run(until: limit) { $0.isExchangeComplete || $0.isGivenUp }
        case .silentPeer:
            outcome = pair.run(until: limit) { $0.isEveryoneClosed }
        case .serverCrashes:
            pair.run(until: limit) { $0.now >= Scenario.closeTime && $0.server != nil }
            pair.crashServer()
            outcome = pair.run(until: limit) { $0.record(of: .client).closed != nil && $0.now >= .milliseconds(2_000) }
        case .clientCloses:
            pair.run(until: Scenario.closeTime)
            pair.close(.client, code: CloseCode(rawValue: 7))
            // Every planned message is due by 2 s: run past that so the client's later ones are refused.
            outcome = pair.run(until: limit) { $0.isEveryoneClosed && $0.now >= .milliseconds(2_000) }
        }
        check(outcome)
        measure()
    }

    private mutating func check(_ outcome: RunOutcome) {
        for side in Side.allCases { checkDelivery(to: side.peer, from: side) }
        for side in Side.allCases {
            let record = pair.record(of: side)
            for violation in record.capViolations.prefix(3) { fail("\(side) buffer cap: \(violation)") }
            for violation in record.contractViolations { fail("\(side) contract: \(violation)") }
            // With equal limits the sender's window keeps the receiver's reorder buffer from ever overflowing.
            let dropped = pair.statistics(of: side)?.reorderBufferDropped ?? 0
            if scenario.serverConfiguration == nil, dropped > 0 {
                fail("\(side) reorder buffer overflowed its limit of \(scenario.configuration.reorderBufferLimit): "
                     + "\(dropped) fragments dropped")
            }
        }
        switch (scenario.kind, outcome) {
        case (.clientCloses, .quiescent) where pair.isEveryoneClosed,
             (.serverCrashes, .quiescent) where pair.record(of: .client).closed != nil:
            break  // both closed and every planned message offered: nothing left to happen
        case (_, .stalled), (_, .quiescent), (_, .timeLimit):
            fail("run did not finish: \(outcome) at \(pair.now) (limit \(scenario.timeLimit)); \(progress)")
        case (_, .finished):
            break
        }
        if scenario.kind == .clientCloses { checkClientClose() }
        // (A handshake that never completed leaves no server to crash: the client then times out.)
        if scenario.kind == .serverCrashes, !pair.crashedServers.isEmpty, let closed = pair.record(of: .client).closed,
           closed.reason != .reset {
            fail("client closed with \(closed.reason) after the server crashed, expected .reset")
        }
        for side in Side.allCases { checkIdentifiers(of: side) }
        checkClientCounters()
        if pair.isGivenUp || scenario.kind != .exchange { checkGivingUp() }
        if scenario.firstPacketNumber > 0 { checkWrapped() }
    }


    private mutating func measure() {
        tally.runs = 1
        tally.links = pair.clientToServer.statistics + pair.serverToClient.statistics
        for side in Side.allCases {
            let record = pair.record(of: side)
            tally.messages += record.sent.count
            tally.unreliableSent += record.sent.filter { $0.channel == .unreliable }.count
            tally.unreliableDelivered += record.received(on: .unreliable).count
            tally.retransmissions += pair.statistics(of: side)?.retransmissions ?? 0
            tally.reorderBufferDropped += pair.statistics(of: side)?.reorderBufferDropped ?? 0
            tally.outOfOrderBuffered += pair.statistics(of: side)?.outOfOrderBuffered ?? 0
        }
        tally.gaveUp = pair.isGivenUp && scenario.kind == .exchange ? 1 : 0
        tally.longestRun = pair.now - .zero
        tally.totalRunTime = pair.now - .zero
    }

    mutating func fail(_ message: String) { failures.append(message) }

    /// Who closed, why and when, for the report of a run that gave up.
    var closures: String {
        Side.allCases.map { "\($0) \(pair.record(of: $0).closed.map { "\($0.reason) at \($0.time)" } ?? "open")" }
            .joined(separator: ", ")
    }

    private var progress: String {
        Side.allCases.map { side in
            let record = pair.record(of: side)
            return "\(side): sent \(record.sentReliable.count) reliable, \(record.acknowledged.count) acknowledged, "
                + "received \(record.received(on: .reliableOrdered).count), state \(String(describing: pair.state(of: side)))"
        }.joined(separator: "; ")
    }

    func describe(_ got: [UInt8], against expected: [UInt8]) -> String {
        guard got.count == expected.count else { return "instead of \(expected.count)" }
        let first = got.indices.first { got[$0] != expected[$0] } ?? 0
        return "differing first at byte \(first)"
    }
}

extension SimulatedPair {
    /// Every planned message sent, every reliable one delivered and acknowledged, both ways, and nothing
    /// left on the links (so unreliable messages still in flight get their chance).
    var isExchangeComplete: Bool {
        guard pendingSendCount == 0, clientToServer.nextDeliveryTime == nil, serverToClient.nextDeliveryTime == nil
        else { return false }
        return Side.allCases.allSatisfy { side in
            let record = record(of: side), reliable = record.sentReliable.count
            return record.acknowledged.count >= reliable
                && self.record(of: side.peer).received(on: .reliableOrdered).count >= reliable
        }
    }

    /// True once every side that exists has closed.
    var isEveryoneClosed: Bool {
        Side.allCases.allSatisfy { record(of: $0).closed != nil || state(of: $0) == nil }
    }

    /// True once either side has closed.
    var isGivenUp: Bool {
        record(of: .client).closed != nil || record(of: .server).closed != nil
    }
}
