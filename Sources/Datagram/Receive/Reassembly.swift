/// What buffering received fragments costs, in bytes, as the receive budget counts it
/// (Specs/reliability.md, "Receive memory"): every payload byte held (payloads are copied out of the
/// datagram, so a held fragment never pins a whole receive buffer), plus a fixed overhead per held
/// fragment and per incomplete message (its fragment table).
enum ReceiveCost {
    /// Per fragment held: the heap object of its copied payload.
    static let perFragment = 32
    /// Per incomplete message: its entry and table header.
    static let perMessage = 64
    /// Per slot of an incomplete message's fragment table (one per announced fragment).
    static let perSlot = 8

    /// The table of an incomplete message announcing `fragmentCount` fragments.
    static func message(fragmentCount: Int) -> Int { perMessage + perSlot * fragmentCount }

    /// One fragment of `payload` bytes, plus the table when it starts a new message.
    static func fragment(payload: Int, newMessageOf fragmentCount: Int?) -> Int {
        payload + perFragment + (fragmentCount.map(message(fragmentCount:)) ?? 0)
    }

    /// The most a single message can hold: 57 fragments carrying 65,536 bytes (a sealed session's
    /// 58 fragments of 1,142 bytes hold 40 bytes more; the budget checks allow for it).
    static let largestMessage = message(fragmentCount: Limits.maximumFragmentCount)
        + Limits.maximumFragmentCount * perFragment + Limits.maximumMessageSize
}

/// The fragments of one message received so far. Every index is checked against the announced
/// fragment count before use; a fragment that disagrees with the count is the caller's to refuse.
struct PartialMessage: Sendable {
    private var fragments: [[UInt8]?]
    private(set) var receivedCount = 0
    /// Bytes this message holds, as `ReceiveCost` counts them (its table included).
    private(set) var heldBytes: Int

    init(fragmentCount: Int) {
        fragments = Array(repeating: nil, count: Swift.max(0, fragmentCount))
        heldBytes = ReceiveCost.message(fragmentCount: fragments.count)
    }

    var fragmentCount: Int { fragments.count }
    var isComplete: Bool { receivedCount == fragments.count }

    /// True when fragment `index` is here; false for any index outside the message.
    func contains(_ index: Int) -> Bool { fragments.indices.contains(index) && fragments[index] != nil }

    /// Whether `fragment` belongs to this message: same fragment count, index inside it.
    func isConsistent(with fragment: FragmentHeader) -> Bool {
        Int(fragment.fragmentCount) == fragments.count && fragments.indices.contains(Int(fragment.fragmentIndex))
    }

    /// Stores a copy of a fragment; returns false (and changes nothing) when it was already here or the
    /// index lies outside the message.
    mutating func insert(_ payload: ArraySlice<UInt8>, at index: Int) -> Bool {
        guard fragments.indices.contains(index), fragments[index] == nil else { return false }
        fragments[index] = Array(payload)
        receivedCount += 1
        heldBytes += payload.count + ReceiveCost.perFragment
        return true
    }

    /// The whole message, once complete (nil before).
    func assembled() -> [UInt8]? {
        guard isComplete else { return nil }
        var message = [UInt8]()
        message.reserveCapacity(fragments.reduce(0) { $0 + ($1?.count ?? 0) })
        for case let fragment? in fragments { message.append(contentsOf: fragment) }
        return message
    }
}

/// Reassembles messages on the unreliable channel and delivers each as soon as it is complete, in
/// arrival order. Incomplete messages are held within a byte budget the caller passes (and at most
/// `limit` fragments); to make room the oldest incomplete message is given up (the channel promises
/// nothing more), so a lossy link or a hostile peer cannot make it grow.
struct UnreliableReassembly: Sendable {
    private var partials: [UInt32: PartialMessage] = [:]
    private var arrivalOrder = Deque<UInt32>()
    private var heldFragments = 0
    /// Bytes held by incomplete messages, as `ReceiveCost` counts them.
    private(set) var heldBytes = 0
    private let limit: Int

    init(limit: Int) {
        self.limit = Swift.max(limit, Limits.Sealed.maximumFragmentCount)
    }

    enum Admission { case accept, inconsistent, full }

    /// Whether a fragment can be taken when incomplete unreliable messages may hold `budget` bytes.
    /// Room made by giving up older incomplete messages counts as room.
    func admission(of fragment: FragmentHeader, payloadCount: Int, budget: Int) -> Admission {
        if fragment.fragmentCount == 1 { return .accept }
        if let partial = partials[fragment.messageNumber] {
            guard partial.isConsistent(with: fragment) else { return .inconsistent }
            if partial.contains(Int(fragment.fragmentIndex)) { return .accept }
            return ReceiveCost.fragment(payload: payloadCount, newMessageOf: nil) + partial.heldBytes <= budget
                ? .accept : .full
        }
        let cost = ReceiveCost.fragment(payload: payloadCount, newMessageOf: Int(fragment.fragmentCount))
        return cost <= budget ? .accept : .full
    }

    /// Takes one admitted fragment; returns the message when this fragment completed it. Gives up the
    /// oldest incomplete messages while more than `budget` bytes or `limit` fragments are held.
    mutating func insert(_ fragment: FragmentHeader, payload: ArraySlice<UInt8>, budget: Int) -> [UInt8]? {
        if fragment.fragmentCount == 1 { return Array(payload) }
        let number = fragment.messageNumber
        let existing = partials[number]
        var partial = existing ?? PartialMessage(fragmentCount: Int(fragment.fragmentCount))
        guard partial.isConsistent(with: fragment) else { return nil }
        let before = existing?.heldBytes ?? 0
        guard partial.insert(payload, at: Int(fragment.fragmentIndex)) else { return nil }
        if existing == nil { arrivalOrder.append(number) }
        heldFragments += 1
        heldBytes += partial.heldBytes - before
        if partial.isComplete {
            partials[number] = nil
            heldFragments -= partial.receivedCount
            heldBytes -= partial.heldBytes
            return partial.assembled()
        }
        partials[number] = partial
        evictWhileOverLimit(budget: budget, keeping: number)
        return nil
    }

    private mutating func evictWhileOverLimit(budget: Int, keeping number: UInt32) {
        var hasSkippedCurrent = false
        while heldBytes > budget || heldFragments > limit || arrivalOrder.count > 4 * limit,
              let oldest = arrivalOrder.popFirst() {
            // The message just added to goes last: older ones are given up first.
            if oldest == number, !hasSkippedCurrent, !arrivalOrder.isEmpty {
                hasSkippedCurrent = true
                arrivalOrder.append(oldest)
                continue
            }
            if let evicted = partials.removeValue(forKey: oldest) {
                heldFragments -= evicted.receivedCount
                heldBytes -= evicted.heldBytes
            }
        }
    }
}
