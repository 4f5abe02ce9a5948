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
            unreliableSent += other.unreliableSent
            unreliableDelivered += other.unreliableDelivered
            gaveUp += other.gaveUp
            longestRun = max(longestRun, other.longestRun)
            totalRunTime += other.totalRunTime
        }
    }

    let scenario: Scenario
    let seed: UInt64
    private(set) var pair: SimulatedPair
    private(set) var failures: [String] = []
    private(set) var tally = Tally()
    private let workload: Workload

    init(_ scenario: Scenario, seed: UInt64, isTracing: Bool = false) {
        self.scenario = scenario
        self.seed = seed
        var options = SimulatedPair.Options(seed: seed)
        options.clientToServer = scenario.clientToServer
        options.serverToClient = scenario.serverToClient
        options.clientFirstPacketNumber = scenario.firstPacketNumber
        options.serverFirstPacketNumber = scenario.firstPacketNumber
        options.isRecordingTrace = isTracing
        options.clientConfiguration = scenario.configuration
        options.serverConfiguration = scenario.configuration
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
            outcome = pair.run(until: limit) { pair in
                Side.allCases.allSatisfy { pair.record(of: $0).closed != nil || pair.state(of: $0) == nil }
            }
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
        }
        switch (scenario.kind, outcome) {
        case (_, .stalled), (_, .quiescent), (_, .timeLimit):
            fail("run did not finish: \(outcome) at \(pair.now) (limit \(scenario.timeLimit)); \(progress)")
        case (.exchange, .finished), (.silentPeer, .finished):
            break
        }
        if pair.isGivenUp || scenario.kind == .silentPeer { checkGivingUp() }
    }

    /// Reliable: exactly the sent sequence (or a prefix of it, if a side gave up), byte for byte.
    /// Unreliable: each delivered message is one that was sent, intact, and delivered at most once.
    private mutating func checkDelivery(to receiver: Side, from sender: Side) {
        let sent = pair.record(of: sender).sentReliable.map(\.bytes)
        let received = pair.record(of: receiver).received(on: .reliableOrdered).map(\.bytes)
        let direction = "\(sender)→\(receiver)"
        if received.count > sent.count {
            fail("\(direction) reliable: \(received.count) delivered but only \(sent.count) sent (duplicates?)")
        }
        for (index, (got, expected)) in zip(received, sent).enumerated() where got != expected {
            tally.corruptedDelivered += 1
            fail("\(direction) reliable message \(index): delivered \(got.count) bytes \(describe(got, against: expected))")
        }
        if received.count < sent.count, !pair.isGivenUp {
            fail("\(direction) reliable: only \(received.count) of \(sent.count) delivered")
        }
        checkUnreliable(to: receiver, from: sender)
    }

    private mutating func checkUnreliable(to receiver: Side, from sender: Side) {
        let planned = workload.planned(from: sender, on: .unreliable).map(\.bytes)
        var seen = Set<Int>()
        for message in pair.record(of: receiver).received(on: .unreliable).map(\.bytes) {
            let index = planned.firstIndex(where: { $0.prefix(6) == message.prefix(6) })
            guard let index, planned[index] == message else {
                tally.corruptedDelivered += 1
                fail("\(sender)→\(receiver) unreliable: delivered \(message.count) bytes matching nothing sent")
                continue
            }
            if !seen.insert(index).inserted { fail("\(sender)→\(receiver) unreliable message \(index) delivered twice") }
        }
    }

    /// After a side closes: it reports a timeout in time and hands back exactly what was never acknowledged.
    private mutating func checkGivingUp() {
        for side in Side.allCases {
            let record = pair.record(of: side)
            guard let closed = record.closed else {
                if scenario.kind == .silentPeer, pair.state(of: side) != nil {
                    fail("\(side) never closed although its peer went silent")
                }
                continue
            }
            if scenario.kind == .silentPeer { checkSilence(closed, on: side) }
            let acknowledged = Set(record.acknowledged)
            let expected = record.sentReliable.filter { !acknowledged.contains($0.id) }.map(\.bytes)
            let returned = pair.takeUnacknowledgedMessages(of: side)
            if returned != expected {
                fail("\(side) takeUnacknowledgedMessages returned \(returned.count) messages "
                     + "(\(returned.map(\.count)) bytes), expected the \(expected.count) never acknowledged "
                     + "(\(expected.map(\.count)) bytes)")
            }
        }
    }

    /// A side whose peer went silent gives up with a timeout within idle timeout plus one maximum probe timeout.
    private mutating func checkSilence(_ closed: (reason: CloseReason, time: Timestamp), on side: Side) {
        if closed.reason != .idleTimeout, closed.reason != .probeTimeout {
            fail("\(side) closed with \(closed.reason), expected .idleTimeout or .probeTimeout")
        }
        let configuration = Configuration()
        let bound = configuration.idleTimeout + configuration.maximumProbeTimeout
        if closed.time - Scenario.silenceStart > bound {
            fail("\(side) closed at \(closed.time), more than \(bound) after the silence began at \(Scenario.silenceStart)")
        }
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
        }
        tally.gaveUp = pair.isGivenUp && scenario.kind == .exchange ? 1 : 0
        tally.longestRun = pair.now - .zero
        tally.totalRunTime = pair.now - .zero
    }

    private mutating func fail(_ message: String) { failures.append(message) }

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

    private func describe(_ got: [UInt8], against expected: [UInt8]) -> String {
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

    /// True once either side has closed.
    var isGivenUp: Bool {
        record(of: .client).closed != nil || record(of: .server).closed != nil
    }
}
