/// The fragments of one message received so far.
struct PartialMessage: Sendable {
    private var fragments: [ArraySlice<UInt8>?]
    private(set) var receivedCount = 0

    init(fragmentCount: Int) {
        fragments = Array(repeating: nil, count: fragmentCount)
    }

    var fragmentCount: Int { fragments.count }
    var isComplete: Bool { receivedCount == fragments.count }

    func contains(_ index: Int) -> Bool { fragments[index] != nil }

    /// Stores a fragment; returns false (and changes nothing) when it was already here.
    mutating func insert(_ payload: ArraySlice<UInt8>, at index: Int) -> Bool {
        guard fragments[index] == nil else { return false }
        fragments[index] = payload
        receivedCount += 1
        return true
    }

    /// The whole message, once complete.
    func assembled() -> [UInt8] {
        var message = [UInt8]()
        message.reserveCapacity(fragments.reduce(0) { $0 + ($1?.count ?? 0) })
        for fragment in fragments { message.append(contentsOf: fragment!) }
        return message
    }
}

/// Reassembles messages on the unreliable channel and delivers each as soon as it is complete, in
/// arrival order. At most `limit` fragments wait; beyond that the oldest incomplete message is given
/// up (the channel promises nothing more), so a lossy link cannot make it grow.
struct UnreliableReassembly: Sendable {
    private var partials: [UInt32: PartialMessage] = [:]
    private var arrivalOrder = Deque<UInt32>()
    private var heldFragments = 0
    private let limit: Int

    init(limit: Int) {
        self.limit = Swift.max(limit, Limits.maximumFragmentCount)
    }

    /// Takes one fragment; returns the message when this fragment completed it.
    mutating func insert(_ fragment: FragmentHeader, payload: ArraySlice<UInt8>) -> [UInt8]? {
        if fragment.fragmentCount == 1 { return Array(payload) }
        let number = fragment.messageNumber
        var partial = partials[number] ?? PartialMessage(fragmentCount: Int(fragment.fragmentCount))
        if partials[number] == nil { arrivalOrder.append(number) }
        guard partial.fragmentCount == Int(fragment.fragmentCount),
              partial.insert(payload, at: Int(fragment.fragmentIndex)) else { return nil }
        heldFragments += 1
        if partial.isComplete {
            partials[number] = nil
            heldFragments -= partial.receivedCount
            return partial.assembled()
        }
        partials[number] = partial
        evictWhileOverLimit()
        return nil
    }

    private mutating func evictWhileOverLimit() {
        while heldFragments > limit || arrivalOrder.count > 4 * limit, let oldest = arrivalOrder.popFirst() {
            if let evicted = partials.removeValue(forKey: oldest) {
                heldFragments -= evicted.receivedCount
            }
        }
    }
}
