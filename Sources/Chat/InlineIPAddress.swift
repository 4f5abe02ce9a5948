/// An IP address's bytes held inline: two 64-bit words and a length, no heap allocation.
///
/// `SocketAddress` and the relay's `Endpoint` key tables by address and are made, compared and
/// hashed for every datagram. Held as `[UInt8]`, each was an allocation, a retain and release per
/// copy, and a byte-at-a-time hash; held as this, they are plain values compared and hashed as three
/// words. Up to 16 bytes (IPv6); the bytes come back exactly as given.
public struct InlineIPAddress: Hashable, Sendable {
    /// Bytes 0–7, the first in the most significant position.
    private var high: UInt64
    /// Bytes 8–15.
    private var low: UInt64
    /// How many bytes are held: 4 for IPv4, 16 for IPv6.
    public private(set) var count: Int

    /// Holds `bytes` (at most 16; more is a programming error).
    public init(_ bytes: some Collection<UInt8>) {
        precondition(bytes.count <= 16, "an IP address is at most 16 bytes")
        var high: UInt64 = 0, low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 {
                high |= UInt64(byte) << (56 - 8 * UInt64(index))
            } else {
                low |= UInt64(byte) << (56 - 8 * UInt64(index - 8))
            }
        }
        self.high = high
        self.low = low
        self.count = bytes.count
    }

    /// The byte at `index` (0 ..< count).
    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count, "index out of range")
        let word = index < 8 ? high : low
        return UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(index % 8)))
    }

    /// The bytes, in network order.
    public var bytes: [UInt8] {
        (0..<count).map { self[$0] }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(folded)
    }

    /// The address folded into one word for hashing (equal addresses fold equally; `==` still
    /// compares every byte). One `combine` instead of two: tables keyed by address hash per datagram.
    public var folded: UInt64 {
        high ^ (low &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(count) << 59
    }
}
