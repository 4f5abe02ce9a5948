import Datagram

/// One peer's next wake-up in the relay's timer queue.
struct WakeEntry {
    var time: Timestamp
    /// The peer's serial: ties wake in connection order, so runs are deterministic.
    var serial: Int
    var endpoint: Endpoint

    func isBefore(_ other: WakeEntry) -> Bool {
        time < other.time || (time == other.time && serial < other.serial)
    }
}

/// A binary min-heap of wake-ups ordered by (time, serial).
///
/// Entries are never updated in place. A peer whose wake time moves earlier gets a new entry, and the
/// old one is recognised as stale on the way out (`RelayCore.wakeTimes` holds the time of each peer's
/// live entry). A wake time that moves later pushes nothing: the live entry wakes the relay early, and
/// the peer's time is reckoned again then. A peer heard every second (a keepalive pushes its eviction
/// time back) so costs one heap entry per wake-up, not one per datagram. Entries can only make the
/// relay wake early, never late.
struct WakeQueue {
    private var heap: [WakeEntry] = []

    var first: WakeEntry? { heap.first }
    var count: Int { heap.count }

    mutating func push(_ entry: WakeEntry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].isBefore(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popFirst() -> WakeEntry? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let first = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].isBefore(heap[smallest]) { smallest = left }
            if right < heap.count, heap[right].isBefore(heap[smallest]) { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}

/// The relay's timers: one wake time per peer (the earliest of its eviction time, its connection's
/// own timers and its shutdown drain deadline) in one heap, so `nextDeadline` costs O(1) and a
/// timeout touches only the peers that are due, however many peers are idle.
extension RelayCore {
    /// When `peer` next needs `handleTimeout`, or nil if it is gone.
    mutating func wakeTime(of endpoint: Endpoint) -> Timestamp? {
        // The peer's fields are read in place (`withValue`): copying a `Peer` per datagram retained
        // its name, rooms and buffers.
        guard let (drainDeadline, lastHeard, isJoined) = peers.withValue(for: endpoint, { ($0.drainDeadline, $0.lastHeard, $0.isJoined) }) else {
            return nil
        }
        // A draining peer is closed at its drain deadline, not timed out (`handleTimeout`), so its
        // silence must not wake the relay: a wake time it would skip stays in the past and spins the
        // driver (found by the relay fuzz target).
        var earliest = drainDeadline ?? lastHeard + configuration.peerTimeout
        if let deadline = connections.withValue(for: endpoint, { $0.nextDeadline }) ?? nil, deadline < earliest { earliest = deadline }
        if let deadline = limitWakeTime(of: endpoint, isJoined: isJoined, isDraining: drainDeadline != nil), deadline < earliest {
            earliest = deadline
        }
        if !pathChecks.isEmpty, let deadline = pathChecks[endpoint]?.resendAt, deadline < earliest { earliest = deadline }
        return earliest
    }

    /// Recomputes `endpoint`'s wake time after anything that may have changed it. Only a time earlier
    /// than the peer's live entry pushes a new one; a later one waits for the live entry to come due
    /// (`takeDueEndpoints` hands the peer out then, its timers find nothing due, and it is rescheduled).
    mutating func reschedule(_ endpoint: Endpoint) {
        guard let time = wakeTime(of: endpoint), let serial = peers[endpoint]?.serial else {
            wakeTimes[endpoint] = nil
            return
        }
        if let scheduled = wakeTimes[endpoint], scheduled <= time { return }
        wakeTimes[endpoint] = time
        wakeQueue.push(WakeEntry(time: time, serial: serial, endpoint: endpoint))
    }

    /// Drops stale entries from the top of the heap, so `nextDeadline` names a real wake-up (or nil).
    mutating func pruneStaleWakeUps() {
        while let entry = wakeQueue.first, wakeTimes[entry.endpoint] != entry.time {
            _ = wakeQueue.popFirst()
        }
    }

    /// Removes and returns the peers due at `now`, in (time, connection) order; each must be
    /// rescheduled after it has been handled.
    mutating func takeDueEndpoints(at now: Timestamp) -> [Endpoint] {
        var due: [Endpoint] = []
        while let entry = wakeQueue.first, entry.time <= now {
            _ = wakeQueue.popFirst()
            guard wakeTimes[entry.endpoint] == entry.time else { continue }
            wakeTimes[entry.endpoint] = nil
            due.append(entry.endpoint)
        }
        return due
    }
}

/// Endpoints touched by the current input, drained in the order they were first touched.
///
/// Membership is a set and removal from the front moves an index, so marking and draining thousands
/// of endpoints in one input (a second's worth of keepalives at 10,000 peers) stays linear.
struct PendingEndpoints {
    private var order: [Endpoint] = []
    private var head = 0
    private var members: Set<Endpoint> = []

    var isEmpty: Bool { members.isEmpty }

    mutating func insert(_ endpoint: Endpoint) {
        guard members.insert(endpoint).inserted else { return }
        order.append(endpoint)
    }

    mutating func popFirst() -> Endpoint? {
        while head < order.count {
            let endpoint = order[head]
            head += 1
            if members.remove(endpoint) != nil { return endpoint }
        }
        order.removeAll(keepingCapacity: true)
        head = 0
        return nil
    }

    func contains(_ endpoint: Endpoint) -> Bool { members.contains(endpoint) }

    mutating func remove(_ endpoint: Endpoint) {
        members.remove(endpoint)
    }
}
