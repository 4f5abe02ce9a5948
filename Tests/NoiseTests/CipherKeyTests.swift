import Dispatch
import LibCrypto
import Noise
import Testing

// The key objects a CipherState keeps (NoiseCipherKey): LibCrypto's ChaChaPolyKey (contexts
// initialised with the key once, a nonce per message) must seal and open exactly as ChaChaPoly
// does with the key and the nonce each time (which the RFC 8439 vector pins), in place or not.

private let key = (0..<32).map { UInt8($0 &* 7 &+ 3) }
private let lengths = [0, 1, 15, 16, 17, 63, 64, 65, 255, 1_000, 1_200]
private let nonces: [UInt64] = [0, 1, 2, 0xFFFF_FFFF, 1 << 32, UInt64.max - 1]

private func text(_ count: Int, seed: UInt8 = 0) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed } }

/// Seals with a key object into a new array: ciphertext then tag.
private func seal(_ cipherKey: any NoiseCipherKey, _ plaintext: [UInt8], nonce: UInt64, associatedData: [UInt8]) throws -> [UInt8] {
    var output = [UInt8](repeating: 0, count: plaintext.count + 16)
    try plaintext.withUnsafeBytes { input in
        try associatedData.withUnsafeBytes { ad in
            try output.withUnsafeMutableBytes { out in
                try cipherKey.seal(nonce: nonce, associatedData: ad, input: input,
                                   output: UnsafeMutableRawBufferPointer(rebasing: out[0..<plaintext.count]),
                                   tag: UnsafeMutableRawBufferPointer(rebasing: out[plaintext.count...]))
            }
        }
    }
    return output
}

/// Opens ciphertext-then-tag with a key object in place; returns the buffer (plaintext then the tag
/// as it was) and whether it opened.
private func openInPlace(_ cipherKey: any NoiseCipherKey, _ sealed: [UInt8], nonce: UInt64,
                         associatedData: [UInt8]) -> (bytes: [UInt8], opened: Bool) {
    var buffer = sealed
    let bodyLength = sealed.count - 16
    let opened = buffer.withUnsafeMutableBytes { bytes in
        associatedData.withUnsafeBytes { ad in
            let body = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<bodyLength])
            return (try? cipherKey.open(nonce: nonce, associatedData: ad, input: UnsafeRawBufferPointer(body), output: body,
                                        tag: UnsafeRawBufferPointer(rebasing: bytes[bodyLength...]))) != nil
        }
    }
    return (buffer, opened)
}

@Test func aChaChaPolyKeySealsAsChaChaPolyDoesForEveryLengthAndNonce() throws {
    let cipherKey = try ChaChaPolyKey(key)
    for length in lengths {
        for nonce in nonces {
            for associatedData in [[], text(32, seed: 0xAD)] {
                let plaintext = text(length)
                let expected = try ChaChaPoly.seal(plaintext, key: key, nonce: ChaChaPoly.noiseNonce(nonce),
                                                   associatedData: associatedData)
                #expect(try seal(cipherKey, plaintext, nonce: nonce, associatedData: associatedData) == expected,
                        "length \(length), nonce \(nonce), ad \(associatedData.count)")
                let (opened, ok) = openInPlace(cipherKey, expected, nonce: nonce, associatedData: associatedData)
                #expect(ok && Array(opened.prefix(length)) == plaintext, "length \(length), nonce \(nonce)")
            }
        }
    }
}

@Test func aChaChaPolyKeySealsInPlaceWhenInputAndOutputAreTheSameBytes() throws {
    let cipherKey = try ChaChaPolyKey(key)
    let plaintext = text(1_000)
    var buffer = plaintext + [UInt8](repeating: 0, count: 16)
    try buffer.withUnsafeMutableBytes { bytes in
        let body = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<1_000])
        try cipherKey.seal(nonce: 9, associatedData: UnsafeRawBufferPointer(start: nil, count: 0),
                           input: UnsafeRawBufferPointer(body), output: body,
                           tag: UnsafeMutableRawBufferPointer(rebasing: bytes[1_000...]))
    }
    #expect(buffer == (try ChaChaPoly.seal(plaintext, key: key, nonce: ChaChaPoly.noiseNonce(9))))
}

