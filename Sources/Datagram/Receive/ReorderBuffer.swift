/// In-order delivery for the reliable-ordered channel.
///
/// `nextExpected` is the message number to deliver next (the head); message numbers start at 0 on
/// each channel in each direction (wire format, section 5). Fragments of the head are always accepted,
/// since progress needs them (a head message holds at most `ReceiveCost.largestMessage` bytes);
/// fragments of later messages wait here, at most `limit` of them and within a byte budget the caller
/// passes. When the buffer cannot take a fragment the caller must drop the packet *before* recording it
/// as received, so that it is never acknowledged and the sender sends it again. A sender following the
/// wire format never sends more than `limit` fragments beyond its oldest unacknowledged one, which keeps
/// this from ever being full at the default budget (see Specs/reliability.md).
///
/// Every field a peer chose is checked before it is used: the message number against the window
/// (`limit` messages ahead of the head; behind it only messages actually delivered), and the fragment
/// index and count against what earlier fragments of the same message announced.
struct ReorderBuffer: Sendable {
    private(set) var nextExpected: UInt32 = 0
    private var partials: [UInt32: PartialMessage] = [:]
    /// Fragments held for messages after the head.
    private(set) var outOfOrderFragments = 0
    /// Bytes held for messages after the head (`ReceiveCost`); the budget applies to these.
    private(set) var outOfOrderBytes = 0
    /// Bytes held for the head message.
    private(set) var headBytes = 0
    /// Messages delivered so far (saturating); a message behind the head is a retransmission only if
    /// it lies within this many of the head.
    private(set) var deliveredCount: UInt64 = 0
    let limit: Int

    /// A buffer expecting `nextExpected` first (0 on a new connection; tests start near the wrap, as if
    /// that many messages had been delivered already).
    init(limit: Int, nextExpected: UInt32 = 0) {
        self.limit = Swift.max(1, limit)
        self.nextExpected = nextExpected
        if nextExpected != 0 { deliveredCount = UInt64(Int32.max) }
    }

    /// Every byte this buffer holds.
    var heldBytes: Int { headBytes + outOfOrderBytes }

    /// True while anything waits: an incomplete head or messages behind a gap.
    var isWaiting: Bool { !partials.isEmpty }

    enum Admission: Equatable {
        /// Take it (it is new, or a copy of a fragment already held).
        case accept
        /// A copy of a message delivered before: acknowledge it, deliver nothing.
        case alreadyDelivered
        /// No room (fragment count or byte budget): drop unacknowledged, the sender retries later.
        case full
        /// Its fragment count disagrees with an earlier fragment of the same message: a protocol violation.
        case inconsistent
        /// Its message number can never be delivered: `limit` or more ahead of the head, or behind the
        /// head but never delivered (a peer that did not start at 0).
        case outOfWindow
    }

    /// Whether a DATA fragment on this channel can be taken, with `budget` bytes allowed for messages
    /// after the head.
    func admission(of fragment: FragmentHeader, payloadCount: Int = 0, budget: Int = .max) -> Admission {
        let distance = Int(fragment.messageNumber.serialDistance(from: nextExpected))
        if distance < 0 {
            // A copy of a delivered message (a retransmission whose acknowledgement was lost) is
            // acknowledged again; "behind" a head that never moved that far was never delivered.
            return UInt64(-distance) <= deliveredCount ? .alreadyDelivered : .outOfWindow
        }
        if distance >= limit { return .outOfWindow }
        let existing = partials[fragment.messageNumber]
        if let existing {
            guard existing.isConsistent(with: fragment) else { return .inconsistent }
            if existing.contains(Int(fragment.fragmentIndex)) { return .accept }
        }
        if distance == 0 { return .accept }
        guard outOfOrderFragments < limit else { return .full }
        let cost = ReceiveCost.fragment(payload: payloadCount,
                                        newMessageOf: existing == nil ? Int(fragment.fragmentCount) : nil)
        return outOfOrderBytes + cost <= budget ? .accept : .full
    }

    /// Takes an admitted fragment; appends every message it makes deliverable, in order.
    /// Returns true when the fragment waits out of order.
    @discardableResult
    mutating func insert(_ fragment: FragmentHeader, payload: ArraySlice<UInt8>,
                         delivering delivered: inout [[UInt8]]) -> Bool {
        let number = fragment.messageNumber
        let distance = Int(number.serialDistance(from: nextExpected))
        guard distance >= 0, distance < limit else { return false }
        if distance == 0, fragment.fragmentCount == 1, partials[number] == nil {
            delivered.append(Array(payload))
            advanceHead()
            deliverFromHead(into: &delivered)
            return false
        }
        let existing = partials[number]
        var partial = existing ?? PartialMessage(fragmentCount: Int(fragment.fragmentCount))
        let before = existing?.heldBytes ?? 0
        guard partial.isConsistent(with: fragment),
              partial.insert(payload, at: Int(fragment.fragmentIndex)) else { return false }
        partials[number] = partial
        let added = partial.heldBytes - before
        if distance > 0 {
            outOfOrderFragments += 1
            outOfOrderBytes += added
            return true
        }
        headBytes += added
        deliverFromHead(into: &delivered)
        return false
    }

    private mutating func deliverFromHead(into delivered: inout [[UInt8]]) {
        while let head = partials[nextExpected], let message = head.assembled() {
            partials[nextExpected] = nil
            headBytes = 0
            delivered.append(message)
            advanceHead()
        }
    }

    /// Moves the head on by one; the new head's fragments stop counting as out of order.
    private mutating func advanceHead() {
        nextExpected &+= 1
        if deliveredCount < UInt64.max { deliveredCount += 1 }
        headBytes = 0
        if let next = partials[nextExpected] {
            outOfOrderFragments -= next.receivedCount
            outOfOrderBytes -= next.heldBytes
            headBytes = next.heldBytes
        }
    }
}
