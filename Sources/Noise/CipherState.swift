/// A CipherState (Noise section 5.1): a key k (or none) and a 64-bit nonce n.
///
/// Without a key, encryption and decryption return their input unchanged, as Noise defines it
/// (the start of a handshake). A transport session's cipher states always have a key.
public struct CipherState: Sendable {
    /// The largest nonce, 2^64-1, which Noise reserves: never used for a message.
    public static let reservedNonce = UInt64.max
    /// The key length of every Noise cipher.
    public static let keyLength = 32
    /// The authentication tag every Noise cipher appends.
    public static let tagLength = 16

    let crypto: any NoiseCryptography
    /// The key, prepared once (`NoiseCryptography.makeCipherKey`): shared by this value's copies, and
    /// replaced (never changed) by `rekey()`, so a copy taken before a rekey keeps the old key.
    private(set) var cipherKey: (any NoiseCipherKey)?
    /// The nonce the next `encrypt`/`decrypt` uses.
    public private(set) var nonce: UInt64 = 0

    /// InitializeKey(key) with a 32-byte key, or no key.
    public init(crypto: any NoiseCryptography, key: [UInt8]?) throws(NoiseError) {
        if let key, key.count != Self.keyLength {
            throw .invalidKeyLength(expected: Self.keyLength, actual: key.count)
        }
        self.crypto = crypto
        if let key { cipherKey = try Self.prepare(key, crypto: crypto) }
    }

    private static func prepare(_ key: [UInt8], crypto: any NoiseCryptography) throws(NoiseError) -> any NoiseCipherKey {
        do {
            return try crypto.makeCipherKey(key)
        } catch {
            throw .cryptographyFailure("key: \(error)")
        }
    }

    /// HasKey().
    public var hasKey: Bool { cipherKey != nil }

    /// SetNonce(nonce): for transports that carry the nonce in the packet (a UDP packet number)
    /// rather than counting it; see also `encrypt(nonce:...)` and `decrypt(nonce:...)`.
    public mutating func setNonce(_ nonce: UInt64) {
        self.nonce = nonce
    }

    /// EncryptWithAd(ad, plaintext): seals with the current nonce, then increments it. Throws
    /// `nonceExhausted` once the nonce has reached 2^64-1.
    public mutating func encrypt(_ plaintext: [UInt8], associatedData: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        guard cipherKey != nil else { return plaintext }
        let ciphertext = try encrypt(plaintext, associatedData: associatedData, nonce: nonce)
        nonce += 1
        return ciphertext
    }

    /// DecryptWithAd(ad, ciphertext): opens with the current nonce and increments it only on
    /// success; on failure nothing changes and `decryptionFailed` is thrown.
    public mutating func decrypt(_ ciphertext: [UInt8], associatedData: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        guard cipherKey != nil else { return ciphertext }
        let plaintext = try decrypt(ciphertext, associatedData: associatedData, nonce: nonce)
        nonce += 1
        return plaintext
    }

    /// Seals with an explicit nonce and changes nothing: for a transport that sends the nonce
    /// with each packet (and so never reuses one: that is the caller's duty). Refuses 2^64-1.
    /// Without a key, returns the plaintext (as EncryptWithAd does).
    public func encrypt(_ plaintext: [UInt8], associatedData: [UInt8] = [], nonce: UInt64) throws(NoiseError) -> [UInt8] {
        guard let cipherKey else { return plaintext }
        guard nonce != Self.reservedNonce else { throw .nonceExhausted }
        guard plaintext.count <= Int(UInt32.max) else {
            throw .messageTooLong(length: plaintext.count, limit: Int(UInt32.max))
        }
        var buffer = plaintext
        buffer.append(contentsOf: repeatElement(0, count: Self.tagLength))
        do {
            try associatedData.withUnsafeBytes { associatedData in
                try buffer.withUnsafeMutableBytes { bytes in
                    try Self.seal(cipherKey, nonce: nonce, associatedData: associatedData, textAndTag: bytes)
                }
            }
        } catch {
            throw .cryptographyFailure("encrypt: \(error)")
        }
        return buffer
    }

    /// Opens with an explicit nonce and changes nothing: for packets that carry their nonce, where
    /// the caller keeps the replay window. Refuses 2^64-1; any authentication failure (including a
    /// ciphertext shorter than the tag) is `decryptionFailed`.
    public func decrypt(_ ciphertext: [UInt8], associatedData: [UInt8] = [], nonce: UInt64) throws(NoiseError) -> [UInt8] {
        guard let cipherKey else { return ciphertext }
        guard nonce != Self.reservedNonce else { throw .nonceExhausted }
        guard ciphertext.count >= Self.tagLength else { throw .decryptionFailed }
        var buffer = ciphertext
        do {
            try associatedData.withUnsafeBytes { associatedData in
                try buffer.withUnsafeMutableBytes { bytes in
                    try Self.open(cipherKey, nonce: nonce, associatedData: associatedData, textAndTag: bytes)
                }
            }
        } catch {
            throw .decryptionFailed
        }
        buffer.removeLast(Self.tagLength)
        return buffer
    }

