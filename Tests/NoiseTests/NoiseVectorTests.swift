import Foundation
import LibCrypto
import Noise
import Testing

/// One vector of Tests/NoiseTests/Vectors/noise-25519-chachapoly.json (the Noise wiki's format).
private struct Vector: Decodable {
    struct Message: Decodable {
        let payload: String
        let ciphertext: String
    }

    let protocol_name: String
    let init_prologue: String
    let init_psks: [String]?
    let init_static: String?
    let init_ephemeral: String?
    let init_remote_static: String?
    let resp_prologue: String
    let resp_psks: [String]?
    let resp_static: String?
    let resp_ephemeral: String?
    let resp_remote_static: String?
    let handshake_hash: String
    let messages: [Message]
}

private func loadVectors() throws -> [Vector] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Vectors/noise-25519-chachapoly.json")
    struct File: Decodable { let vectors: [Vector] }
    return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).vectors
}

/// Plays one vector: both sides from its keys, every message written by one side and read by the
/// other, compared byte for byte.
private func check(_ vector: Vector) throws {
    let parts = vector.protocol_name.split(separator: "_").map(String.init)
    try #require(parts.count == 5 && parts[0] == "Noise" && parts[2] == "25519" && parts[3] == "ChaChaPoly")
    let crypto = LibCryptoNoise(hash: parts[4] == "BLAKE2s" ? .blake2s : .sha256)
    let pattern = try HandshakePattern.named(parts[1])

    func pair(_ hex: String?) throws -> NoiseKeyPair? {
        try hex.map { try crypto.keyPair(privateKey: bytes($0)) }
    }
    var initiator = try HandshakeState(
        pattern: pattern, role: .initiator, prologue: bytes(vector.init_prologue),
        localStatic: pair(vector.init_static), localEphemeral: pair(vector.init_ephemeral),
        remoteStatic: vector.init_remote_static.map(bytes), preSharedKeys: (vector.init_psks ?? []).map(bytes),
        crypto: crypto)
    var responder = try HandshakeState(
        pattern: pattern, role: .responder, prologue: bytes(vector.resp_prologue),
        localStatic: pair(vector.resp_static), localEphemeral: pair(vector.resp_ephemeral),
        remoteStatic: vector.resp_remote_static.map(bytes), preSharedKeys: (vector.resp_psks ?? []).map(bytes),
        crypto: crypto)
    #expect(initiator.protocolName == vector.protocol_name)

    var initiatorSession: NoiseSession?
    var responderSession: NoiseSession?
    for (index, message) in vector.messages.enumerated() {
        let initiatorSends = pattern.isOneWay || index % 2 == 0
        let payload = bytes(message.payload)
        let sent: [UInt8]
        let received: [UInt8]
        if index < pattern.messages.count {
            if initiatorSends {
                sent = try initiator.writeMessage(payload)
                received = try responder.readMessage(sent)
            } else {
                sent = try responder.writeMessage(payload)
                received = try initiator.readMessage(sent)
            }
            if index == pattern.messages.count - 1 {
                #expect(hex(initiator.handshakeHash) == vector.handshake_hash, "\(vector.protocol_name)")
                #expect(hex(responder.handshakeHash) == vector.handshake_hash, "\(vector.protocol_name)")
                initiatorSession = try initiator.split()
                responderSession = try responder.split()
            }
        } else {
            if initiatorSends {
                sent = try initiatorSession!.encrypt(payload)
                received = try responderSession!.decrypt(sent)
            } else {
                sent = try responderSession!.encrypt(payload)
                received = try initiatorSession!.decrypt(sent)
            }
        }
        #expect(hex(sent) == message.ciphertext, "\(vector.protocol_name) message \(index)")
        #expect(received == payload, "\(vector.protocol_name) message \(index)")
    }
    #expect(initiatorSession != nil && responderSession != nil, "\(vector.protocol_name): handshake incomplete")
    #expect(initiatorSession?.handshakeHash == responderSession?.handshakeHash)
}

@Test func everyNoiseVectorMatchesByteForByte() throws {
    let vectors = try loadVectors()
    var checked = 0
    var messages = 0
    var patterns = Set<String>()
    for vector in vectors {
        try check(vector)
        checked += 1
        messages += vector.messages.count
        patterns.insert(vector.protocol_name.split(separator: "_")[1].description)
    }
    print("Noise test vectors: checked \(checked) of \(vectors.count) vectors (\(patterns.count) patterns, "
          + "SHA256 and BLAKE2s; \(messages) messages), every ciphertext and handshake hash byte for byte")
    #expect(checked == 118)
    #expect(checked == vectors.count)
}

@Test func theVectorsCoverXXIKAndXInBothHashes() throws {
    let names = Set(try loadVectors().map(\.protocol_name))
    for pattern in ["XX", "IK", "X"] {
        for hash in ["SHA256", "BLAKE2s"] {
            #expect(names.contains("Noise_\(pattern)_25519_ChaChaPoly_\(hash)"))
        }
    }
    // And every base pattern this implementation knows has a vector.
    for base in HandshakePattern.allBaseNames {
        #expect(names.contains("Noise_\(base)_25519_ChaChaPoly_SHA256"), "\(base)")
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

func bytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0 ..< $0 + 2], as: UTF8.self), radix: 16)! }
}
