import CLibCrypto

/// X25519 (RFC 7748) from libcrypto's EVP_PKEY API.
public enum X25519 {
    /// The length of a private key, a public key and a shared secret.
    public static let keyLength = 32

    /// A new private key from the system CSPRNG (libcrypto clamps it when it is used).
    public static func generatePrivateKey() throws(LibCryptoError) -> [UInt8] {
        try CryptoRandom.bytes(keyLength)
    }

    /// The public key of `privateKey` (X25519(k, 9)).
    public static func publicKey(privateKey: [UInt8]) throws(LibCryptoError) -> [UInt8] {
        let key = try makePrivateKey(privateKey)
        defer { EVP_PKEY_free(key) }
        var publicKey = [UInt8](repeating: 0, count: keyLength)
        var length = keyLength
        let ok = publicKey.withUnsafeMutableBufferPointer { EVP_PKEY_get_raw_public_key(key, $0.baseAddress, &length) }
        guard ok == 1, length == keyLength else { throw .libraryFailure(function: "EVP_PKEY_get_raw_public_key") }
        return publicKey
    }

    /// X25519(privateKey, publicKey): the 32-byte shared secret. Throws `invalidPublicKey` for a
    /// public key whose result is all zeros (a low-order point; RFC 7748 section 6.1's check, which
    /// libcrypto makes) and `invalidLength` for keys that are not 32 bytes.
    public static func sharedSecret(privateKey: [UInt8], publicKey: [UInt8]) throws(LibCryptoError) -> [UInt8] {
        guard publicKey.count == keyLength else {
            throw .invalidLength(what: "X25519 public key", expected: keyLength, actual: publicKey.count)
        }
        let ours = try makePrivateKey(privateKey)
        defer { EVP_PKEY_free(ours) }
        guard let theirs = publicKey.withUnsafeBufferPointer({
            EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nil, $0.baseAddress, keyLength)
        }) else { throw .libraryFailure(function: "EVP_PKEY_new_raw_public_key") }
        defer { EVP_PKEY_free(theirs) }
        guard let context = EVP_PKEY_CTX_new(ours, nil) else { throw .libraryFailure(function: "EVP_PKEY_CTX_new") }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_derive_init(context) == 1 else { throw .libraryFailure(function: "EVP_PKEY_derive_init") }
        guard EVP_PKEY_derive_set_peer(context, theirs) == 1 else { throw .invalidPublicKey }
        var secret = [UInt8](repeating: 0, count: keyLength)
        var length = keyLength
        let ok = secret.withUnsafeMutableBufferPointer { EVP_PKEY_derive(context, $0.baseAddress, &length) }
        // libcrypto's X25519 refuses an all-zero result; check it here too, whatever the version.
        guard ok == 1, length == keyLength, secret.contains(where: { $0 != 0 }) else {
            secureZero(&secret)
            throw .invalidPublicKey
        }
        return secret
    }

    private static func makePrivateKey(_ privateKey: [UInt8]) throws(LibCryptoError) -> OpaquePointer {
        guard privateKey.count == keyLength else {
            throw .invalidLength(what: "X25519 private key", expected: keyLength, actual: privateKey.count)
        }
        guard let key = privateKey.withUnsafeBufferPointer({
            EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nil, $0.baseAddress, keyLength)
        }) else { throw .libraryFailure(function: "EVP_PKEY_new_raw_private_key") }
        return key
    }
}
