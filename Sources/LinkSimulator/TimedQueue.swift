import Datagram

/// A min-heap of values ordered by `(time, order)`: the earliest first, and among equal times the one
/// pushed first. The `order` tie-break is what makes a simulation deterministic (smoltcp's netsim and
/// quinn's test `Pair` order their events the same way).
struct TimedQueue<Value: Sendable>: Sendable {
    private struct Entry: Sendable {
        var time: Timestamp
        var order: UInt64
        var value: Value

        func precedes(_ other: Entry) -> Bool {
            time != other.time ? time < other.time : order < other.order
        }
    }

    private var heap: [Entry] = []
    private var nextOrder: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    /// The earliest time in the queue, or nil when it is empty.
    var earliestTime: Timestamp? { heap.first?.time }

    mutating func push(_ value: Value, at time: Timestamp) {
        heap.append(Entry(time: time, order: nextOrder, value: value))
        nextOrder += 1
        siftUp(from: heap.count - 1)
    }

    /// Removes and returns the earliest value if its time is at or before `now`.
    mutating func popDue(at now: Timestamp) -> Value? {
        guard let first = heap.first, first.time <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(from: 0)
        }
        return first.value
    }

    private mutating func siftUp(from start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count, heap[right].precedes(heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
