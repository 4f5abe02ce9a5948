@testable import Datagram
import LibCrypto
import Noise
import Testing

/// A sealed session, scripted datagram by datagram (Specs/wire-format.md section 9, Specs/noise.md
/// section 5): the XX handshake on HELLO, WELCOME and FINISH, sealed packets, and each kind of bad
/// input with its one clear outcome.
@Suite("Sealed connections")
struct SealedConnectionTests {
    static let crypto = LibCryptoNoise()
    static let clientKey = try! crypto.keyPair(privateKey: Array(0x00...0x1F))
    static let relayKey = try! crypto.keyPair(privateKey: Array(0x40...0x5F))
    static let address: [UInt8] = [10, 0, 0, 1, 0xC0, 0x01]

    static func configuration(_ key: NoiseKeyPair, rekeyInterval: UInt64 = Sealing.defaultRekeyInterval,
                              check: (@Sendable ([UInt8]) -> PeerKeyDecision)? = nil) -> Connection.Configuration {
        var configuration = Connection.Configuration.rfc9002
        configuration.sealing = Sealing(crypto: crypto, staticKeyPair: key, rekeyInterval: rekeyInterval, checkPeerKey: check)
        return configuration
    }

    /// The handshake up to (not including) the FINISH's arrival.
    struct Handshake {
        var client: Connection
        var server: Connection
        var hello: [UInt8]
        var welcome: [UInt8]
        var finish: [UInt8]
        let jar = CookieJar(secret: (1, 2))
    }

    static func handshake(rekeyInterval: UInt64 = Sealing.defaultRekeyInterval,
                          check: (@Sendable ([UInt8]) -> PeerKeyDecision)? = nil) -> Handshake {
        var client = Connection(role: .client, id: Script.id,
                                configuration: configuration(clientKey, rekeyInterval: rekeyInterval, check: check),
                                now: .ms(0), firstPacketNumber: 100)
        let jar = CookieJar(secret: (1, 2))
        let first = client.pollTransmit(at: .ms(0))!
        guard case let .reply(cookie) = jar.respond(to: first, from: address, at: .ms(10)) else { fatalError("no cookie") }
        client.handleDatagram(cookie, at: .ms(20))
        let hello = client.pollTransmit(at: .ms(20))!
        guard case .accept = jar.respond(to: hello, from: address, at: .ms(30)) else { fatalError("not accepted") }
        var server = Connection(role: .server, id: Script.id,
                                configuration: configuration(relayKey, rekeyInterval: rekeyInterval),
                                now: .ms(30), firstPacketNumber: 5000)
        server.resetToken = jar.resetToken(for: Script.id)
        server.handleDatagram(hello, at: .ms(30))
        let welcome = server.pollTransmit(at: .ms(30))!
        client.handleDatagram(welcome, at: .ms(40))
        let finish = client.pollTransmit(at: .ms(40)) ?? []
        return Handshake(client: client, server: server, hello: hello, welcome: welcome, finish: finish)
    }

    static func established(rekeyInterval: UInt64 = Sealing.defaultRekeyInterval) -> (client: Connection, server: Connection) {
        var shake = handshake(rekeyInterval: rekeyInterval)
        shake.server.handleDatagram(shake.finish, at: .ms(50))
        // The server's ACK of FINISH confirms it to the client.
        for datagram in Script.transmitAll(&shake.server, at: .ms(100)) { shake.client.handleDatagram(datagram, at: .ms(110)) }
        Script.drainEvents(&shake.client)
        Script.drainEvents(&shake.server)
        return (shake.client, shake.server)
    }

    static func messages(_ connection: inout Connection) -> [[UInt8]] {
        Script.events(&connection).compactMap { if case let .message(bytes, _) = $0 { bytes } else { nil } }
    }

    static func resealChecksum(_ bytes: inout [UInt8]) { Packet.sealChecksum(&bytes) }

    /// Specs/wire-format.md, section 10.1: Noise XX rides on an 80-byte HELLO, a 128-byte WELCOME and a 96-byte FINISH; both ends learn the other's static key.
    @Test("the XX handshake rides on an 80-byte HELLO, a 144-byte WELCOME (with the reset token) and a 96-byte FINISH")
    func handshakeSizes() {
        var shake = Self.handshake()
        #expect(shake.hello.count == 80)
        #expect(shake.welcome.count == 144)
        #expect(shake.finish.count == 96)
        #expect(PacketHeader.peek(shake.finish)?.type == .finish)
        #expect(shake.client.state == .established)
        #expect(shake.client.remoteStaticKey == Self.relayKey.publicKey)
        #expect(!shake.server.isHandshakeComplete)
        shake.server.handleDatagram(shake.finish, at: .ms(50))
        #expect(shake.server.isHandshakeComplete)
        #expect(shake.server.remoteStaticKey == Self.clientKey.publicKey)
    }

