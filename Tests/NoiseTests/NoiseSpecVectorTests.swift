import Foundation
import LibCrypto
import Noise
import Testing

// Specs/noise.md, section 7: the vectors of the proposed client-relay handshake and of a sealed
// private message, from fixed keys. The test reads the hex blocks from the spec itself.

/// The hex blocks of Specs/noise.md section 7, by the heading's name ("XX message 1", ...).
private func specVectors() throws -> [String: [UInt8]] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("Specs/noise.md"), encoding: .utf8)
    var vectors: [String: [UInt8]] = [:]
    var name: String?
    var hexLines: [String]?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("### 7.") {
            name = line.split(separator: " ").dropFirst(2).prefix { !$0.hasPrefix("(") }.joined(separator: " ")
        } else if line == "```", let current = name {
            if let lines = hexLines {
                vectors[current] = try lines.joined(separator: " ").split(separator: " ").map {
                    try #require(UInt8($0, radix: 16), "\(current): \($0)")
                }
                hexLines = nil
                name = nil
            } else {
                hexLines = []
            }
        } else if hexLines != nil {
            hexLines?.append(String(line))
        }
    }
    return vectors
}

private func sequenceKey(from first: UInt8) -> [UInt8] { (0 ..< 32).map { first + UInt8($0) } }

/// Specs/noise.md section 4.3: the proposed prologue of a client-relay handshake.
private func chatPrologue(transport: UInt8, connectionID: UInt32) -> [UInt8] {
    Array("datagram-chat noise".utf8) + [0, 1, 1, transport]
        + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: connectionID >> $0) }
}

/// The HELLO of Specs/chat-protocol.md section 7.1.
private let chatHello = bytes("01010123456789abcdef0005616c69636501000623" + "6c6f626279000863686174" + "20312e30")

/// Computes every vector of the section from the fixed keys.
private func computedVectors() throws -> [String: [UInt8]] {
    let crypto = LibCryptoNoise()
    let clientStatic = try crypto.keyPair(privateKey: sequenceKey(from: 0x00))
    let relayStatic = try crypto.keyPair(privateKey: sequenceKey(from: 0x40))
    let prologue = chatPrologue(transport: 1, connectionID: 0x1234_ABCD)

    var client = try HandshakeState(pattern: .xx, role: .initiator, prologue: prologue, localStatic: clientStatic,
                                    localEphemeral: crypto.keyPair(privateKey: sequenceKey(from: 0x20)), crypto: crypto)
    var relay = try HandshakeState(pattern: .xx, role: .responder, prologue: prologue, localStatic: relayStatic,
                                   localEphemeral: crypto.keyPair(privateKey: sequenceKey(from: 0x60)), crypto: crypto)
    let message1 = try client.writeMessage()
    #expect(try relay.readMessage(message1) == [])
    let message2 = try relay.writeMessage()
    #expect(try client.readMessage(message2) == [])
    #expect(client.remoteStaticKey == relayStatic.publicKey) // what the client pins (section 4.2)
    let message3 = try client.writeMessage()
    #expect(try relay.readMessage(message3) == [])
    #expect(relay.remoteStaticKey == clientStatic.publicKey)
    #expect(client.handshakeHash == relay.handshakeHash)
    var clientSession = try client.split()
    var relaySession = try relay.split()
    let sealedHello = try clientSession.encrypt(chatHello)
    #expect(try relaySession.decrypt(sealedHello) == chatHello)

    let privatePrologue = Array("datagram-chat private".utf8) + [0, 1]
    let privatePayload: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1] + Array("meet me at noon".utf8)
    var seal = try HandshakeState(pattern: .x, role: .initiator, prologue: privatePrologue, localStatic: clientStatic,
                                  localEphemeral: crypto.keyPair(privateKey: sequenceKey(from: 0x80)),
                                  remoteStatic: relayStatic.publicKey, crypto: crypto)
    var open = try HandshakeState(pattern: .x, role: .responder, prologue: privatePrologue, localStatic: relayStatic,
                                  crypto: crypto)
    let sealedPrivate = try seal.writeMessage(privatePayload)
    #expect(try open.readMessage(sealedPrivate) == privatePayload)
    #expect(open.remoteStaticKey == clientStatic.publicKey)

    return [
        "Client-relay prologue": prologue,
        "Client static public key": clientStatic.publicKey,
        "Relay static public key": relayStatic.publicKey,
        "XX message 1": message1,
        "XX message 2": message2,
        "XX message 3": message3,
        "XX handshake hash": client.handshakeHash,
        "First sealed chat message": sealedHello,
        "Sealed private message": sealedPrivate,
    ]
}

@Test func theNoiseSpecShowsExactlyTheComputedVectors() throws {
    let fromSpec = try specVectors()
    let computed = try computedVectors()
    #expect(Set(fromSpec.keys) == Set(computed.keys))
    for (name, value) in computed {
        #expect(fromSpec[name].map(hex) == hex(value), "Specs/noise.md 7: \(name)")
    }
}
