import Testing
@testable import Datagram

@Suite("Keepalive, idle timeout, close and reset")
struct LivenessTests {
    /// An established client with nothing outstanding: its WELCOME acknowledged at 125 ms by an ACK.
    func quietClient(_ configuration: Connection.Configuration = .rfc9002) -> Connection {
        var (client, _) = Script.establishedPair(configuration)
        client.handleTimeout(at: .ms(125))
        #expect(Script.transmitAll(&client, at: .ms(125)).map { Script.packet($0).type } == [.ack])
        return client
    }

    /// Specs/reliability.md, "Staying alive and noticing death": A PING after `keepaliveInterval` without an
    /// ack-eliciting packet sent.
    @Test("a PING goes out exactly keepaliveInterval after the last ack-eliciting packet")
    func keepalive() {
        var client = quietClient()
        #expect(client.nextDeadline == .ms(2100))
        client.handleTimeout(at: .ms(2099.999))
        #expect(client.pollTransmit(at: .ms(2099.999)) == nil)
        client.handleTimeout(at: .ms(2100))
        #expect(Script.transmitAll(&client, at: .ms(2100)).map { Script.packet($0).type } == [.ping])
    }

    /// Specs/reliability.md, "Staying alive and noticing death": an ack-eliciting packet received counts as much
    /// as one sent: of two idle ends, only the first keepalive pings, and the other only answers.
    @Test("a peer that hears the other's keepalive PINGs answers them and sends none of its own")
    func aPeerHeardPingingSendsNoKeepaliveOfItsOwn() throws {
        var (client, server) = Script.establishedPair()
        var pings = (client: 0, server: 0)
        // Ten seconds of an idle connection, both ends with the same 2 s keepalive, over a path with
        // 100 µs one way: (arrival time, to the server?, datagram).
        var inFlight: [(at: Timestamp, toServer: Bool, bytes: [UInt8])] = []
        let delay = Duration.microseconds(100)
        var now = Timestamp.ms(100)
        while now < .ms(10_000) {
            let timers = [client.nextDeadline, server.nextDeadline].compactMap { $0 }
            now = try #require((timers + inFlight.map(\.at)).min())
            client.handleTimeout(at: now)
            server.handleTimeout(at: now)
            for arrival in inFlight where arrival.at <= now {
                if arrival.toServer { server.handleDatagram(arrival.bytes, at: now) } else { client.handleDatagram(arrival.bytes, at: now) }
            }
            inFlight.removeAll { $0.at <= now }
            for datagram in Script.transmitAll(&client, at: now) {
                if Script.packet(datagram).type == .ping { pings.client += 1 }
                inFlight.append((now + delay, true, datagram))
            }
            for datagram in Script.transmitAll(&server, at: now) {
                if Script.packet(datagram).type == .ping { pings.server += 1 }
                inFlight.append((now + delay, false, datagram))
            }
        }
        #expect(pings.client + pings.server >= 4, "one end pings every 2 s")
        #expect(min(pings.client, pings.server) == 0, "client \(pings.client), server \(pings.server) PINGs")
        #expect(client.state == .established && server.state == .established)
    }

    /// Specs/wire-format.md, section 7: CLOSE codes: 0 normal, 1 idle timeout, 2 protocol error, 3 shutting down, 4
    /// refused.
    /// Specs/wire-format.md, section 7: Giving up an established connection (idle timeout, unanswered probes) sends
    /// CLOSE 1; a client whose handshake never completed sends nothing.
    /// Specs/reliability.md, "Staying alive and noticing death": Nothing valid for `idleTimeout`: closed with
    /// `idleTimeout` and CLOSE 1; the timer runs from creation.
    /// Specs/reliability.md, "Staying alive and noticing death": Every way a connection ends is one `Event.closed`;
    /// no reliable message is lost without the application being able to take it back.
    @Test("idle timeout closes exactly idleTimeout after the last packet received, with CLOSE 1")
    func idleTimeout() {
        var configuration = Connection.Configuration.rfc9002
        configuration.keepaliveInterval = .seconds(60)
        var client = quietClient(configuration)
        #expect(client.nextDeadline == .ms(10_100))
        client.handleTimeout(at: .ms(10_099.999))
        #expect(client.state == .established)
        client.handleTimeout(at: .ms(10_100))
        #expect(client.state == .closed(.idleTimeout))
        #expect(Script.events(&client) == [.closed(.idleTimeout)])
        let close = Script.transmitAll(&client, at: .ms(10_100))
        #expect(close.map { Script.packet($0).body } == [.close(code: .idleTimeout)])
        #expect(client.nextDeadline == nil)
    }