    /// Specs/wire-format.md, section 10.2: a sealed DATA carries the body encrypted with its 16-byte tag; the text never appears in clear.
    @Test("a sealed message arrives intact, and its text is nowhere in the datagram")
    func sealedMessage() throws {
        var (client, server) = Self.established()
        let text = Array("meet me at noon".utf8)
        try client.send(text, at: .ms(200))
        let datagrams = Script.transmitAll(&client, at: .ms(200))
        #expect(datagrams.count == 1)
        #expect(!datagrams[0].windows(ofCount: text.count).contains { Array($0) == text })
        #expect(datagrams[0].count == 32 + 10 + text.count + 16)
        server.handleDatagram(datagrams[0], at: .ms(250))
        #expect(Self.messages(&server) == [text])
    }

    /// Specs/wire-format.md, section 10.2: a packet that does not open is dropped, counted, never acknowledged and changes no state.
    @Test("a tampered sealed packet is dropped, counted, never acknowledged and changes nothing")
    func tampered() throws {
        var (client, server) = Self.established()
        try client.send(Array("hello".utf8), at: .ms(200))
        var datagram = Script.transmitAll(&client, at: .ms(200))[0]
        datagram[datagram.count - 20] ^= 0x01
        Self.resealChecksum(&datagram)
        let before = server.statistics
        server.handleDatagram(datagram, at: .ms(250))
        #expect(server.statistics.unopenedDropped == before.unopenedDropped + 1)
        #expect(server.statistics.packetsReceived == before.packetsReceived)
        #expect(Self.messages(&server).isEmpty)
        #expect(Script.transmitAll(&server, at: .ms(400)).isEmpty, "nothing acknowledged")
    }

    /// Specs/wire-format.md, section 10.2: a truncated sealed packet does not open: dropped and counted.
    @Test("a truncated sealed packet (tag cut off) is dropped and counted")
    func truncated() throws {
        var (client, server) = Self.established()
        try client.send(Array("hello".utf8), at: .ms(200))
        var datagram = Script.transmitAll(&client, at: .ms(200))[0]
        datagram.removeLast(16)
        Self.resealChecksum(&datagram)
        server.handleDatagram(datagram, at: .ms(250))
        #expect(server.statistics.unopenedDropped == 1)
        #expect(Self.messages(&server).isEmpty)
    }

    /// Specs/wire-format.md, section 10.2: the header (checksum zeroed) is the associated data.
    @Test("a header changed in flight (packet number) does not open: the header is associated data")
    func headerIsAuthenticated() throws {
        var (client, server) = Self.established()
        try client.send(Array("hello".utf8), at: .ms(200))
        var datagram = Script.transmitAll(&client, at: .ms(200))[0]
        datagram[HeaderLayout.packetNumberOffset + 3] &+= 1
        Self.resealChecksum(&datagram)
        server.handleDatagram(datagram, at: .ms(250))
        #expect(server.statistics.unopenedDropped == 1)
    }

    /// Specs/wire-format.md, section 10.2: a replay is a duplicate: dropped, counted, never acknowledged.
    @Test("a replayed sealed packet is a duplicate: dropped, counted, and not acknowledged")
    func replay() throws {
        var (client, server) = Self.established()
        try client.send(Array("once".utf8), at: .ms(200))
        let datagram = Script.transmitAll(&client, at: .ms(200))[0]
        server.handleDatagram(datagram, at: .ms(250))
        #expect(Self.messages(&server).count == 1)
        _ = Script.transmitAll(&server, at: .ms(400))
        server.handleDatagram(datagram, at: .ms(500))
        #expect(server.statistics.duplicatesDropped == 1)
        #expect(Self.messages(&server).isEmpty)
        #expect(Script.transmitAll(&server, at: .ms(500)).isEmpty, "a replay is never acknowledged")
    }

    /// Specs/wire-format.md, section 10.2: sealed packets out of order open (explicit nonce) and are delivered in order.
    @Test("reordered sealed packets are delivered in order")
    func reordered() throws {
        var (client, server) = Self.established()
        for index in 0..<4 { try client.send([UInt8(index)], at: .ms(200)) }
        let datagrams = Script.transmitAll(&client, at: .ms(200))
        #expect(datagrams.count == 4)
        for datagram in datagrams.reversed() { server.handleDatagram(datagram, at: .ms(250)) }
        #expect(Self.messages(&server) == [[0], [1], [2], [3]])
    }

