/// In-order delivery for the reliable-ordered channel.
///
/// `nextExpected` is the message number to deliver next (the head). Fragments of the head are always
/// accepted, since progress needs them; fragments of later messages wait here, at most `limit` of them.
/// When the buffer is full the caller must drop the packet *before* recording it as received, so that
/// it is never acknowledged and the sender sends it again. A sender following the wire format never
/// sends more than `limit` fragments beyond its oldest unacknowledged one, which keeps this from ever
/// being full (see Specs/reliability.md).
struct ReorderBuffer: Sendable {
    private(set) var nextExpected: UInt32 = 0
    private var partials: [UInt32: PartialMessage] = [:]
    /// Fragments held for messages after the head.
    private(set) var outOfOrderFragments = 0
    let limit: Int

    init(limit: Int) {
        self.limit = Swift.max(1, limit)
    }

    enum Admission { case accept, alreadyDelivered, full }

    /// Whether a DATA fragment on this channel can be taken without breaking the buffer's bound.
    func admission(of fragment: FragmentHeader) -> Admission {
        let distance = fragment.messageNumber.serialDistance(from: nextExpected)
        if distance < 0 { return .alreadyDelivered }
        if distance == 0 { return .accept }
        if let partial = partials[fragment.messageNumber], partial.contains(Int(fragment.fragmentIndex)) {
            return .accept
        }
        return outOfOrderFragments < limit ? .accept : .full
    }

    /// Takes an admitted fragment; appends every message it makes deliverable, in order.
    /// Returns true when the fragment waits out of order.
    @discardableResult
    mutating func insert(_ fragment: FragmentHeader, payload: ArraySlice<UInt8>,
                         delivering delivered: inout [[UInt8]]) -> Bool {
        let number = fragment.messageNumber
        let distance = number.serialDistance(from: nextExpected)
        guard distance >= 0 else { return false }
        if distance == 0, fragment.fragmentCount == 1, partials.isEmpty {
            delivered.append(Array(payload))
            nextExpected &+= 1
            return false
        }
        var partial = partials[number] ?? PartialMessage(fragmentCount: Int(fragment.fragmentCount))
        guard partial.fragmentCount == Int(fragment.fragmentCount),
              partial.insert(payload, at: Int(fragment.fragmentIndex)) else { return false }
        partials[number] = partial
        if distance > 0 {
            outOfOrderFragments += 1
            return true
        }
        deliverFromHead(into: &delivered)
        return false
    }

    private mutating func deliverFromHead(into delivered: inout [[UInt8]]) {
        while let head = partials[nextExpected], head.isComplete {
            partials[nextExpected] = nil
            delivered.append(head.assembled())
            nextExpected &+= 1
            if let next = partials[nextExpected] {
                outOfOrderFragments -= next.receivedCount
            }
        }
    }
}
