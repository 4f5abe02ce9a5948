import Testing
@testable import Datagram

@Suite("Handshake timing (issue 9.11): initial RTT 333 ms, first probe timeout 999 ms / 1001 ms")
struct HandshakeTimingTests {
    /// The instants at which `connection` sends datagrams of `type` while nothing ever answers.
    func sendTimes(_ connection: inout Connection, of type: PacketType, until end: Timestamp) -> [Timestamp] {
        var times: [Timestamp] = []
        var now = Timestamp.ms(0)
        for _ in 0..<100 {
            for datagram in Script.transmitAll(&connection, at: now) where Script.packet(datagram).type == type {
                times.append(now)
            }
            guard let deadline = connection.nextDeadline, deadline <= end else { break }
            now = deadline
            connection.handleTimeout(at: now)
        }
        return times
    }

    /// Specs/wire-format.md, section 6: Handshake timing: initial RTT 333 ms; the client's first probe timeout 999
    /// ms, then doubling; the server's 1001 ms; the client gives up by probes or at its idle timeout, which runs from
    /// the first HELLO.
    /// Specs/reliability.md, "Round-trip time and the probe timeout": PTO = smoothed + max(4 × variation, 1 ms) + the
    /// peer's maximum ack delay, floored; initial RTT 333 ms, so 999 ms (client handshake) and 1001 ms (server).
    @Test("an unanswered client sends HELLO at 0, then on the probe timeout: 999 ms, then doubling (1998, 3996 ms)")
    func clientHelloRetransmission() {
        var client = Connection(role: .client, id: Script.id, now: .ms(0))
        let times = sendTimes(&client, of: .hello, until: .ms(7_000))
        #expect(times == [.ms(0), .ms(999), .ms(2_997), .ms(6_993)])
    }

    /// Specs/wire-format.md, section 4: The handshake's packet numbers: first HELLO the client's initial number, then
    /// the next; COOKIE and RESET 0; WELCOME the server's initial number, a repeated WELCOME the next.
    /// Specs/wire-format.md, section 6: Handshake timing: initial RTT 333 ms; the client's first probe timeout 999
    /// ms, then doubling; the server's 1001 ms; the client gives up by probes or at its idle timeout, which runs from
    /// the first HELLO.
    /// Specs/reliability.md, "Round-trip time and the probe timeout": PTO = smoothed + max(4 × variation, 1 ms) + the
    /// peer's maximum ack delay, floored; initial RTT 333 ms, so 999 ms (client handshake) and 1001 ms (server).
    /// Specs/reliability.md, "Handshake with a cookie": A stateless COOKIE no larger than the HELLO; the HELLO
    /// retried on its PTO; the WELCOME repeated by the probe rule; the COOKIE never recorded; a RESET closes with
    /// `reset` and hands back what was not acknowledged.
    @Test("a server whose WELCOME is lost repeats it by the probe rule, in a new packet, 1001 ms later")
    func serverWelcomeRetransmission() {
        var forger = Forger(packetNumber: 0)
        var server = Connection(role: .server, id: Script.id, now: .ms(0), firstPacketNumber: 77)
        server.handleDatagram(forger.packet(.hello(cookie: [UInt8](repeating: 0, count: 16))), at: .ms(0))
        var numbers: [UInt32] = []
        var times: [Timestamp] = []
        var now = Timestamp.ms(0)
        for _ in 0..<20 {
            for datagram in Script.transmitAll(&server, at: now) where Script.packet(datagram).type == .welcome {
                times.append(now)
                numbers.append(Script.packet(datagram).header.packetNumber)
            }
            guard let deadline = server.nextDeadline, deadline <= .ms(2_900) else { break }
            now = deadline
            server.handleTimeout(at: now)
        }
        #expect(times == [.ms(0), .ms(1_001)])
        #expect(numbers == [77, 78], "the repeated WELCOME is a new packet")
    }

    /// Specs/wire-format.md, section 4: The handshake's packet numbers: first HELLO the client's initial number, then
    /// the next; COOKIE and RESET 0; WELCOME the server's initial number, a repeated WELCOME the next.
    /// Specs/wire-format.md, section 4: A client MUST NOT record the COOKIE (a WELCOME numbered 0 is not a
    /// duplicate).
    /// Specs/reliability.md, "Handshake with a cookie": A stateless COOKIE no larger than the HELLO; the HELLO
    /// retried on its PTO; the WELCOME repeated by the probe rule; the COOKIE never recorded; a RESET closes with
    /// `reset` and hands back what was not acknowledged.
    @Test("COOKIE carries packet number 0 and is never recorded: a WELCOME that is also packet 0 completes the handshake")
    func cookieIsNeverRecorded() {
        let jar = CookieJar(secret: (1, 2))
        let address: [UInt8] = [192, 0, 2, 1, 0x1F, 0x90]
        var client = Connection(role: .client, id: Script.id, now: .ms(0), firstPacketNumber: 0x1234_5678)
        let hello = client.pollTransmit(at: .ms(0))!
        #expect(Script.packet(hello).header.packetNumber == 0x1234_5678)
        guard case .reply(let cookie) = jar.respond(to: hello, from: address, at: .ms(10)) else {
            Issue.record("expected a COOKIE"); return
        }
        #expect(Script.packet(cookie).header.packetNumber == 0)
        client.handleDatagram(cookie, at: .ms(20))
        let second = client.pollTransmit(at: .ms(20))!
        #expect(Script.packet(second).header.packetNumber == 0x1234_5679)
        #expect(Script.packet(second).header.acknowledgement == nil, "the COOKIE is not acknowledged")
        var server = Connection(role: .server, id: Script.id, now: .ms(30), firstPacketNumber: 0)
        server.handleDatagram(second, at: .ms(30))
        let welcome = server.pollTransmit(at: .ms(30))!
        #expect(Script.packet(welcome).header.packetNumber == 0)
        client.handleDatagram(welcome, at: .ms(40))
        #expect(client.state == .established)
        #expect(client.statistics.duplicatesDropped == 0)
    }
}

@Suite("A COOKIE must answer one of our HELLOs")
struct ForgedCookieTests {
    /// Specs/wire-format.md, section 4: An acknowledgement of a packet this end never sent is ignored; a COOKIE that
    /// acknowledges no HELLO of ours is dropped.
    @Test("a COOKIE whose acknowledgement names no HELLO this client sent is dropped; the real one still works")
    func forgedCookieIgnored() {
        var client = Connection(role: .client, id: Script.id, now: .ms(0), firstPacketNumber: 500)
        _ = client.pollTransmit(at: .ms(0))
        var forger = Forger(packetNumber: 0)
        let forged = forger.packet(.cookie([UInt8](repeating: 0xEE, count: 16)), number: 0, ack: Acknowledgement(largest: 499))
        client.handleDatagram(forged, at: .ms(5))
        #expect(client.statistics.malformedDropped == 1)
        #expect(client.pollTransmit(at: .ms(5)) == nil, "no HELLO with the forged cookie")
        let genuine = forger.packet(.cookie([UInt8](repeating: 0x11, count: 16)), number: 0, ack: Acknowledgement(largest: 500))
        client.handleDatagram(genuine, at: .ms(10))
        guard let hello = client.pollTransmit(at: .ms(10)), case .hello(let cookie) = Script.packet(hello).body else {
            Issue.record("expected a HELLO with the cookie"); return
        }
        #expect(cookie == [UInt8](repeating: 0x11, count: 16))
    }
}