    /// Specs/wire-format.md, section 10.1: sealed packets before FINISH cannot be opened; loss recovery sends them again.
    @Test("sealed packets that arrive before FINISH cannot be opened: dropped, then resent after it")
    func dataBeforeFinish() throws {
        var shake = Self.handshake()
        try shake.client.send(Array("early".utf8), at: .ms(40))
        let data = Script.transmitAll(&shake.client, at: .ms(40))
        shake.server.handleDatagram(data.last!, at: .ms(45))
        #expect(shake.server.statistics.unopenedDropped == 1)
        #expect(Self.messages(&shake.server).isEmpty)
        shake.server.handleDatagram(shake.finish, at: .ms(50))
        var now = 50.0
        var delivered: [[UInt8]] = []
        while delivered.isEmpty, now < 3000 {
            now += 10
            shake.client.handleTimeout(at: .ms(now))
            for datagram in Script.transmitAll(&shake.client, at: .ms(now)) { shake.server.handleDatagram(datagram, at: .ms(now)) }
            for datagram in Script.transmitAll(&shake.server, at: .ms(now)) { shake.client.handleDatagram(datagram, at: .ms(now)) }
            delivered += Self.messages(&shake.server)
        }
        #expect(delivered == [Array("early".utf8)])
    }

    /// Specs/wire-format.md, section 10.1: a FINISH whose message 3 does not read is dropped and counted.
    @Test("a FINISH with a bad message 3 is dropped and counted; the good one still completes")
    func badFinish() {
        var shake = Self.handshake()
        var bad = shake.finish
        bad[40] ^= 0xFF
        Self.resealChecksum(&bad)
        shake.server.handleDatagram(bad, at: .ms(45))
        #expect(shake.server.statistics.handshakeFailures == 1)
        #expect(!shake.server.isHandshakeComplete)
        shake.server.handleDatagram(shake.finish, at: .ms(50))
        #expect(shake.server.isHandshakeComplete)
    }

    /// Specs/wire-format.md, section 10.1: a handshake message fed twice changes nothing; a repeated WELCOME draws FINISH again.
    @Test("a handshake message fed twice changes nothing: the WELCOME again, the FINISH again")
    func handshakeMessagesTwice() {
        var shake = Self.handshake()
        shake.client.handleDatagram(shake.welcome, at: .ms(41))
        #expect(shake.client.statistics.duplicatesDropped == 1)
        #expect(Script.events(&shake.client).filter { $0 == .connected }.count == 1)
        // The repeated WELCOME says the server may not have the FINISH: it goes again, same bytes.
        let again = Script.transmitAll(&shake.client, at: .ms(41)).filter { PacketHeader.peek($0)?.type == .finish }
        #expect(again.count == 1)
        #expect(Array(again[0][32...]) == Array(shake.finish[32...]))
        shake.server.handleDatagram(shake.finish, at: .ms(50))
        shake.server.handleDatagram(again[0], at: .ms(51))
        #expect(shake.server.isHandshakeComplete)
        #expect(shake.server.remoteStaticKey == Self.clientKey.publicKey)
        #expect(shake.server.statistics.handshakeFailures == 0)
        shake.server.handleDatagram(shake.hello, at: .ms(52))
        #expect(shake.server.statistics.handshakeFailures == 0)
    }

    /// Specs/wire-format.md, section 10.1: a HELLO with another message 1 is dropped and counted.
    @Test("a HELLO with another Noise message 1 for the same connection is dropped and counted")
    func helloWithAnotherEphemeral() {
        var shake = Self.handshake()
        var other = shake.hello
        other[60] ^= 0x55
        Self.resealChecksum(&other)
        shake.server.handleDatagram(other, at: .ms(35))
        #expect(shake.server.statistics.handshakeFailures == 1)
    }

    /// Specs/wire-format.md, section 10.1: a rejected relay key closes the client before message 3, with the reason.
    @Test("a rejected relay key stops the client before message 3: closed with the reason, nothing sent")
    func pinRejected() {
        var shake = Self.handshake(check: { _ in .reject("relay key changed") })
        #expect(shake.finish.isEmpty)
        #expect(shake.client.state == .closed(.handshakeFailed("relay key changed")))
        #expect(Script.transmitAll(&shake.client, at: .ms(50)).isEmpty)
    }

    /// Specs/wire-format.md, section 10.5: a sealed client meeting a plaintext WELCOME stops with a reason naming --plaintext.
    @Test("a plaintext WELCOME to a sealed client ends the handshake with a clear reason")
    func plaintextRelay() {
        var client = Connection(role: .client, id: Script.id, configuration: Self.configuration(Self.clientKey), now: .ms(0))
        let jar = CookieJar(secret: (1, 2))
        let first = client.pollTransmit(at: .ms(0))!
        guard case let .reply(cookie) = jar.respond(to: first, from: Self.address, at: .ms(10)) else { return }
        client.handleDatagram(cookie, at: .ms(20))
        let hello = client.pollTransmit(at: .ms(20))!
        var server = Connection(role: .server, id: Script.id, configuration: .rfc9002, now: .ms(30))
        server.handleDatagram(hello, at: .ms(30))
        client.handleDatagram(server.pollTransmit(at: .ms(30))!, at: .ms(40))
        guard case .closed(.handshakeFailed(let reason)) = client.state else {
            Issue.record("expected a handshake failure, got \(client.state)")
            return
        }
        #expect(reason.contains("--plaintext"))
    }

