/// A first-in first-out ring buffer with O(1) `append`, `popFirst` and indexed access from the front.
///
/// The connection keeps its in-flight packets, its queued fragments and its events in these, so that
/// nothing on the per-packet path shifts an array. Index 0 is always the oldest element.
struct Deque<Element> {
    private var storage: [Element?]
    private var head = 0
    private(set) var count = 0

    init() { storage = [] }

    var isEmpty: Bool { count == 0 }
    var first: Element? { count == 0 ? nil : storage[head] }
    var last: Element? { count == 0 ? nil : storage[physical(count - 1)] }

    subscript(index: Int) -> Element {
        get {
            assert(index >= 0 && index < count, "Deque index out of range")
            return storage[physical(index)]!
        }
        set {
            assert(index >= 0 && index < count, "Deque index out of range")
            storage[physical(index)] = newValue
        }
    }

    mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[physical(count)] = element
        count += 1
    }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }

    mutating func removeAll() {
        self = Deque()
    }

    /// Every element, oldest first (allocates; not for the per-packet path).
    var elements: [Element] { (0..<count).map { self[$0] } }

    private func physical(_ index: Int) -> Int {
        let position = head + index
        return position < storage.count ? position : position - storage.count
    }

    private mutating func grow() {
        // From 4 slots: a relay keeps about ten of these per connection, and most of an idle peer's
        // hold one or two elements; starting at 16 cost ~7 KB per peer (70 MB at 10,000 peers).
        var bigger = [Element?](repeating: nil, count: Swift.max(4, storage.count * 2))
        for index in 0..<count { bigger[index] = storage[physical(index)] }
        storage = bigger
        head = 0
    }
}

extension Deque: Sendable where Element: Sendable {}
