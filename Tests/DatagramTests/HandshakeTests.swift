import Testing
@testable import Datagram

@Suite("Cookie exchange (wire format section 6)")
struct HandshakeTests {
    let jar = CookieJar(secret: (11, 22))
    let address: [UInt8] = [10, 0, 0, 7, 0x30, 0x39]
    let id = ConnectionID(rawValue: 0x5555_AAAA)

    func hello(cookie: [UInt8] = [UInt8](repeating: 0, count: 16), packetNumber: UInt32 = 5) -> [UInt8] {
        Packet(header: PacketHeader(connectionID: id, packetNumber: packetNumber), body: .hello(cookie: cookie)).emit()
    }

    func issuedCookie(in response: StatelessResponse) -> [UInt8]? {
        guard case .reply(let bytes) = response, case .cookie(let cookie) = Script.packet(bytes).body else { return nil }
        return cookie
    }

    /// Specs/wire-format.md, section 4: The handshake's packet numbers: first HELLO the client's initial number, then
    /// the next; COOKIE and RESET 0; WELCOME the server's initial number, a repeated WELCOME the next.
    /// Specs/wire-format.md, section 6: HELLO and COOKIE are 48 bytes: a server never answers with more bytes than it
    /// received.
    /// Specs/wire-format.md, section 6: The COOKIE acknowledges the HELLO (the client's first RTT sample); the
    /// WELCOME acknowledges the HELLO with the cookie.
    /// Specs/reliability.md, "Handshake with a cookie": A stateless COOKIE no larger than the HELLO; the HELLO
    /// retried on its PTO; the WELCOME repeated by the probe rule; the COOKIE never recorded; a RESET closes with
    /// `reset` and hands back what was not acknowledged.
    @Test("a HELLO gets a COOKIE no larger than itself, which acknowledges the HELLO")
    func cookieReply() throws {
        let request = hello()
        let response = jar.respond(to: request, from: address, at: .ms(1000))
        guard case .reply(let reply) = response else { Issue.record("expected a reply"); return }
        #expect(reply.count <= request.count)
        let packet = Script.packet(reply)
        #expect(packet.header.acknowledgement == Acknowledgement(largest: 5))
        #expect(packet.header.packetNumber == 0)
    }

    /// Specs/wire-format.md, section 6: A cookie is good for 10 s and no state is kept before; an expired one gets a
    /// fresh COOKIE; a bad MAC or an issue time in the future is dropped unanswered.
    @Test("the echoed cookie is accepted within its lifetime")
    func valid() throws {
        let cookie = try #require(issuedCookie(in: jar.respond(to: hello(), from: address, at: .ms(1000))))
        #expect(jar.respond(to: hello(cookie: cookie), from: address, at: .ms(11_000)) == .accept(id))
    }