    /// Specs/wire-format.md, section 10.3: keys rotate every few packets under loss, without a pause and without losing anything.
    @Test("keys rotate every few packets under loss, with no pause and nothing lost")
    func rotationUnderLoss() throws {
        var (client, server) = Self.established(rekeyInterval: 3)
        var delivered: [[UInt8]] = []
        var sent = 0
        var count = 0
        var now = 200.0
        for index in 0..<60 { try client.send([UInt8(index)], at: .ms(now)) }
        while delivered.count < 60, now < 20_000 {
            now += 5
            client.handleTimeout(at: .ms(now))
            server.handleTimeout(at: .ms(now))
            for datagram in Script.transmitAll(&client, at: .ms(now)) {
                sent += 1
                if sent % 4 == 0 { continue }   // every fourth datagram lost
                server.handleDatagram(datagram, at: .ms(now + 1))
            }
            for datagram in Script.transmitAll(&server, at: .ms(now + 1)) {
                count += 1
                if count % 5 == 0 { continue }
                client.handleDatagram(datagram, at: .ms(now + 2))
            }
            delivered += Self.messages(&server)
        }
        #expect(delivered == (0..<60).map { [UInt8($0)] })
        #expect(client.statistics.keyUpdatesSent >= 10)
        #expect(server.statistics.keyUpdatesReceived >= 10)
        #expect(server.statistics.keyUpdatesSent >= 1)
        #expect(server.statistics.unopenedDropped == 0)
    }

    /// Specs/wire-format.md, section 10.2: the largest message (65,536 bytes) travels sealed in 58
    /// fragments of at most 1,142 bytes, every datagram within 1,200 bytes.
    @Test("the largest message travels sealed in 58 fragments, none over 1,200 bytes")
    func largestMessageSealed() throws {
        var (client, server) = Self.established()
        let message = (0..<Limits.maximumMessageSize).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try client.send(message, at: .ms(200))
        var delivered: [[UInt8]] = []
        var data = 0
        var now = 200.0
        while delivered.isEmpty, now < 10_000 {
            now += 5
            client.handleTimeout(at: .ms(now))
            for datagram in Script.transmitAll(&client, at: .ms(now)) {
                #expect(datagram.count <= Limits.maximumDatagramSize)
                if PacketHeader.peek(datagram)?.type == .data { data += 1 }
                server.handleDatagram(datagram, at: .ms(now))
            }
            for datagram in Script.transmitAll(&server, at: .ms(now)) { client.handleDatagram(datagram, at: .ms(now)) }
            delivered += Self.messages(&server)
        }
        #expect(delivered == [message])
        #expect(data == Limits.Sealed.maximumFragmentCount)
    }

    /// Specs/wire-format.md, section 10.4: a server without state answers a sealed packet with RESET.
    @Test("a relay that lost the connection answers a sealed packet with RESET; the client closes with .reset")
    func resetAfterCrash() throws {
        var (client, _) = Self.established()
        try client.send(Array("anyone?".utf8), at: .ms(200))
        let datagram = Script.transmitAll(&client, at: .ms(200))[0]
        guard case let .reply(reset) = CookieJar(secret: (1, 2)).respond(to: datagram, from: Self.address, at: .ms(210)) else {
            Issue.record("no RESET")
            return
        }
        #expect(reset.count == 48)
        #expect(reset.count <= datagram.count)
        client.handleDatagram(reset, at: .ms(220))
        #expect(client.state == .closed(.reset))
    }

    /// Specs/wire-format.md, section 10.4: a client that knows a reset token ignores a RESET without
    /// it, or with another (forged on the path, or from a server with another secret): counted.
    @Test("a RESET without the reset token, or with a wrong one, changes nothing")
    func forgedReset() throws {
        var (client, _) = Self.established()
        let plain = Packet(header: PacketHeader(connectionID: Script.id, packetNumber: 0), body: .reset).emit()
        client.handleDatagram(plain, at: .ms(200))
        let wrong = Packet(header: PacketHeader(connectionID: Script.id, packetNumber: 0),
                           body: .resetToken(CookieJar(secret: (9, 9)).resetToken(for: Script.id))).emit()
        client.handleDatagram(wrong, at: .ms(210))
        #expect(client.state == .established)
        #expect(client.statistics.handshakeFailures == 2)
    }
}

extension Array {
    func windows(ofCount count: Int) -> [ArraySlice<Element>] {
        guard count <= self.count else { return [] }
        return (0...(self.count - count)).map { self[$0..<($0 + count)] }
    }
}
