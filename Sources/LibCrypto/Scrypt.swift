import CLibCrypto

/// scrypt (RFC 7914), the memory-hard password hash, from libcrypto's `EVP_PBE_scrypt`: for the
/// relay's account passwords (issue 11), which are stored only as `derive(password, salt)` with a
/// random salt, never in clear.
public enum Scrypt {
    /// The cost the relay uses: N = 2^15, r = 8, p = 1 (32 MiB and a few tens of milliseconds).
    public static let relayCost = Cost(n: 1 << 15, r: 8, p: 1)

    /// scrypt's cost parameters: CPU/memory cost `n` (a power of two above 1), block size `r`,
    /// parallelism `p`.
    public struct Cost: Hashable, Sendable {
        public var n: UInt64
        public var r: UInt64
        public var p: UInt64

        public init(n: UInt64, r: UInt64, p: UInt64) {
            self.n = n
            self.r = r
            self.p = p
        }

        /// The memory scrypt needs for these parameters, in bytes (128·r·(n + p + 2), as OpenSSL counts it).
        var memory: UInt64 { 128 &* r &* (n &+ p &+ 2) }
    }

    /// The `length`-byte scrypt of `password` with `salt` at `cost`. Throws for parameters libcrypto
    /// refuses (n not a power of two, too much memory) and inputs longer than its lengths allow.
    public static func derive(password: [UInt8], salt: [UInt8], cost: Cost = relayCost, length: Int = 32) throws(LibCryptoError) -> [UInt8] {
        guard length > 0, length <= 1 << 20 else { throw .invalidLength(what: "scrypt output", expected: 32, actual: length) }
        guard password.count <= Int(Int32.max), salt.count <= Int(Int32.max) else { throw .inputTooLong(what: "scrypt input") }
        var output = [UInt8](repeating: 0, count: length)
        // libcrypto takes the password as `const char *`; a zero-length buffer may have no address,
        // so an empty password is passed as an empty C string.
        let passwordChars = password.map { CChar(bitPattern: $0) } + [0]
        let ok = passwordChars.withUnsafeBufferPointer { passwordBuffer in
            salt.withUnsafeBufferPointer { saltBuffer in
                output.withUnsafeMutableBufferPointer { outputBuffer in
                    EVP_PBE_scrypt(passwordBuffer.baseAddress, password.count, saltBuffer.baseAddress, salt.count,
                                   cost.n, cost.r, cost.p, cost.memory + (1 << 20), outputBuffer.baseAddress, length)
                }
            }
        }
        guard ok == 1 else { throw .libraryFailure(function: "EVP_PBE_scrypt") }
        return output
    }
}
