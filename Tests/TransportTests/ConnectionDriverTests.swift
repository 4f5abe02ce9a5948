import Datagram
import LinkSimulator
import Testing
import DatagramRuntime
import Transport

@Suite("ConnectionDriver over loopback UDP")
struct ConnectionDriverTests {
    /// Message `index` of a run: a few bytes of text, and every 97th message three fragments long.
    static func message(_ index: Int) -> [UInt8] {
        let text = Array("message \(index) ".utf8)
        guard index % 97 == 0 else { return text }
        return text + (0..<(2 * Limits.maximumFragmentPayload + 100)).map { UInt8(truncatingIfNeeded: $0 ^ index) }
    }

    /// Specs/wire-format.md, section 5: Reliable channel: once, intact, in order; fragments of the next message
    /// always accepted; a fragment that cannot be buffered MUST be dropped before it is recorded.
    @Test(arguments: [UInt64(0x5EED_0001), 0x5EED_0002, 0x5EED_0003, 0x5EED_0004])
    func deliversAThousandMessagesInOrderExactlyOnceUnderTwentyPercentLoss(seed: UInt64) async throws {
        try await exchangeAThousandMessages(on: .loopbackIPv4(port: 0), seed: seed)
    }

    /// Specs/wire-format.md, section 5: Reliable channel: once, intact, in order; fragments of the next message
    /// always accepted; a fragment that cannot be buffered MUST be dropped before it is recorded.
    @Test(.enabled(if: isIPv6LoopbackAvailable, "::1 is not available here"))
    func deliversAThousandMessagesOverIPv6UnderTwentyPercentLoss() async throws {
        try await exchangeAThousandMessages(on: .loopbackIPv6(port: 0), seed: 0x5EED_0006)
    }

    /// A client driver with 20 % simulated loss each way sends 1,000 messages to a `TestServer`;
    /// all must arrive in order, exactly once, intact, and all be acknowledged.
    private func exchangeAThousandMessages(on address: SocketAddress, seed: UInt64) async throws {
        let server = try TestServer(bindingTo: address)
        server.openFrontDoor()
        defer { server.shutDown() }
        let socket = try UDPSocket(bindingTo: address)
        let clock = MonotonicClock.process
        let connection = Connection(role: .client, id: SystemRandom.connectionID(), now: clock.now())
        let client = ConnectionDriver(connection: connection, socket: socket, peer: try server.socket.localAddress,
                                      clock: clock, linkSeed: seed, queueLabel: "test.client")
        var lossy = LinkConditions()
        lossy.loss = 0.2
        client.setLinkConditions(outgoing: lossy, incoming: lossy)
        let log = EventLog()
        client.start { log.append($0) }
        defer { client.stop(closingSocket: true) }

        let sent = (0..<1000).map(Self.message)
        for message in sent { try client.send(message) }

        let delivered = await eventually(within: .seconds(120)) {
            server.received.count >= sent.count && log.acknowledgedCount >= sent.count
        }
        let received = server.received
        let links = client.linkStatistics
        let report = "seed \(seed): \(received.count) of \(sent.count) delivered, \(log.acknowledgedCount) acknowledged, "
            + "links out \(String(describing: links.outgoing)) in \(String(describing: links.incoming))"
        #expect(delivered, "not done within the generous bound: \(report)")
        #expect(received.count == sent.count, "\(report)")
        #expect(received == sent, "messages arrived out of order, duplicated or damaged: \(report)")
        #expect((links.outgoing?.dropped ?? 0) > 0 && (links.incoming?.dropped ?? 0) > 0, "the simulated links dropped nothing")
        #expect(client.connectionStatistics.retransmissions > 0)
        #expect(server.acceptedCount == 1)
    }