@Test func aChaChaPolyKeyRefusesAnyAlteredByteAndClearsWhatItDecrypted() throws {
    let cipherKey = try ChaChaPolyKey(key)
    let associatedData = text(32, seed: 1)
    let sealed = try seal(cipherKey, text(100), nonce: 4, associatedData: associatedData)
    for index in [0, 50, 99, 100, 115] {
        var tampered = sealed
        tampered[index] ^= 0x01
        let (bytes, opened) = openInPlace(cipherKey, tampered, nonce: 4, associatedData: associatedData)
        #expect(!opened, "byte \(index)")
        #expect(bytes.prefix(100).allSatisfy { $0 == 0 }, "byte \(index): no unauthenticated plaintext is left")
    }
    #expect(!openInPlace(cipherKey, sealed, nonce: 5, associatedData: associatedData).opened)
    #expect(!openInPlace(cipherKey, sealed, nonce: 4, associatedData: text(32, seed: 2)).opened)
    // The failures left nothing behind in the context: the right packet still opens.
    let (bytes, opened) = openInPlace(cipherKey, sealed, nonce: 4, associatedData: associatedData)
    #expect(opened && Array(bytes.prefix(100)) == text(100))
}

@Test func oneKeyObjectInterleavesNoncesSealsAndOpensWithoutCarryingStateBetweenThem() throws {
    let cipherKey = try ChaChaPolyKey(key)
    let packets = try [7, 3, 1 << 40, 3].map { nonce in
        (nonce, try seal(cipherKey, text(64, seed: UInt8(nonce & 0xFF)), nonce: UInt64(nonce), associatedData: [1, 2]))
    }
    #expect(packets[1].1 == packets[3].1) // same nonce, same text: the same bytes (nothing carried over)
    for (nonce, sealed) in packets.reversed() {
        #expect(sealed == (try ChaChaPoly.seal(text(64, seed: UInt8(nonce & 0xFF)), key: key,
                                               nonce: ChaChaPoly.noiseNonce(UInt64(nonce)), associatedData: [1, 2])))
        #expect(openInPlace(cipherKey, sealed, nonce: UInt64(nonce), associatedData: [1, 2]).opened)
    }
}

@Test func copiesOfACipherStateShareOneKeyObjectSafelyFromManyThreads() throws {
    let cipher = try CipherState(crypto: sha256Noise, key: key)
    let failures = Counter()
    DispatchQueue.concurrentPerform(iterations: 4) { thread in
        let copy = cipher
        for round in 0..<300 {
            let nonce = UInt64(thread * 1_000 + round)
            let plaintext = text(200 + round, seed: UInt8(thread))
            guard let sealed = try? copy.encrypt(plaintext, associatedData: [UInt8(thread)], nonce: nonce),
                  let expected = try? ChaChaPoly.seal(plaintext, key: key, nonce: ChaChaPoly.noiseNonce(nonce),
                                                      associatedData: [UInt8(thread)]),
                  sealed == expected,
                  (try? copy.decrypt(sealed, associatedData: [UInt8(thread)], nonce: nonce)) == plaintext else {
                failures.add()
                continue
            }
        }
    }
    #expect(failures.value == 0)
}

@Test func aRekeyedCopyHasItsOwnNewKeyAndTheCopyTakenBeforeKeepsTheOldOne() throws {
    let old = try CipherState(crypto: sha256Noise, key: key)
    var rekeyed = old
    try rekeyed.rekey()
    let newKey = Array(try ChaChaPoly.seal([UInt8](repeating: 0, count: 32), key: key,
                                           nonce: ChaChaPoly.noiseNonce(UInt64.max)).prefix(32))
    let plaintext = text(40)
    #expect(try old.encrypt(plaintext, nonce: 2) == (try ChaChaPoly.seal(plaintext, key: key, nonce: ChaChaPoly.noiseNonce(2))))
    #expect(try rekeyed.encrypt(plaintext, nonce: 2) == (try ChaChaPoly.seal(plaintext, key: newKey, nonce: ChaChaPoly.noiseNonce(2))))
    #expect(try old.decrypt(try old.encrypt(plaintext, nonce: 3), nonce: 3) == plaintext)
}

