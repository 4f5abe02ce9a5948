@testable import Datagram
import LibCrypto
import Noise
import Testing

/// The SHOULDs of Specs/noise.md section 5.3 (Specs/wire-format.md section 10.3): a sending key also
/// rotates after 10 minutes of use, not only after 2^20 packets, and a connection closes once 2^36
/// sealed packets have failed to open (the forgery limit), both lowered here through `Sealing`.
@Suite("Sealed key limits")
struct SealedKeyLimitTests {
    static let crypto = LibCryptoNoise()
    static let clientKey = try! crypto.keyPair(privateKey: Array(0x00...0x1F))
    static let relayKey = try! crypto.keyPair(privateKey: Array(0x40...0x5F))
    static let address: [UInt8] = [10, 0, 0, 1, 0xC0, 0x01]

    /// A client and a server connection, handshake done, both sealing with `adjust` applied.
    static func established(_ adjust: (inout Sealing) -> Void) -> (client: Connection, server: Connection) {
        func configuration(_ key: NoiseKeyPair) -> Connection.Configuration {
            var configuration = Connection.Configuration.rfc9002
            var sealing = Sealing(crypto: crypto, staticKeyPair: key)
            adjust(&sealing)
            configuration.sealing = sealing
            return configuration
        }
        var client = Connection(role: .client, id: Script.id, configuration: configuration(clientKey), now: .ms(0), firstPacketNumber: 100)
        let jar = CookieJar(secret: (1, 2))
        let first = client.pollTransmit(at: .ms(0))!
        guard case let .reply(cookie) = jar.respond(to: first, from: address, at: .ms(10)) else { fatalError("no cookie") }
        client.handleDatagram(cookie, at: .ms(20))
        let hello = client.pollTransmit(at: .ms(20))!
        var server = Connection(role: .server, id: Script.id, configuration: configuration(relayKey), now: .ms(30), firstPacketNumber: 5000)
        server.handleDatagram(hello, at: .ms(30))
        client.handleDatagram(server.pollTransmit(at: .ms(30))!, at: .ms(40))
        server.handleDatagram(client.pollTransmit(at: .ms(40))!, at: .ms(50))
        for datagram in Script.transmitAll(&server, at: .ms(100)) { client.handleDatagram(datagram, at: .ms(110)) }
        Script.drainEvents(&client)
        Script.drainEvents(&server)
        return (client, server)
    }

    /// Specs/wire-format.md, section 10.3: with a key age of 1 s and the packet interval untouched
    /// (2^20), a client that sends one message every 400 ms for 5 s rotates its sending key about
    /// every second (a key older than that rotates before it seals the next packet, so here every 1.2 s).
    /// The server follows each rotation, every message arrives in order, and nothing
    /// fails to open. The default age is 10 minutes.
    @Test("a sending key rotates after its age limit even when few packets use it")
    func keyRotatesWithAge() throws {
        #expect(Sealing.defaultRekeyAge == .seconds(600))
        var (client, server) = Self.established { $0.rekeyAge = .seconds(1) }
        var delivered: [[UInt8]] = []
        var now = 200.0
        for index in 0..<13 {
            try client.send([UInt8(index)], at: .ms(now))
            for _ in 0..<40 {
                client.handleTimeout(at: .ms(now))
                server.handleTimeout(at: .ms(now))
                for datagram in Script.transmitAll(&client, at: .ms(now)) { server.handleDatagram(datagram, at: .ms(now + 1)) }
                for datagram in Script.transmitAll(&server, at: .ms(now + 1)) { client.handleDatagram(datagram, at: .ms(now + 2)) }
                delivered += Script.events(&server).compactMap { if case let .message(bytes, _) = $0 { bytes } else { nil } }
                now += 10
            }
        }
        #expect(delivered == (0..<13).map { [UInt8($0)] })
        #expect(client.statistics.keyUpdatesSent == 4, "one rotation per 1.2 s of use (the first packet after each second)")
        #expect(server.statistics.keyUpdatesReceived == client.statistics.keyUpdatesSent)
        #expect(server.statistics.unopenedDropped == 0)
        #expect(client.statistics.unopenedDropped == 0)
    }

    /// Specs/wire-format.md, section 10.3: with the limit lowered to 8, seven packets that do not
    /// open are dropped and counted and the connection lives on. The eighth closes it with
    /// `tooManyFailedOpenings` and CLOSE code 2 (sealed under the old keys, which still work for the
    /// honest peer). The client then reconnects with a new handshake. The default limit is 2^36.
    @Test("a connection closes once the limit of packets that failed to open is reached")
    func closesAtTheForgeryLimit() throws {
        #expect(Sealing.defaultMaximumFailedOpenings == 1 << 36)
        var (client, server) = Self.established { $0.maximumFailedOpenings = 8 }
        try client.send(Array("hello".utf8), at: .ms(200))
        let genuine = Script.transmitAll(&client, at: .ms(200))[0]
        for attempt in 1...8 {
            var forged = genuine
            forged[forged.count - 1 - attempt] ^= 0x5A
            Packet.sealChecksum(&forged)
            server.handleDatagram(forged, at: .ms(200 + Double(attempt)))
            #expect(server.statistics.unopenedDropped == attempt)
            #expect(server.isClosed == (attempt == 8), "attempt \(attempt)")
        }
        #expect(Script.events(&server).contains(.closed(.tooManyFailedOpenings)))
        let close = Script.transmitAll(&server, at: .ms(300))
        #expect(close.count == 1)
        client.handleDatagram(close[0], at: .ms(310))
        #expect(client.isClosed)
        #expect(Script.events(&client).contains(.closed(.peer(code: .protocolError))))
    }
}