    /// Specs/wire-format.md, section 6: A cookie is good for 10 s and no state is kept before; an expired one gets a
    /// fresh COOKIE; a bad MAC or an issue time in the future is dropped unanswered.
    @Test("a forged cookie, or one from another address or id, is dropped")
    func forged() throws {
        let cookie = try #require(issuedCookie(in: jar.respond(to: hello(), from: address, at: .ms(1000))))
        var tampered = cookie
        tampered[15] ^= 1
        #expect(jar.respond(to: hello(cookie: tampered), from: address, at: .ms(1001)) == .drop(reason: "forged cookie"))
        #expect(jar.respond(to: hello(cookie: cookie), from: [10, 0, 0, 8, 0x30, 0x39], at: .ms(1001))
                == .drop(reason: "forged cookie"))
        let other = CookieJar(secret: (11, 23))
        #expect(other.respond(to: hello(cookie: cookie), from: address, at: .ms(1001)) == .drop(reason: "forged cookie"))
    }

    /// Specs/wire-format.md, section 6: A cookie is good for 10 s and no state is kept before; an expired one gets a
    /// fresh COOKIE; a bad MAC or an issue time in the future is dropped unanswered.
    @Test("an expired cookie earns a fresh COOKIE, not a connection")
    func expired() throws {
        let cookie = try #require(issuedCookie(in: jar.respond(to: hello(), from: address, at: .ms(1000))))
        let response = jar.respond(to: hello(cookie: cookie), from: address, at: .ms(11_001))
        let fresh = try #require(issuedCookie(in: response))
        #expect(fresh != cookie)
    }

    /// Specs/wire-format.md, section 4: The handshake's packet numbers: first HELLO the client's initial number, then
    /// the next; COOKIE and RESET 0; WELCOME the server's initial number, a repeated WELCOME the next.
    /// Specs/wire-format.md, section 6: HELLO and COOKIE are 48 bytes: a server never answers with more bytes than it
    /// received.
    /// Specs/wire-format.md, section 6: A non-HELLO for unknown state gets a stateless 32-byte RESET; a RESET is
    /// never answered; the client closes with `reset` and its application sends again what was not acknowledged.
    /// Specs/reliability.md, "Handshake with a cookie": A stateless COOKIE no larger than the HELLO; the HELLO
    /// retried on its PTO; the WELCOME repeated by the probe rule; the COOKIE never recorded; a RESET closes with
    /// `reset` and hands back what was not acknowledged.
    /// Specs/wire-format.md, section 2: The connection id is chosen by the client at random and echoed by the server;
    /// a packet with another id changes nothing.
    @Test("non-HELLO from an unknown peer gets a 32-byte RESET; a RESET is never answered")
    func resets() {
        let ping = Packet(header: PacketHeader(connectionID: id, packetNumber: 9), body: .ping).emit()
        guard case .reply(let reply) = jar.respond(to: ping, from: address, at: .ms(1)) else {
            Issue.record("expected a RESET"); return
        }
        #expect(reply.count == 32 && reply.count <= ping.count)
        #expect(Script.packet(reply).body == .reset)
        #expect(Script.packet(reply).header.connectionID == id)
        guard case .drop = jar.respond(to: reply, from: address, at: .ms(1)) else {
            Issue.record("a RESET must not be answered"); return
        }
        guard case .drop = jar.respond(to: [0xDA, 0x7A, 1], from: address, at: .ms(1)) else {
            Issue.record("garbage must be dropped"); return
        }
    }

    /// Specs/wire-format.md, section 6: The COOKIE acknowledges the HELLO (the client's first RTT sample); the
    /// WELCOME acknowledges the HELLO with the cookie.
    /// Specs/reliability.md, "Handshake with a cookie": A stateless COOKIE no larger than the HELLO; the HELLO
    /// retried on its PTO; the WELCOME repeated by the probe rule; the COOKIE never recorded; a RESET closes with
    /// `reset` and hands back what was not acknowledged.
    @Test("a client completes COOKIE → HELLO(cookie) → WELCOME and gets an RTT sample from the COOKIE")
    func clientSide() throws {
        var client = Connection(role: .client, id: id, now: .ms(0))
        let first = client.pollTransmit(at: .ms(0))!
        guard case .reply(let cookieReply) = jar.respond(to: first, from: address, at: .ms(20)) else {
            Issue.record("expected a COOKIE"); return
        }
        client.handleDatagram(cookieReply, at: .ms(40))
        #expect(client.statistics.latestRTT == .milliseconds(40))
        let second = client.pollTransmit(at: .ms(40))!
        #expect(jar.respond(to: second, from: address, at: .ms(60)) == .accept(id))
        var server = Connection(role: .server, id: id, now: .ms(60))
        server.handleDatagram(second, at: .ms(60))
        #expect(Script.events(&server) == [.connected])
        let welcome = server.pollTransmit(at: .ms(60))!
        #expect(Script.packet(welcome).type == .welcome)
        client.handleDatagram(welcome, at: .ms(80))
        #expect(client.state == .established)
        #expect(Script.events(&client) == [.connected])
    }
}
