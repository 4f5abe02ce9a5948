import Foundation
import LibCrypto
import Noise
import Testing
@testable import Datagram

/// Specs/wire-format.md section 10.7: a complete sealed handshake and a sealed DATA packet, made
/// from the fixed keys of Specs/noise.md section 7, exactly as the connections emit them.
enum SealedWireVectors {
    static let id = ConnectionID(rawValue: 0x1234_ABCD)
    static let cookie: [UInt8] = Array(0xC0...0xCF)
    static let payload = Array("hello, sealed world".utf8)

    static func key(_ first: UInt8) -> NoiseKeyPair {
        try! LibCryptoNoise().keyPair(privateKey: (0..<32).map { first + UInt8($0) })
    }

    static func sealing(static first: UInt8, ephemeral: UInt8) -> Connection.Configuration {
        var configuration = Connection.Configuration()
        configuration.sealing = Sealing(crypto: LibCryptoNoise(), staticKeyPair: key(first), ephemeralKeyPair: key(ephemeral))
        return configuration
    }

    /// Name → bytes, in the order of the section.
    static func make() -> [(name: String, bytes: [UInt8])] {
        var client = Connection(role: .client, id: id, configuration: sealing(static: 0x00, ephemeral: 0x20),
                                now: .zero, firstPacketNumber: 0x10)
        _ = client.pollTransmit(at: .zero)!
        let cookiePacket = Packet(header: PacketHeader(connectionID: id, packetNumber: 0,
                                                       acknowledgement: Acknowledgement(largest: 0x10)),
                                  body: .cookie(cookie)).emit()
        client.handleDatagram(cookiePacket, at: .zero)
        let hello = client.pollTransmit(at: .zero)!
        var server = Connection(role: .server, id: id, configuration: sealing(static: 0x40, ephemeral: 0x60),
                                now: .zero, firstPacketNumber: 0x20)
        server.handleDatagram(hello, at: .zero)
        let welcome = server.pollTransmit(at: .zero)!
        client.handleDatagram(welcome, at: .zero)
        let finish = client.pollTransmit(at: .zero)!
        _ = try! client.send(payload, at: .zero)
        let data = client.pollTransmit(at: .zero)!
        return [("HELLO+1", hello), ("WELCOME+2", welcome), ("FINISH", finish), ("sealed-DATA", data)]
    }
}

/// The `#### 10.7.x NAME (N bytes)` hex blocks of Specs/wire-format.md.
private func sealedSpecVectors() throws -> [String: [UInt8]] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("Specs/wire-format.md"), encoding: .utf8)
    var vectors: [String: [UInt8]] = [:]
    var name: String?
    var hex: [String]?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("#### 10.7.") {
            name = String(line.split(separator: " ")[2])
        } else if line == "```", let current = name {
            if let lines = hex {
                vectors[current] = lines.joined(separator: " ").split(separator: " ").compactMap { UInt8($0, radix: 16) }
                hex = nil
                name = nil
            } else {
                hex = []
            }
        } else if hex != nil {
            hex?.append(String(line))
        }
    }
    return vectors
}

@Suite("Sealed wire vectors")
struct SealedWireVectorTests {
    /// Specs/wire-format.md, section 10.7: the handshake packets and a sealed DATA packet from fixed
    /// keys are byte for byte what the spec shows; the Noise messages inside are Specs/noise.md's 7.4-7.6.
    @Test("section 10.7 shows the sealed handshake and a sealed DATA packet byte for byte")
    func vectors() throws {
        let made = SealedWireVectors.make()
        if ProcessInfo.processInfo.environment["PRINT_SEALED_VECTORS"] == "1" {
            for (name, bytes) in made {
                print("\(name) (\(bytes.count) bytes)")
                for row in stride(from: 0, to: bytes.count, by: 16) {
                    print(bytes[row..<min(row + 16, bytes.count)].map { String(format: "%02x", $0) }.joined(separator: " "))
                }
            }
        }
        let spec = try sealedSpecVectors()
        #expect(Set(spec.keys) == Set(made.map(\.name)))
        for (name, bytes) in made { #expect(spec[name] == bytes, "vector \(name)") }
        // The Noise messages are those of Specs/noise.md section 7 (same keys, same prologue).
        let welcome = made[1].bytes
        #expect(welcome.count == 128)
        #expect(Array(welcome[32..<36]) == [0x67, 0x5d, 0xd5, 0x74])
    }

    /// Specs/wire-format.md, section 10.7: the sealed DATA opens with the relay's keys to the payload.
    @Test("the sealed DATA vector opens to its payload on the relay's side")
    func sealedDataOpens() throws {
        let made = SealedWireVectors.make()
        var server = Connection(role: .server, id: SealedWireVectors.id,
                                configuration: SealedWireVectors.sealing(static: 0x40, ephemeral: 0x60),
                                now: .zero, firstPacketNumber: 0x20)
        server.handleDatagram(made[0].bytes, at: .zero)
        _ = server.pollTransmit(at: .zero)
        server.handleDatagram(made[2].bytes, at: .zero)
        server.handleDatagram(made[3].bytes, at: .zero)
        let messages = Script.events(&server).compactMap { if case let .message(bytes, _) = $0 { bytes } else { nil } }
        #expect(messages == [SealedWireVectors.payload])
    }
}
