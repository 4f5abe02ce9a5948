import Datagram
import Glibc

/// The kernel's random source (`getrandom(2)`, through glibc's `getentropy`), for seeds, connection ids and cookie secrets.
///
/// The pure targets never draw randomness themselves: an executable draws a seed or a secret here
/// and passes it in. Also usable as a `RandomNumberGenerator`.
public struct SystemRandom: RandomNumberGenerator, Sendable {
    /// Creates a generator; it holds no state.
    public init() {}

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        SystemRandom.uint64()
    }

    /// `count` bytes from the kernel's random source.
    public static func bytes(count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    /// 64 random bits, for a simulation seed.
    public static func uint64() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { fill($0) }
        return value
    }

    /// A random seed for `SplitMix64` or a simulated link.
    public static func seed() -> UInt64 {
        uint64()
    }

    /// A fresh random connection id for a client.
    public static func connectionID() -> ConnectionID {
        ConnectionID(rawValue: UInt32(truncatingIfNeeded: uint64()))
    }

    /// A random first packet number for a new connection (wire format, section 4).
    public static func packetNumber() -> UInt32 {
        UInt32(truncatingIfNeeded: uint64())
    }

    /// A 128-bit secret, for `CookieJar(secret:)`.
    public static func secret() -> (UInt64, UInt64) {
        (uint64(), uint64())
    }

    /// Fills `buffer` completely, 256 bytes at a time (the most one `getentropy` call returns).
    ///
    /// glibc's `getentropy` is `getrandom(2)` without flags: it blocks only until the kernel's pool
    /// is first initialized, at boot, and does not fail on Linux 3.17 and later, so a failure here
    /// means a broken system and traps.
    private static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var filled = 0
        while filled < buffer.count {
            let chunk = min(256, buffer.count - filled)
            if getentropy(buffer.baseAddress! + filled, chunk) == 0 {
                filled += chunk
            } else if errno != EINTR {
                fatalError("\(SystemError(call: "getentropy", code: errno))")
            }
        }
    }
}