    /// Seals the text in `textAndTag` (all but its last 16 bytes) in place, the tag into the last 16.
    private static func seal(_ key: any NoiseCipherKey, nonce: UInt64, associatedData: UnsafeRawBufferPointer,
                             textAndTag bytes: UnsafeMutableRawBufferPointer) throws {
        let textEnd = bytes.count - tagLength
        let text = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<textEnd])
        try key.seal(nonce: nonce, associatedData: associatedData, input: UnsafeRawBufferPointer(text), output: text,
                     tag: UnsafeMutableRawBufferPointer(rebasing: bytes[textEnd...]))
    }

    /// Opens the ciphertext in `textAndTag` (all but its last 16 bytes, the tag) in place.
    private static func open(_ key: any NoiseCipherKey, nonce: UInt64, associatedData: UnsafeRawBufferPointer,
                             textAndTag bytes: UnsafeMutableRawBufferPointer) throws {
        let textEnd = bytes.count - tagLength
        let text = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<textEnd])
        try key.open(nonce: nonce, associatedData: associatedData, input: UnsafeRawBufferPointer(text), output: text,
                     tag: UnsafeRawBufferPointer(rebasing: bytes[textEnd...]))
    }

    /// Seals `buffer[start...]` in place under an explicit nonce, with `buffer[associatedData]` (which
    /// must end at or before `start`) as associated data, and appends the tag: no copy of the text.
    /// Changes nothing in the state; refuses 2^64-1. Without a key, leaves the buffer as it is. On a
    /// thrown error the bytes from `start` on are unspecified (the caller drops the packet).
    public func encrypt(inPlace buffer: inout [UInt8], from start: Int, associatedData: Range<Int>,
                        nonce: UInt64) throws(NoiseError) {
        guard let cipherKey else { return }
        guard nonce != Self.reservedNonce else { throw .nonceExhausted }
        guard associatedData.lowerBound >= 0, associatedData.upperBound <= start, start <= buffer.count else {
            throw .cryptographyFailure("encrypt: associated data \(associatedData) and text from \(start) in \(buffer.count) bytes")
        }
        guard buffer.count - start <= Int(UInt32.max) else {
            throw .messageTooLong(length: buffer.count - start, limit: Int(UInt32.max))
        }
        buffer.append(contentsOf: repeatElement(0, count: Self.tagLength))
        do {
            try buffer.withUnsafeMutableBytes { bytes in
                try Self.seal(cipherKey, nonce: nonce, associatedData: UnsafeRawBufferPointer(rebasing: bytes[associatedData]),
                              textAndTag: UnsafeMutableRawBufferPointer(rebasing: bytes[start...]))
            }
        } catch {
            buffer.removeLast(Self.tagLength)
            throw .cryptographyFailure("encrypt: \(error)")
        }
    }

    /// Opens `buffer[start...]` (ciphertext, then the tag) in place under an explicit nonce, with
    /// `buffer[associatedData]` (ending at or before `start`) as associated data, and removes the
    /// tag: afterwards `buffer[start...]` is the plaintext. Changes nothing in the state; refuses
    /// 2^64-1. Any authentication failure is `decryptionFailed`, and then the bytes from `start` on
    /// are cleared (never unauthenticated plaintext). Without a key, leaves the buffer as it is.
    public func decrypt(inPlace buffer: inout [UInt8], from start: Int, associatedData: Range<Int>,
                        nonce: UInt64) throws(NoiseError) {
        guard let cipherKey else { return }
        guard nonce != Self.reservedNonce else { throw .nonceExhausted }
        guard associatedData.lowerBound >= 0, associatedData.upperBound <= start, start <= buffer.count else {
            throw .cryptographyFailure("decrypt: associated data \(associatedData) and text from \(start) in \(buffer.count) bytes")
        }
        guard buffer.count - start >= Self.tagLength else { throw .decryptionFailed }
        do {
            try buffer.withUnsafeMutableBytes { bytes in
                try Self.open(cipherKey, nonce: nonce, associatedData: UnsafeRawBufferPointer(rebasing: bytes[associatedData]),
                              textAndTag: UnsafeMutableRawBufferPointer(rebasing: bytes[start...]))
            }
        } catch {
            for index in start..<buffer.count { buffer[index] = 0 }
            throw .decryptionFailed
        }
        buffer.removeLast(Self.tagLength)
    }

    /// Rekey() (Noise sections 4.2 and 11.3): the new key is the first 32 bytes of
    /// ENCRYPT(k, 2^64-1, empty, 32 zero bytes). The nonce is unchanged. Both sides must rekey at the
    /// same point in the stream (for instance every N messages, or on a signalled key phase). The new
    /// key is a new key object: copies of this state made before keep the old one.
    public mutating func rekey() throws(NoiseError) {
        guard let cipherKey else { return }
        var material = [UInt8](repeating: 0, count: Self.keyLength + Self.tagLength)
        do {
            try material.withUnsafeMutableBytes { bytes in
                let text = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<Self.keyLength])
                try cipherKey.seal(nonce: Self.reservedNonce, associatedData: UnsafeRawBufferPointer(start: nil, count: 0),
                                   input: UnsafeRawBufferPointer(text), output: text,
                                   tag: UnsafeMutableRawBufferPointer(rebasing: bytes[Self.keyLength...]))
            }
        } catch {
            throw .cryptographyFailure("rekey: \(error)")
        }
        var next = Array(material.prefix(Self.keyLength))
        for index in material.indices { material[index] = 0 }
        defer { for index in next.indices { next[index] = 0 } }
        self.cipherKey = try Self.prepare(next, crypto: crypto)
    }

    /// Forgets the key: afterwards the state has no key (and would pass plaintext through), so only
    /// call it on a state about to be dropped. The key object clears its key when the last state
    /// holding it is gone.
    public mutating func wipe() {
        cipherKey = nil
    }
}