@Test func aCipherStateSealsAndOpensInPlaceWithThePacketsOwnHeaderAsAssociatedData() throws {
    let cipher = try CipherState(crypto: sha256Noise, key: key)
    let header = text(32, seed: 0x5A)
    let body = text(500)
    var packet = header + body
    try cipher.encrypt(inPlace: &packet, from: 32, associatedData: 0..<32, nonce: 11)
    #expect(packet == header + (try cipher.encrypt(body, associatedData: header, nonce: 11)))
    var tampered = packet
    tampered[5] ^= 1
    #expect(throws: NoiseError.decryptionFailed) {
        try cipher.decrypt(inPlace: &tampered, from: 32, associatedData: 0..<32, nonce: 11)
    }
    #expect(tampered.count == packet.count && tampered[32...].allSatisfy { $0 == 0 })
    try cipher.decrypt(inPlace: &packet, from: 32, associatedData: 0..<32, nonce: 11)
    #expect(packet == header + body)
    var short = header + [1, 2, 3]
    #expect(throws: NoiseError.decryptionFailed) { try cipher.decrypt(inPlace: &short, from: 32, associatedData: 0..<32, nonce: 1) }
    #expect(throws: NoiseError.nonceExhausted) { try cipher.encrypt(inPlace: &short, from: 32, associatedData: 0..<32, nonce: .max) }
}

/// Primitives that do not make their own key object: CipherState falls back to the default one,
/// which seals through the array `encrypt`/`decrypt` (how a test double keeps working).
private final class ArrayOnlyNoise: NoiseCryptography {
    let base = LibCryptoNoise(hash: .sha256)
    var dhName: String { base.dhName }
    var cipherName: String { base.cipherName }
    var hashName: String { base.hashName }
    var dhLength: Int { base.dhLength }
    var hashLength: Int { base.hashLength }
    func generateKeyPair() throws -> NoiseKeyPair { try base.generateKeyPair() }
    func keyPair(privateKey: [UInt8]) throws -> NoiseKeyPair { try base.keyPair(privateKey: privateKey) }
    func dh(privateKey: [UInt8], publicKey: [UInt8]) throws -> [UInt8] { try base.dh(privateKey: privateKey, publicKey: publicKey) }
    func encrypt(key: [UInt8], nonce: UInt64, associatedData: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        try base.encrypt(key: key, nonce: nonce, associatedData: associatedData, plaintext: plaintext)
    }
    func decrypt(key: [UInt8], nonce: UInt64, associatedData: [UInt8], ciphertext: [UInt8]) throws -> [UInt8] {
        try base.decrypt(key: key, nonce: nonce, associatedData: associatedData, ciphertext: ciphertext)
    }
    func hash(_ data: [UInt8]) -> [UInt8] { base.hash(data) }
    func hmac(key: [UInt8], data: [UInt8]) -> [UInt8] { base.hmac(key: key, data: data) }
}

@Test func primitivesWithoutTheirOwnKeyObjectSealOpenAndRekeyThroughTheDefaultOne() throws {
    var fallback = try CipherState(crypto: ArrayOnlyNoise(), key: key)
    var native = try CipherState(crypto: sha256Noise, key: key)
    for _ in 0..<2 {
        let plaintext = text(300)
        #expect(try fallback.encrypt(plaintext, associatedData: [7], nonce: 5) == (try native.encrypt(plaintext, associatedData: [7], nonce: 5)))
        var packet = text(32) + plaintext
        try fallback.encrypt(inPlace: &packet, from: 32, associatedData: 0..<32, nonce: 6)
        var other = packet
        try native.decrypt(inPlace: &other, from: 32, associatedData: 0..<32, nonce: 6)
        #expect(other == text(32) + plaintext)
        packet[40] ^= 1
        #expect(throws: NoiseError.decryptionFailed) { try fallback.decrypt(inPlace: &packet, from: 32, associatedData: 0..<32, nonce: 6) }
        #expect(packet[32...].allSatisfy { $0 == 0 })
        try fallback.rekey()
        try native.rekey()
    }
}

/// A count several threads add to.
private final class Counter: @unchecked Sendable {
    private let lock = DispatchSemaphore(value: 1)
    private var count = 0
    func add() { lock.wait(); count += 1; lock.signal() }
    var value: Int { lock.wait(); defer { lock.signal() }; return count }
}