    /// Specs/wire-format.md, section 3: DATA, PING, HELLO, WELCOME are ack-eliciting; ACK, CLOSE, RESET, COOKIE are
    /// not.
    /// Specs/wire-format.md, section 7: CLOSE codes: 0 normal, 1 idle timeout, 2 protocol error, 3 shutting down, 4
    /// refused.
    /// Specs/wire-format.md, section 7: CLOSE is sent once, never retransmitted, never answered.
    /// Specs/reliability.md, "Staying alive and noticing death": Every way a connection ends is one `Event.closed`;
    /// no reliable message is lost without the application being able to take it back.
    @Test("close sends one CLOSE; the peer ends with .peer(code:)")
    func closeByPeer() {
        var (client, server) = Script.establishedPair()
        server.close(code: .shuttingDown, at: .ms(100))
        #expect(Script.events(&server) == [.closed(.local)])
        let out = Script.transmitAll(&server, at: .ms(100))
        #expect(out.map { Script.packet($0).body } == [.close(code: .shuttingDown)])
        client.handleDatagram(out[0], at: .ms(150))
        #expect(Script.events(&client) == [.closed(.peer(code: .shuttingDown))])
        #expect(Script.transmitAll(&client, at: .ms(150)).isEmpty, "a CLOSE is not answered")
        #expect(throws: SendError.connectionClosed) { try client.send([1], at: .ms(150)) }
    }

    /// Specs/wire-format.md, section 3: DATA, PING, HELLO, WELCOME are ack-eliciting; ACK, CLOSE, RESET, COOKIE are
    /// not.
    /// Specs/wire-format.md, section 6: A non-HELLO for unknown state gets a stateless 32-byte RESET; a RESET is
    /// never answered; the client closes with `reset` and its application sends again what was not acknowledged.
    /// Specs/reliability.md, "Handshake with a cookie": A stateless COOKIE no larger than the HELLO; the HELLO
    /// retried on its PTO; the WELCOME repeated by the probe rule; the COOKIE never recorded; a RESET closes with
    /// `reset` and hands back what was not acknowledged.
    /// Specs/reliability.md, "Staying alive and noticing death": Every way a connection ends is one `Event.closed`;
    /// no reliable message is lost without the application being able to take it back.
    @Test("a RESET for our id closes with .reset; unacknowledged messages are handed back")
    func reset() throws {
        var (client, _) = Script.establishedPair()
        try client.send([1], at: .ms(100))
        try client.send([2, 2], at: .ms(100))
        _ = Script.transmitAll(&client, at: .ms(100))
        let reset = Packet(header: PacketHeader(connectionID: Script.id, packetNumber: 0), body: .reset).emit()
        client.handleDatagram(reset, at: .ms(150))
        #expect(Script.events(&client) == [.closed(.reset)])
        #expect(Script.transmitAll(&client, at: .ms(150)).isEmpty, "a RESET is never answered")
        #expect(client.takeUnacknowledgedMessages() == [[1], [2, 2]])
        #expect(client.takeUnacknowledgedMessages().isEmpty)
    }

    /// Specs/wire-format.md, section 2: The connection id is chosen by the client at random and echoed by the server;
    /// a packet with another id changes nothing.
    @Test("a packet for another connection id is counted and ignored")
    func foreignID() {
        var (client, _) = Script.establishedPair()
        let foreign = Packet(header: PacketHeader(connectionID: ConnectionID(rawValue: 1), packetNumber: 0), body: .reset)
        client.handleDatagram(foreign.emit(), at: .ms(150))
        #expect(client.state == .established)
        #expect(client.statistics.malformedDropped == 1)
    }

    @Test("on a very slow path the idle timeout stretches to three probe timeouts (RFC 9000 §10.1)")
    func idleAtLeastThreeProbeTimeouts() {
        var configuration = Connection.Configuration.rfc9002
        configuration.initialRTT = .seconds(2)
        var client = Connection(role: .client, id: Script.id, configuration: configuration, now: .ms(0))
        _ = Script.transmitAll(&client, at: .ms(0))
        // Handshake PTO: 2 s + 4 · 1 s = 6 s; three of them: 18 s, more than the 10 s idle timeout.
        client.handleTimeout(at: .ms(10_000))
        #expect(!client.isClosed)
        while !client.isClosed, let deadline = client.nextDeadline {
            client.handleTimeout(at: deadline)
            _ = Script.transmitAll(&client, at: deadline)
        }
        #expect(client.state == .closed(.idleTimeout))
        #expect(client.statistics.probeTimeouts == 2, "PTOs at 6 s and 16 s (backoff capped at 10 s), idle at 18 s")
    }
}
