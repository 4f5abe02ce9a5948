import Testing
@testable import Datagram

/// RFC 9002 section 6.2 at exact instants. After the scripted handshake the client has
/// smoothed RTT 100 ms and variance 50 ms, so PTO = 100 + 4 · 50 + 25 = 325 ms.
@Suite("Probe timeout: nothing early, a probe on time, then doubled backoff up to the cap")
struct ProbeTimeoutTests {
    /// Specs/reliability.md, "The connection is a state machine, not a socket": No clock, no socket: datagrams,
    /// messages and time are fed in, so every timing rule is checked at exact instants.
    /// Specs/reliability.md, "Round-trip time and the probe timeout": On a PTO one probe (the oldest unacknowledged
    /// fragment in a new packet, else a PING) goes out even if the congestion window is full; the timeout doubles up
    /// to `maximumProbeTimeout`; a PTO declares nothing lost.
    @Test("probe at PTO, not at PTO − 1 ms; doubled after; capped at the maximum")
    func probeEdges() {
        var configuration = Connection.Configuration.rfc9002
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

    /// Specs/reliability.md, "Round-trip time and the probe timeout": On a PTO one probe (the oldest unacknowledged
    /// fragment in a new packet, else a PING) goes out even if the congestion window is full; the timeout doubles up
    /// to `maximumProbeTimeout`; a PTO declares nothing lost.
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

    /// Specs/reliability.md, "Round-trip time and the probe timeout": After `maximumProbeCount` PTOs in a row: closed
    /// with `probeTimeout`; an acknowledgement of something new resets the count.
    /// Specs/reliability.md, "Staying alive and noticing death": Every way a connection ends is one `Event.closed`;
    /// no reliable message is lost without the application being able to take it back.
    @Test("after maximumProbeCount unanswered probe timeouts, the last one fully backed off, it closes")
    func givesUp() {
        var configuration = Connection.Configuration.rfc9002
        configuration.maximumProbeCount = 3
        configuration.maximumProbeTimeout = .milliseconds(1000)   // 325, 650, then capped at 1000
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

    /// Specs/wire-format.md, section 6: Handshake timing: initial RTT 333 ms; the client's first probe timeout 999
    /// ms, then doubling; the server's 1001 ms; the client gives up by probes or at its idle timeout, which runs from
    /// the first HELLO.
    /// Specs/reliability.md, "Round-trip time and the probe timeout": After `maximumProbeCount` PTOs in a row: closed
    /// with `probeTimeout`; an acknowledgement of something new resets the count.
    /// Specs/reliability.md, "Handshake with a cookie": A stateless COOKIE no larger than the HELLO; the HELLO
    /// retried on its PTO; the WELCOME repeated by the probe rule; the COOKIE never recorded; a RESET closes with
    /// `reset` and hands back what was not acknowledged.
    @Test("the client retries HELLO with backoff and gives up the same way")
    func handshakeRetry() {
        var configuration = Connection.Configuration.rfc9002
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

    /// Specs/wire-format.md, section 6: Handshake timing: initial RTT 333 ms; the client's first probe timeout 999
    /// ms, then doubling; the server's 1001 ms; the client gives up by probes or at its idle timeout, which runs from
    /// the first HELLO.
    /// Specs/wire-format.md, section 7: Giving up an established connection (idle timeout, unanswered probes) sends
    /// CLOSE 1; a client whose handshake never completed sends nothing.
    /// Specs/reliability.md, "Handshake with a cookie": A stateless COOKIE no larger than the HELLO; the HELLO
    /// retried on its PTO; the WELCOME repeated by the probe rule; the COOKIE never recorded; a RESET closes with
    /// `reset` and hands back what was not acknowledged.
    /// Specs/reliability.md, "Staying alive and noticing death": Nothing valid for `idleTimeout`: closed with
    /// `idleTimeout` and CLOSE 1; the timer runs from creation.
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

    /// Specs/reliability.md, "Acknowledgements": A lone packet is acknowledged within `maximumAckDelay` (2 ms by
    /// default); at once for every second ack-eliciting packet, one out of order, and a duplicate.
    /// Specs/reliability.md, "Round-trip time and the probe timeout": PTO = smoothed + max(4 × variation, 1 ms) + the
    /// peer's maximum ack delay, floored; initial RTT 333 ms, so 999 ms (client handshake) and 1001 ms (server).
    @Test("the project's defaults: 2 ms ack delay and probe floor, so PTO = 100 + 200 + 2 ms here")
    func projectDefaults() throws {
        #expect(Connection.Configuration().maximumAckDelay == .milliseconds(2))
        #expect(Connection.Configuration().minimumProbeTimeout == .milliseconds(2))
        var (client, server) = Script.establishedPair(Connection.Configuration())
        try client.send([1], at: .ms(100))
        let data = Script.transmitAll(&client, at: .ms(100))
        #expect(client.nextDeadline == .ms(402))
        server.handleDatagram(data[0], at: .ms(150))
        #expect(server.nextDeadline == .ms(152), "a lone packet is acknowledged 2 ms later")
    }

    @Test("a path with a millisecond RTT is not given up after a second of silence")
    func tinyRTTIsNotAbandonedQuickly() throws {
        var client = Connection(role: .client, id: Script.id, now: .ms(0))
        var server = Connection(role: .server, id: Script.id, now: .ms(0))
        server.handleDatagram(client.pollTransmit(at: .ms(0))!, at: .ms(0.1))
        client.handleDatagram(server.pollTransmit(at: .ms(0.1))!, at: .ms(0.2))
        try client.send([1], at: .ms(1))
        _ = Script.transmitAll(&client, at: .ms(1))
        #expect(client.statistics.probeTimeout < .milliseconds(5))
        while let deadline = client.nextDeadline, deadline < .ms(9_000) {
            client.handleTimeout(at: deadline)
            _ = Script.transmitAll(&client, at: deadline)
        }
        #expect(client.state == .established, "eight quick probes alone do not end it")
        #expect(client.statistics.probeTimeouts >= 8)
    }
}
