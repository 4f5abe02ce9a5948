import Testing
@testable import Datagram

/// RFC 9002 section 6.2 at exact instants. After the scripted handshake the client has
/// smoothed RTT 100 ms and variance 50 ms, so PTO = 100 + 4 · 50 + 25 = 325 ms.
@Suite("Probe timeout: nothing early, a probe on time, then doubled backoff up to the cap")
struct ProbeTimeoutTests {
    @Test("probe at PTO, not at PTO − 1 ms; doubled after; capped at the maximum")
    func probeEdges() {
        var configuration = Configuration()
        configuration.maximumProbeTimeout = .milliseconds(1000)
        var (client, _) = Script.establishedPair(configuration)
        try! client.send([1, 2, 3], at: .ms(100))
        let original = Script.transmitAll(&client, at: .ms(100))
        #expect(original.count == 1)
        #expect(client.statistics.probeTimeout == .milliseconds(325))
        #expect(client.nextDeadline == .ms(425))

        client.handleTimeout(at: .ms(424))
        #expect(client.pollTransmit(at: .ms(424)) == nil)

        client.handleTimeout(at: .ms(425))
        let probe = Script.transmitAll(&client, at: .ms(425))
        #expect(probe.count == 1)
        #expect(Script.fragment(probe[0]) == Script.fragment(original[0]), "the same fragment ...")
        #expect(Script.packet(probe[0]).header.packetNumber != Script.packet(original[0]).header.packetNumber,
                "... in a new packet")
        #expect(client.nextDeadline == .ms(425 + 650), "backoff doubles")

        client.handleTimeout(at: .ms(1074))
        #expect(client.pollTransmit(at: .ms(1074)) == nil)
        client.handleTimeout(at: .ms(1075))
        #expect(Script.transmitAll(&client, at: .ms(1075)).count == 1)
        #expect(client.nextDeadline == .ms(1075 + 1000), "1300 ms capped at 1000 ms")
        #expect(client.statistics.probeTimeouts == 2)
    }

    @Test("with nothing to retransmit, the probe is a PING")
    func pingProbe() {
        var (client, server) = Script.establishedPair()
        try! client.send([9], at: .ms(100))
        let data = Script.transmitAll(&client, at: .ms(100))
        server.handleDatagram(data[0], at: .ms(150))
        let ack = Script.transmitAll(&server, at: .ms(175))
        client.handleDatagram(ack[0], at: .ms(200))
        #expect(client.isIdle)
        // A keepalive PING then goes unanswered; its probe is a PING too.
        let keepalive = client.nextDeadline!
        client.handleTimeout(at: keepalive)
        let ping = Script.transmitAll(&client, at: keepalive)
        #expect(ping.map { Script.packet($0).type } == [.ping])
        let deadline = client.nextDeadline!
        client.handleTimeout(at: deadline)
        #expect(Script.transmitAll(&client, at: deadline).map { Script.packet($0).type } == [.ping])
    }

    @Test("after maximumProbeCount unanswered probe timeouts the connection closes")
    func givesUp() {
        var configuration = Configuration()
        configuration.maximumProbeCount = 3
        var (client, _) = Script.establishedPair(configuration)
        try! client.send([1], at: .ms(100))
        _ = Script.transmitAll(&client, at: .ms(100))
        var fired = 0
        while !client.isClosed, let deadline = client.nextDeadline {
            client.handleTimeout(at: deadline)
            _ = Script.transmitAll(&client, at: deadline)
            fired += 1
        }
        #expect(fired == 3)
        #expect(client.state == .closed(.probeTimeout))
        #expect(Script.events(&client).contains(.closed(.probeTimeout)))
        #expect(client.takeUnacknowledgedMessages() == [[1]])
    }

    @Test("the client retries HELLO with backoff and gives up the same way")
    func handshakeRetry() {
        var configuration = Configuration()
        configuration.maximumProbeCount = 4
        configuration.idleTimeout = .seconds(60)
        var client = Connection(role: .client, id: Script.id, configuration: configuration, now: .ms(0))
        #expect(Script.transmitAll(&client, at: .ms(0)).map { Script.packet($0).type } == [.hello])
        // Initial RTT 333 ms, variance 166.5 ms, no ack delay during the handshake: PTO 999 ms.
        #expect(client.nextDeadline == .ms(999))
        client.handleTimeout(at: .ms(998))
        #expect(client.pollTransmit(at: .ms(998)) == nil)
        client.handleTimeout(at: .ms(999))
        #expect(Script.transmitAll(&client, at: .ms(999)).map { Script.packet($0).type } == [.hello])
        #expect(client.nextDeadline == .ms(999 + 1998))
        while !client.isClosed, let deadline = client.nextDeadline {
            client.handleTimeout(at: deadline)
            _ = Script.transmitAll(&client, at: deadline)
        }
        #expect(client.state == .closed(.probeTimeout))
        #expect(Script.events(&client) == [.closed(.probeTimeout)])
    }

    @Test("a client that never hears from the server gives up at the idle timeout, without a CLOSE")
    func silentServer() {
        var client = Connection(role: .client, id: Script.id, now: .ms(0))
        var sent = Script.transmitAll(&client, at: .ms(0)).map { Script.packet($0).type }
        while !client.isClosed, let deadline = client.nextDeadline {
            client.handleTimeout(at: deadline)
            sent += Script.transmitAll(&client, at: deadline).map { Script.packet($0).type }
            if deadline == .ms(9_999.999) { #expect(!client.isClosed) }
        }
        #expect(client.state == .closed(.idleTimeout))
        #expect(Script.events(&client) == [.closed(.idleTimeout)])
        #expect(sent.allSatisfy { $0 == .hello }, "HELLO retries only; no CLOSE to a server that never answered")
        #expect(client.statistics.probeTimeouts == 3, "PTOs at 1 s, 3 s and 7 s, then idle at 10 s")
    }
}