    /// Specs/wire-format.md, section 6: A non-HELLO for unknown state gets a stateless 32-byte RESET; a RESET is
    /// never answered; the client closes with `reset` and its application sends again what was not acknowledged.
    @Test func reconnectsAfterResetAndResendsWhatWasNotAcknowledged() async throws {
        let server = try TestServer(bindingTo: .loopbackIPv4(port: 0))
        server.openFrontDoor()
        defer { server.shutDown() }
        let socket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let clock = MonotonicClock.process
        let client = ConnectionDriver(connection: Connection(role: .client, id: SystemRandom.connectionID(), now: clock.now()),
                                      socket: socket, peer: try server.socket.localAddress, clock: clock)
        let log = EventLog()
        client.start { [client] event in
            log.append(event)
            guard event == .closed(.reset) else { return }
            for message in client.reconnect(id: SystemRandom.connectionID()) {
                _ = try? client.send(message)
            }
        }
        defer { client.stop(closingSocket: true) }

        let before = (0..<10).map { Array("before \($0)".utf8) }
        for message in before { try client.send(message) }
        let firstDone = await eventually { log.acknowledgedCount >= before.count }
        #expect(firstDone, "the first connection never got its 10 acknowledgements")

        server.restart()
        let after = (0..<10).map { Array("after \($0)".utf8) }
        // Sent from the driver's queue, so the reset callback cannot run between two of these sends
        // (it would take the first few and resend them after the rest).
        try client.queue.sync { for message in after { try client.send(message) } }
        let secondDone = await eventually { server.received.count >= before.count + after.count }

        #expect(secondDone, "after the reset only \(server.received.count - before.count) of 10 arrived")
        let texts = server.received.map { String(decoding: $0, as: UTF8.self) }
        #expect(server.received == before + after, "received \(texts)")
        #expect(log.resetCount == 1)
        #expect(log.connectedCount == 2)
        #expect(server.acceptedCount == 2)
    }

    @Test func linkConditionsChangeWhileRunning() async throws {
        let server = try TestServer(bindingTo: .loopbackIPv4(port: 0))
        server.openFrontDoor()
        defer { server.shutDown() }
        let clock = MonotonicClock.process
        let client = ConnectionDriver(connection: Connection(role: .client, id: SystemRandom.connectionID(), now: clock.now()),
                                      socket: try UDPSocket(bindingTo: .loopbackIPv4(port: 0)),
                                      peer: try server.socket.localAddress, clock: clock, linkSeed: 42)
        let log = EventLog()
        client.start { log.append($0) }
        defer { client.stop(closingSocket: true) }
        try client.send(Array("first".utf8))
        #expect(await eventually { server.received.count == 1 })

        var cut = LinkConditions()
        cut.loss = 1
        client.setLinkConditions(outgoing: cut, incoming: nil)
        try client.send(Array("second".utf8))
        let dropping = await eventually { (client.linkStatistics.outgoing?.dropped ?? 0) >= 1 }
        #expect(dropping, "a link with loss 1 let everything through")
        #expect(server.received.count == 1)

        client.setLinkConditions(outgoing: nil, incoming: nil)
        let healed = await eventually { server.received.count == 2 }
        #expect(healed, "the message sent during the outage was never retransmitted")
        #expect(server.received.last == Array("second".utf8))
    }

    @Test func dropsDatagramsFromOtherAddresses() async throws {
        let socket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let stranger = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        defer { stranger.close() }
        let silentPeer = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        defer { silentPeer.close() }
        let clock = MonotonicClock.process
        let driver = ConnectionDriver(connection: Connection(role: .client, id: ConnectionID(rawValue: 7), now: clock.now()),
                                      socket: socket, peer: try silentPeer.localAddress, clock: clock)
        driver.start { _ in }
        defer { driver.stop(closingSocket: true) }
        try stranger.send([0xDA, 0x7A, 1, 2], to: try socket.localAddress)
        let counted = await eventually { driver.statistics.datagramsFromOtherAddresses == 1 }
        #expect(counted)
        #expect(driver.connectionStatistics.packetsReceived == 0)
        let helloSent = await eventually { (try? silentPeer.receive()) != nil }
        #expect(helloSent, "the client's HELLO never reached its peer")
    }
}
