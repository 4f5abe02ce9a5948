import CLibCrypto

/// The hash functions Noise may use, from libcrypto's EVP digests.
public enum DigestAlgorithm: Sendable, Equatable {
    /// SHA-256 (FIPS 180-4).
    case sha256
    /// BLAKE2s-256 (RFC 7693), unkeyed.
    case blake2s

    /// The output length in bytes (32 for both).
    public var digestLength: Int { 32 }
    /// The block length in bytes (64 for both), which HMAC uses.
    public var blockLength: Int { 64 }

    var evp: OpaquePointer? {
        switch self {
        case .sha256: EVP_sha256()
        case .blake2s: EVP_blake2s256()
        }
    }

    /// The digest of `bytes`.
    public func hash(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: digestLength)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, evp, nil)
            }
        }
        // EVP_Digest fails only when the library cannot allocate a context: nothing to recover.
        precondition(ok == 1 && length == UInt32(digestLength), "libcrypto: digest failed")
        return digest
    }
}

/// BLAKE2s-256 (RFC 7693) from libcrypto.
public enum BLAKE2s {
    public static let digestLength = 32

    /// The unkeyed BLAKE2s-256 digest of `bytes` (32 bytes).
    public static func hash(_ bytes: [UInt8]) -> [UInt8] { DigestAlgorithm.blake2s.hash(bytes) }
}

/// HMAC (RFC 2104) over SHA-256 or BLAKE2s, from libcrypto's one-shot HMAC().
public enum HMAC {
    /// HMAC-SHA256(key, data) by default; any key length (a key longer than libcrypto's `int`
    /// allows is hashed first, which is what HMAC does with any key longer than a block).
    public static func authenticate(_ data: [UInt8], key: [UInt8], digest: DigestAlgorithm = .sha256) -> [UInt8] {
        let key = key.count > Int(Int32.max) ? digest.hash(key) : key
        var mac = [UInt8](repeating: 0, count: digest.digestLength)
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBuffer in
            data.withUnsafeBufferPointer { input in
                mac.withUnsafeMutableBufferPointer { output in
                    // A non-null pointer even for an empty key or message.
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { empty in
                        CLibCrypto.HMAC(digest.evp, keyBuffer.baseAddress ?? UnsafeRawPointer(empty.baseAddress!),
                                        Int32(keyBuffer.count), input.baseAddress ?? UnsafePointer(empty.baseAddress!),
                                        input.count, output.baseAddress, &length)
                    }
                }
            }
        }
        // HMAC() fails only when the library cannot allocate: nothing to recover.
        precondition(result != nil && length == UInt32(digest.digestLength), "libcrypto: HMAC failed")
        return mac
    }

    /// HMAC-SHA256(key, data).
    public static func sha256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        authenticate(data, key: key, digest: .sha256)
    }
}

/// HKDF (RFC 5869) over HMAC. Noise's HKDF(ck, ikm, n) (Noise section 4.3) is this with the
/// chaining key as salt, no info and n * HASHLEN bytes of output.
public enum HKDF {
    /// Extract then expand: `length` bytes (at most 255 hash lengths).
    public static func deriveKey(inputKeyMaterial: [UInt8], salt: [UInt8], info: [UInt8] = [], length: Int,
                                 digest: DigestAlgorithm = .sha256) throws(LibCryptoError) -> [UInt8] {
        guard length >= 0, length <= 255 * digest.digestLength else {
            throw .invalidLength(what: "HKDF output", expected: 255 * digest.digestLength, actual: length)
        }
        let salt = salt.isEmpty ? [UInt8](repeating: 0, count: digest.digestLength) : salt
        var pseudorandomKey = HMAC.authenticate(inputKeyMaterial, key: salt, digest: digest)
        defer { secureZero(&pseudorandomKey) }
        var output: [UInt8] = []
        var previous: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            previous = HMAC.authenticate(previous + info + [counter], key: pseudorandomKey, digest: digest)
            output += previous
            counter &+= 1
        }
        return Array(output.prefix(length))
    }
}
