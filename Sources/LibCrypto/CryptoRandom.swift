import CLibCrypto

/// The CSPRNG: OpenSSL's RAND_bytes, seeded from the operating system (getrandom on Linux). Named
/// apart from `Transport.SystemRandom` (the kernel's source, for seeds and ids) so both can be imported.
public enum CryptoRandom {
    /// `count` cryptographically secure random bytes.
    public static func bytes(_ count: Int) throws(LibCryptoError) -> [UInt8] {
        guard count >= 0, count <= Int(Int32.max) else { throw .inputTooLong(what: "random byte count") }
        var bytes = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return bytes }
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard ok == 1 else { throw .randomSourceFailed }
        return bytes
    }

    /// A uniformly random 64-bit value (for connection ids, cookie secrets, seeds).
    public static func uint64() throws(LibCryptoError) -> UInt64 {
        try bytes(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// Overwrites `bytes` in place with OPENSSL_cleanse, which the compiler may not optimise away. Only
/// this array's storage is cleared; copies made before keep their contents.
public func secureZero(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { buffer in
        if let base = buffer.baseAddress { OPENSSL_cleanse(base, buffer.count) }
    }
}
