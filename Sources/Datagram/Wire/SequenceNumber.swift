/// Serial-number arithmetic (RFC 1982) for 32-bit packet and message numbers.
///
/// Numbers wrap from `0xFFFFFFFF` to `0`. `a` is after `b` when the wrapping difference `a - b`, read
/// as a signed 32-bit integer, is positive, which is right while the two are within 2^31 of each other.
/// This is KCP's `_itimediff` idea applied to sequence numbers.
extension UInt32 {
    /// The signed distance from `other` to `self`, wrapping: `5.serialDistance(from: 0xFFFF_FFFE) == 7`.
    @inline(__always)
    func serialDistance(from other: UInt32) -> Int32 {
        Int32(bitPattern: self &- other)
    }

    /// True when `self` comes after `other` in serial order.
    @inline(__always)
    func isSerialAfter(_ other: UInt32) -> Bool {
        serialDistance(from: other) > 0
    }

    /// True when `self` comes before `other` in serial order.
    @inline(__always)
    func isSerialBefore(_ other: UInt32) -> Bool {
        serialDistance(from: other) < 0
    }
}
