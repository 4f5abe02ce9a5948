/// The primitives a Noise protocol needs (Noise Protocol Framework, revision 34, section 4), as the
/// `Noise` target sees them. The target itself is pure: it imports no C library and no Foundation,
/// and it never writes a primitive. An implementation over OpenSSL 3's libcrypto is
/// `LibCrypto.LibCryptoNoise`; a test may supply any other.
///
/// An implementation must be a correct DH, AEAD and hash function as Noise section 4 defines them.
/// Its names appear in the protocol name, so they must be Noise's own ("25519", "ChaChaPoly",
/// "SHA256", "BLAKE2s", ...).
///
/// Class-bound: an `any NoiseCryptography` is then a reference and a witness table, so the structs that
/// hold one (`CipherState`, Datagram's sealing state, and with them `Connection`) stay loadable values.
/// An opaque existential made them address-only, and every copy, nil check or optional read of a
/// `Connection` went through generic value witnesses (issue 13's instruction counts).
public protocol NoiseCryptography: AnyObject, Sendable {
    /// The DH function's name in a protocol name, for instance "25519".
    var dhName: String { get }
    /// The cipher's name in a protocol name, for instance "ChaChaPoly".
    var cipherName: String { get }
    /// The hash function's name in a protocol name, for instance "SHA256" or "BLAKE2s".
    var hashName: String { get }

    /// DHLEN: the length of a public key and of a DH output (32 for 25519).
    var dhLength: Int { get }
    /// HASHLEN: the length of a hash output (32 or 64).
    var hashLength: Int { get }

    /// GENERATE_KEYPAIR(): a new key pair from a cryptographically secure random source.
    func generateKeyPair() throws -> NoiseKeyPair
    /// The key pair whose private key is `privateKey` (for stored identities and for test vectors,
    /// which fix the ephemeral keys). Throws when the private key has the wrong length.
    func keyPair(privateKey: [UInt8]) throws -> NoiseKeyPair
    /// DH(key_pair, public_key): the shared secret of DHLEN bytes. Throws on a public key of the
    /// wrong length or one the implementation rejects (for 25519, one whose result is all zeros).
    func dh(privateKey: [UInt8], publicKey: [UInt8]) throws -> [UInt8]

    /// ENCRYPT(k, n, ad, plaintext): the ciphertext with its 16-byte tag appended. `key` is 32 bytes;
    /// `nonce` is the full 64-bit counter, including 2^64-1 (which REKEY uses); the cipher encodes it
    /// as its specification in Noise section 12 says.
    func encrypt(key: [UInt8], nonce: UInt64, associatedData: [UInt8], plaintext: [UInt8]) throws -> [UInt8]
    /// DECRYPT(k, n, ad, ciphertext): the plaintext, or a thrown error when authentication fails
    /// (or the ciphertext is shorter than the tag). Never returns unauthenticated bytes.
    func decrypt(key: [UInt8], nonce: UInt64, associatedData: [UInt8], ciphertext: [UInt8]) throws -> [UInt8]
    /// The key object a `CipherState` keeps for a 32-byte `key` (made once per key: at Split() and at
    /// each Rekey()). The default wraps `encrypt` and `decrypt` above; an implementation overrides it
    /// to keep per-key state, such as a cipher context initialised with the key.
    func makeCipherKey(_ key: [UInt8]) throws -> any NoiseCipherKey

    /// HASH(data): HASHLEN bytes.
    func hash(_ data: [UInt8]) -> [UInt8]
    /// HMAC-HASH(key, data) as RFC 2104 defines it over this hash: HASHLEN bytes.
    func hmac(key: [UInt8], data: [UInt8]) -> [UInt8]
}

extension NoiseCryptography {
    /// The protocol name's suffix after the pattern: "25519_ChaChaPoly_SHA256".
    public var suiteName: String { "\(dhName)_\(cipherName)_\(hashName)" }

    /// The default key object: the key's bytes, sealed and opened through `encrypt` and `decrypt`.
    public func makeCipherKey(_ key: [UInt8]) throws -> any NoiseCipherKey {
        CopyingCipherKey(crypto: self, key: key)
    }

    /// HKDF(chaining_key, input_key_material, num_outputs) of Noise section 4.3: two or three
    /// outputs of HASHLEN bytes each (RFC 5869's HKDF with the chaining key as salt and no info).
    func hkdf(chainingKey: [UInt8], inputKeyMaterial: [UInt8], outputs: Int) -> [[UInt8]] {
        let tempKey = hmac(key: chainingKey, data: inputKeyMaterial)
        var result: [[UInt8]] = []
        var previous: [UInt8] = []
        for index in 1...max(2, min(outputs, 3)) {
            previous = hmac(key: tempKey, data: previous + [UInt8(index)])
            result.append(previous)
        }
        return result
    }
}

/// A DH key pair. `privateKey` is secret: never log it, never send it.
public struct NoiseKeyPair: Sendable, Equatable {
    public var privateKey: [UInt8]
    public var publicKey: [UInt8]

    public init(privateKey: [UInt8], publicKey: [UInt8]) {
        self.privateKey = privateKey
        self.publicKey = publicKey
    }

    /// Overwrites the private key in place (the storage this value holds; copies made earlier keep
    /// theirs).
    public mutating func wipe() {
        for index in privateKey.indices { privateKey[index] = 0 }
        privateKey = []
    }
}

extension NoiseKeyPair: CustomStringConvertible {
    /// Never prints the private key.
    public var description: String { "NoiseKeyPair(public: \(hexString(publicKey)))" }
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    var text = ""
    text.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return text
}
