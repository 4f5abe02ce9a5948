/// The receive side's record of packet numbers: duplicate suppression and the acknowledgement fields.
///
/// Duplicate suppression is a sliding bitmap of the last `windowSize` packet numbers up to the largest
/// received (the idea of quinn's `Dedup`). Bit `n % windowSize` stands for packet `n`:
///
/// ```
///            oldest remembered                      largest
///                   v                                  v
///   packets:  ... | L-1023 | ... | L-3 | L-2 | L-1 |  L  |   L+1 ...
///   bits:         |   1    | ... |  1  |  0  |  1  |  1  |   (future: not yet cleared)
///                                        ^ gap: L-2 not received (yet)
/// ```
///
/// When a packet beyond the largest arrives, the bits between the old and new largest are cleared and
/// the window slides. A packet older than the window is treated as a duplicate: it is dropped and not
/// acknowledged, so if it carried something new the sender's loss detection sends that again.
///
/// Separately, `recentBits` mirrors the 64 packets just before the largest, in exactly the layout of
/// the header's acknowledgement bitfield, so building an acknowledgement is O(1).
struct ReceivedPackets: Sendable {
    static let windowSize = 1024
    private static let wordCount = windowSize / 64

    /// The largest packet number received, nil before the first packet.
    private(set) var largest: UInt32?
    /// When the largest packet arrived (for the ack delay field).
    private(set) var largestReceivedTime = Timestamp.zero
    private var recentBits: UInt64 = 0
    private var window = [UInt64](repeating: 0, count: ReceivedPackets.wordCount)

    enum Status { case new, duplicate, tooOld, outsideWindow }

    /// Whether `packetNumber` is new, was received before, lies behind the duplicate window, or lies
    /// outside the acceptance window (more than `Limits.packetNumberWindow` from the largest, either
    /// way), which the caller drops without changing any state: a forged packet far ahead must not
    /// move the largest received, or every genuine packet after it would look old.
    func status(of packetNumber: UInt32) -> Status {
        guard let largest else { return .new }
        let distance = packetNumber.serialDistance(from: largest)
        if distance.magnitude > Limits.packetNumberWindow { return .outsideWindow }
        if distance > 0 { return .new }
        if distance <= -Int32(ReceivedPackets.windowSize) { return .tooOld }
        return isMarked(packetNumber) ? .duplicate : .new
    }

    /// Records `packetNumber` (which `status` called new) as received at `now`.
    mutating func insert(_ packetNumber: UInt32, at now: Timestamp) {
        guard let largest else {
            self.largest = packetNumber
            largestReceivedTime = now
            mark(packetNumber)
            return
        }
        let distance = Int(packetNumber.serialDistance(from: largest))
        if distance > 0 {
            slide(from: largest, by: distance)
            recentBits = distance > 64 ? 0 : (recentBits << UInt64(distance)) | (1 << UInt64(distance - 1))
            self.largest = packetNumber
            largestReceivedTime = now
        } else if distance < 0, -distance <= 64 {
            recentBits |= 1 << UInt64(-distance - 1)
        }
        mark(packetNumber)
    }

    /// The acknowledgement fields to put in the next packet sent at `now`, nil before any packet.
    func acknowledgement(at now: Timestamp) -> Acknowledgement? {
        guard let largest else { return nil }
        return Acknowledgement(largest: largest, bitfield: recentBits,
                               delay: Acknowledgement.encodedDelay(now - largestReceivedTime))
    }

    private mutating func slide(from largest: UInt32, by distance: Int) {
        if distance >= ReceivedPackets.windowSize {
            for index in window.indices { window[index] = 0 }
            return
        }
        var number = largest
        for _ in 0..<distance {
            number &+= 1
            clear(number)
        }
    }

    private func isMarked(_ number: UInt32) -> Bool {
        let bit = Int(number % UInt32(ReceivedPackets.windowSize))
        return window[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }

    private mutating func mark(_ number: UInt32) {
        let bit = Int(number % UInt32(ReceivedPackets.windowSize))
        window[bit >> 6] |= 1 << UInt64(bit & 63)
    }

    private mutating func clear(_ number: UInt32) {
        let bit = Int(number % UInt32(ReceivedPackets.windowSize))
        window[bit >> 6] &= ~(1 << UInt64(bit & 63))
    }
}
