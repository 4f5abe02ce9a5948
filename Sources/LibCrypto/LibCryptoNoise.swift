import Noise

/// The Noise primitives `25519_ChaChaPoly_SHA256` or `25519_ChaChaPoly_BLAKE2s` over libcrypto: the
/// `NoiseCryptography` that the pure `Noise` target is given in production and in its tests.
public final class LibCryptoNoise: NoiseCryptography {
    public let digest: DigestAlgorithm

    /// `hash`: SHA-256 (the default) or BLAKE2s.
    public init(hash digest: DigestAlgorithm = .sha256) {
        self.digest = digest
    }

    public var dhName: String { "25519" }
    public var cipherName: String { "ChaChaPoly" }
    public var hashName: String {
        switch digest {
        case .sha256: "SHA256"
        case .blake2s: "BLAKE2s"
        }
    }
    public var dhLength: Int { X25519.keyLength }
    public var hashLength: Int { digest.digestLength }

    public func generateKeyPair() throws -> NoiseKeyPair {
        try keyPair(privateKey: X25519.generatePrivateKey())
    }

    public func keyPair(privateKey: [UInt8]) throws -> NoiseKeyPair {
        NoiseKeyPair(privateKey: privateKey, publicKey: try X25519.publicKey(privateKey: privateKey))
    }

    public func dh(privateKey: [UInt8], publicKey: [UInt8]) throws -> [UInt8] {
        try X25519.sharedSecret(privateKey: privateKey, publicKey: publicKey)
    }

    public func encrypt(key: [UInt8], nonce: UInt64, associatedData: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        try ChaChaPoly.seal(plaintext, key: key, nonce: ChaChaPoly.noiseNonce(nonce), associatedData: associatedData)
    }

    public func decrypt(key: [UInt8], nonce: UInt64, associatedData: [UInt8], ciphertext: [UInt8]) throws -> [UInt8] {
        try ChaChaPoly.open(ciphertext, key: key, nonce: ChaChaPoly.noiseNonce(nonce), associatedData: associatedData)
    }

    /// A `ChaChaPolyKey`: cipher contexts initialised with the key once, so each packet only sets
    /// its nonce.
    public func makeCipherKey(_ key: [UInt8]) throws -> any NoiseCipherKey {
        try ChaChaPolyKey(key)
    }

    public func hash(_ data: [UInt8]) -> [UInt8] {
        digest.hash(data)
    }

    public func hmac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        HMAC.authenticate(data, key: key, digest: digest)
    }
}
