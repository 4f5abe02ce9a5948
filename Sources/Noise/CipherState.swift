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
    private(set) var key: [UInt8]?
    /// The nonce the next `encrypt`/`decrypt` uses.
    public private(set) var nonce: UInt64 = 0

    /// InitializeKey(key) with a 32-byte key, or no key.
    public init(crypto: any NoiseCryptography, key: [UInt8]?) throws(NoiseError) {
        if let key, key.count != Self.keyLength {
            throw .invalidKeyLength(expected: Self.keyLength, actual: key.count)
        }
        self.crypto = crypto
        self.key = key
    }

    /// HasKey().
    public var hasKey: Bool { key != nil }

    /// SetNonce(nonce): for transports that carry the nonce in the packet (a UDP packet number)
    /// rather than counting it; see also `encrypt(nonce:...)` and `decrypt(nonce:...)`.
    public mutating func setNonce(_ nonce: UInt64) {
        self.nonce = nonce
    }

    /// EncryptWithAd(ad, plaintext): seals with the current nonce, then increments it. Throws
    /// `nonceExhausted` once the nonce has reached 2^64-1.
    public mutating func encrypt(_ plaintext: [UInt8], associatedData: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        guard key != nil else { return plaintext }
        let ciphertext = try encrypt(plaintext, associatedData: associatedData, nonce: nonce)
        nonce += 1
        return ciphertext
    }

    /// DecryptWithAd(ad, ciphertext): opens with the current nonce and increments it only on
    /// success; on failure nothing changes and `decryptionFailed` is thrown.
    public mutating func decrypt(_ ciphertext: [UInt8], associatedData: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        guard key != nil else { return ciphertext }
        let plaintext = try decrypt(ciphertext, associatedData: associatedData, nonce: nonce)
        nonce += 1
        return plaintext
    }

    /// Seals with an explicit nonce and changes nothing: for a transport that sends the nonce
    /// with each packet (and so never reuses one: that is the caller's duty). Refuses 2^64-1.
    /// Without a key, returns the plaintext (as EncryptWithAd does).
    public func encrypt(_ plaintext: [UInt8], associatedData: [UInt8] = [], nonce: UInt64) throws(NoiseError) -> [UInt8] {
        guard let key else { return plaintext }
        guard nonce != Self.reservedNonce else { throw .nonceExhausted }
        guard plaintext.count <= Int(UInt32.max) else {
            throw .messageTooLong(length: plaintext.count, limit: Int(UInt32.max))
        }
        do {
            return try crypto.encrypt(key: key, nonce: nonce, associatedData: associatedData, plaintext: plaintext)
        } catch {
            throw .cryptographyFailure("encrypt: \(error)")
        }
    }

    /// Opens with an explicit nonce and changes nothing: for packets that carry their nonce, where
    /// the caller keeps the replay window. Refuses 2^64-1; any authentication failure (including a
    /// ciphertext shorter than the tag) is `decryptionFailed`.
    public func decrypt(_ ciphertext: [UInt8], associatedData: [UInt8] = [], nonce: UInt64) throws(NoiseError) -> [UInt8] {
        guard let key else { return ciphertext }
        guard nonce != Self.reservedNonce else { throw .nonceExhausted }
        guard ciphertext.count >= Self.tagLength else { throw .decryptionFailed }
        do {
            return try crypto.decrypt(key: key, nonce: nonce, associatedData: associatedData, ciphertext: ciphertext)
        } catch {
            throw .decryptionFailed
        }
    }

    /// Rekey() (Noise sections 4.2 and 11.3): the new key is the first 32 bytes of
    /// ENCRYPT(k, 2^64-1, empty, 32 zero bytes). The nonce is unchanged. Both sides must rekey at the
    /// same point in the stream (for instance every N messages, or on a signalled key phase).
    public mutating func rekey() throws(NoiseError) {
        guard let key else { return }
        do {
            let sealed = try crypto.encrypt(key: key, nonce: Self.reservedNonce, associatedData: [],
                                            plaintext: [UInt8](repeating: 0, count: Self.keyLength))
            guard sealed.count >= Self.keyLength else { throw NoiseError.cryptographyFailure("rekey: short output") }
            wipe()
            self.key = Array(sealed.prefix(Self.keyLength))
        } catch let error as NoiseError {
            throw error
        } catch {
            throw .cryptographyFailure("rekey: \(error)")
        }
    }

    /// Overwrites the key in this value's storage and forgets it. Afterwards the state has no key
    /// (and would pass plaintext through), so only call it on a state about to be dropped.
    public mutating func wipe() {
        if var key {
            self.key = nil
            for index in key.indices { key[index] = 0 }
        }
    }
}
