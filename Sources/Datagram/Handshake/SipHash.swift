/// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit MAC, fast on short inputs. The cookie
/// jar uses it so that only the server, which knows the key, can mint a cookie it will later accept.
struct SipHash24 {
    private var v0: UInt64
    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64
    private var pending: UInt64 = 0
    private var pendingCount = 0
    private var length = 0

    /// Starts a MAC keyed with the 128-bit key `(k0, k1)` (`k0` holds key bytes 0-7, little-endian).
    init(key: (UInt64, UInt64)) {
        v0 = key.0 ^ 0x736F_6D65_7073_6575
        v1 = key.1 ^ 0x646F_7261_6E64_6F6D
        v2 = key.0 ^ 0x6C79_6765_6E65_7261
        v3 = key.1 ^ 0x7465_6462_7974_6573
    }

    /// The MAC of `bytes` under `key`.
    static func hash(_ bytes: [UInt8], key: (UInt64, UInt64)) -> UInt64 {
        var hasher = SipHash24(key: key)
        hasher.append(bytes)
        return hasher.finalize()
    }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            pending |= UInt64(byte) << (8 * UInt64(pendingCount))
            pendingCount += 1
            length += 1
            if pendingCount == 8 {
                compress(pending)
                pending = 0
                pendingCount = 0
            }
        }
    }

    mutating func finalize() -> UInt64 {
        let last = pending | UInt64(truncatingIfNeeded: length & 0xFF) << 56
        compress(last)
        v2 ^= 0xFF
        for _ in 0..<4 { round() }
        return v0 ^ v1 ^ v2 ^ v3
    }

    private mutating func compress(_ word: UInt64) {
        v3 ^= word
        round()
        round()
        v0 ^= word
    }

    private mutating func round() {
        v0 &+= v1; v1 = rotate(v1, 13); v1 ^= v0; v0 = rotate(v0, 32)
        v2 &+= v3; v3 = rotate(v3, 16); v3 ^= v2
        v0 &+= v3; v3 = rotate(v3, 21); v3 ^= v0
        v2 &+= v1; v1 = rotate(v1, 17); v1 ^= v2; v2 = rotate(v2, 32)
    }

    @inline(__always)
    private func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value << count) | (value >> (64 - count))
    }
}
