import Testing
@testable import Datagram

/// Requirements of Specs/reliability.md that no other test checked on its own. Each test names the
/// section (heading) it checks; Specs/checking.md, section 3, maps every section to its tests.
@Suite("Reliability requirements, section by section")
struct ReliabilityRequirementTests {
    /// Specs/reliability.md, "Round-trip time and the probe timeout": when the PTO fires the sender
    /// sends one probe, the oldest unacknowledged fragment again in a new packet, even if the
    /// congestion window is full.
    @Test("a probe goes out even when the congestion window is full, and it is the oldest fragment again")
    func probeIgnoresTheCongestionWindow() throws {
        var (client, _) = Script.establishedPair()
        for index in 0..<20 { try client.send([UInt8](repeating: UInt8(index), count: 1158), at: .ms(100)) }
        let burst = Script.transmitAll(&client, at: .ms(100))
        #expect(burst.count == 10, "the initial window is 12,000 bytes: ten full datagrams")
        #expect(client.pollTransmit(at: .ms(100)) == nil, "the window is full")
        let next = client.nextDeadline
        let deadline = try #require(next)
        client.handleTimeout(at: deadline)
        let probe = Script.transmitAll(&client, at: deadline)
        #expect(probe.compactMap(Script.fragment).map(\.messageNumber) == [0])
        #expect(probe.map { Script.packet($0).header.packetNumber } == [Script.packet(burst[9]).header.packetNumber &+ 1],
                "in a new packet")
        #expect(client.statistics.probeTimeouts == 1)
    }

    /// Specs/reliability.md, "Round-trip time and the probe timeout": after `maximumProbeCount` PTOs in
    /// a row the connection closes with `probeTimeout`; any acknowledgement of something new resets the count.
    @Test("an acknowledgement of something new resets the probe count")
    func acknowledgementResetsTheProbeCount() throws {
        var configuration = Connection.Configuration.rfc9002
        configuration.maximumProbeCount = 3
        // Every probe timeout is then fully backed off, so the count alone decides when to give up
        // (`Connection.onProbeTimeout` also waits for the backoff to reach its cap).
        configuration.maximumProbeTimeout = .milliseconds(325)
        var (client, server) = Script.establishedPair(configuration)
        try client.send([1], at: .ms(100))
        _ = Script.transmitAll(&client, at: .ms(100))   // lost
        var probes: [[UInt8]] = []
        for _ in 0..<2 {
            let next = client.nextDeadline
            let deadline = try #require(next)
            client.handleTimeout(at: deadline)
            probes += Script.transmitAll(&client, at: deadline)
        }
        #expect(client.statistics.probeTimeouts == 2)
        let arrival = Timestamp.ms(1_100)
        server.handleDatagram(try #require(probes.last), at: arrival)
        server.handleTimeout(at: arrival + .milliseconds(25))
        for datagram in Script.transmitAll(&server, at: arrival + .milliseconds(25)) {
            client.handleDatagram(datagram, at: .ms(1_200))
        }
        #expect(Script.events(&client).contains(.acknowledged(MessageID(rawValue: 1))))
        try client.send([2], at: .ms(1_200))
        _ = Script.transmitAll(&client, at: .ms(1_200))   // lost, and so is every probe
        while !client.isClosed, let deadline = client.nextDeadline {
            client.handleTimeout(at: deadline)
            _ = Script.transmitAll(&client, at: deadline)
        }
        #expect(client.state == .closed(.probeTimeout))
        #expect(client.statistics.probeTimeouts == 2 + 3, "three more in a row after the count was reset")
    }

    /// Specs/reliability.md, "Receive memory": lowering the budget never discards what is held; it only
    /// refuses what would go beyond it.
    @Test("lowering the receive budget keeps what is held; the held message still completes")
    func loweringTheBudgetKeepsWhatIsHeld() {
        var (server, forger) = forgedServer()
        server.handleDatagram(forger.data(1, 0, of: 2, payload: Forger.full), at: .ms(10))
        let held = server.statistics.receiveBufferedBytes
        #expect(held > 0)
        server.receiveBufferBudget = 0
        #expect(server.statistics.receiveBufferedBytes == held)
        server.handleDatagram(forger.data(2, 0, of: 2, payload: Forger.full), at: .ms(11))
        #expect(server.statistics.receiveBudgetDropped == 1, "what would go beyond is refused")
        server.handleDatagram(forger.data(0), at: .ms(12))
        server.handleDatagram(forger.data(1, 1, of: 2), at: .ms(13))
        #expect(Script.events(&server) == [.message([1], channel: .reliableOrdered),
                                           .message(Forger.full + [1], channel: .reliableOrdered)])
    }

    /// Specs/reliability.md, "Receive memory": the next message to deliver is always accepted and holds
    /// at most 65,536 + 57 × 32 + 64 + 57 × 8 = 67,880 bytes (`Limits.largestHeldMessage`), so a
    /// connection holds at most its budget plus that.
    @Test("with a zero budget the head message still goes in, holding at most 67,880 bytes, and is delivered")
    func theHeadMessageIsBoundedAndAlwaysTaken() {
        #expect(Limits.largestHeldMessage == 67_880)
        var configuration = Connection.Configuration()
        configuration.receiveBufferBudget = 0
        var (server, forger) = forgedServer(configuration)
        let last = [UInt8](repeating: 0x4C, count: 688)
        server.handleDatagram(forger.data(0, 56, of: 57, payload: last), at: .ms(10))
        for index in UInt16(1)..<56 {
            server.handleDatagram(forger.data(0, index, of: 57, payload: Forger.full), at: .ms(10))
            #expect(server.statistics.receiveBufferedBytes <= Limits.largestHeldMessage)
        }
        #expect(server.statistics.receiveBudgetDropped == 0)
        server.handleDatagram(forger.data(0, 0, of: 57, payload: Forger.full), at: .ms(11))
        let events = Script.events(&server)
        #expect(events == [.message(Array(repeating: Forger.full, count: 56).flatMap { $0 } + last, channel: .reliableOrdered)])
        #expect(server.statistics.receiveBufferedBytes == 0)
    }
}
