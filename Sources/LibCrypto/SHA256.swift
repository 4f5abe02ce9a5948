import CLibCrypto

/// SHA-256 (FIPS 180-4) from OpenSSL 3's libcrypto.
///
/// This target is the only one that links libcrypto; everything cryptographic in the package goes
/// through it (SHA-256, BLAKE2s, HMAC, HKDF, X25519, ChaCha20-Poly1305, the CSPRNG, and Noise's
/// primitives over them in `LibCryptoNoise`). Pure targets never import it: they receive what they
/// need as an injected function or through a protocol such as `Noise.NoiseCryptography`.
public enum SHA256 {
    /// The digest length in bytes.
    public static let digestLength = 32

    /// The SHA-256 digest of `bytes` (32 bytes).
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: digestLength)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        // EVP_Digest fails only when the library cannot allocate a context: nothing to recover.
        precondition(ok == 1 && length == UInt32(digestLength), "libcrypto: SHA-256 failed")
        return digest
    }
}
