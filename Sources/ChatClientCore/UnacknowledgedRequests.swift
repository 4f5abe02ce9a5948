import Chat
import Datagram

/// Requests sent on the current link and not yet acknowledged, oldest first.
///
/// An acknowledgement removes exactly what it covers: one entry by its key (Datagram's per-message
/// `acknowledged` event) or a run from the front (TCP's cumulative RECEIVED). Neither scans the rest,
/// so a bulk transfer with thousands of messages in flight costs O(1) amortized per acknowledgement.
///
///     slots:   [ nil | nil | m7 | nil | m9 | m10 ]     positions: key -> base + slot index
///                        ^ head (first live slot)
///
/// Removed entries leave a hole (`nil`); holes at the front are skipped, and the array is compacted
/// when more than half of it is holes, which keeps memory proportional to what is in flight.
struct UnacknowledgedRequests {
    private var slots: [SentMessage?] = []
    private var head = 0
    /// Absolute position of `slots[0]`; positions stay valid across compaction.
    private var base = 0
    private var positions: [UInt64: Int] = [:]
    /// Entries that keep `isAllAcknowledged` false (see `isAwaited`).
    private(set) var awaitedCount = 0

    var count: Int { positions.count }
    var isEmpty: Bool { positions.isEmpty }

    /// The live entries, oldest first (for reports and reconnection; not on the per-ack path).
    var all: [SentMessage] { slots[head...].compactMap { $0 } }

    /// Whether an entry must be acknowledged before the session counts as drained: a chat message, or
    /// a request whose only acknowledgement is the transport's (not a reply from the relay).
    static func isAwaited(_ sent: SentMessage) -> Bool {
        sent.chatID != 0 || !sent.message.isAcknowledgedByRelayReply
    }

    mutating func append(_ sent: SentMessage) {
        assert(positions[sent.key] == nil, "a request key is used twice on one link")
        positions[sent.key] = base + slots.count
        slots.append(sent)
        if Self.isAwaited(sent) { awaitedCount += 1 }
    }

    /// Removes and returns the entry with `key`, if it is still unacknowledged.
    mutating func remove(key: UInt64) -> SentMessage? {
        guard let position = positions.removeValue(forKey: key) else { return nil }
        let index = position - base
        let sent = slots[index]
        slots[index] = nil
        if let sent, Self.isAwaited(sent) { awaitedCount -= 1 }
        skipHoles()
        return sent
    }

    /// Removes entries from the front while `isCovered` holds for the oldest one.
    mutating func removeFirst(while isCovered: (SentMessage) -> Bool) -> [SentMessage] {
        var removed: [SentMessage] = []
        while head < slots.count {
            guard let sent = slots[head] else { head += 1; continue }
            guard isCovered(sent) else { break }
            removed.append(sent)
            _ = remove(key: sent.key)
        }
        skipHoles()
        return removed
    }

    mutating func removeAll() {
        self = UnacknowledgedRequests()
    }

    private mutating func skipHoles() {
        while head < slots.count, slots[head] == nil { head += 1 }
        if head == slots.count {
            base += slots.count
            slots.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64, head * 2 > slots.count {
            base += head
            slots.removeFirst(head)
            head = 0
        }
    }
}
