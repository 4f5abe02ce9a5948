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

    @Test("the echoed cookie is accepted within its lifetime")
    func valid() throws {
        let cookie = try #require(issuedCookie(in: jar.respond(to: hello(), from: address, at: .ms(1000))))
        #expect(jar.respond(to: hello(cookie: cookie), from: address, at: .ms(11_000)) == .accept(id))
    }

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

    @Test("an expired cookie earns a fresh COOKIE, not a connection")
    func expired() throws {
        let cookie = try #require(issuedCookie(in: jar.respond(to: hello(), from: address, at: .ms(1000))))
        let response = jar.respond(to: hello(cookie: cookie), from: address, at: .ms(11_001))
        let fresh = try #require(issuedCookie(in: response))
        #expect(fresh != cookie)
    }

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
