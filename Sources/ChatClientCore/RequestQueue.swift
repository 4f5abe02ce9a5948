import Chat

/// The backlog: requests the link pushed back, oldest first, taken from the front in O(1).
///
/// An `Array` with `removeFirst()` shifted every waiting request each time one left, and a pushed-back
/// retry put it back with `insert(_:at: 0)`: with thousands waiting (a bulk sender), two shifts of the
/// whole backlog per acknowledgement were the client's largest cost.
struct RequestQueue {
    private var items: [ClientMessage] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }
    var first: ClientMessage? { isEmpty ? nil : items[head] }
    /// The waiting requests, oldest first.
    var all: [ClientMessage] { Array(items[head...]) }

    mutating func append(_ request: ClientMessage) {
        items.append(request)
    }

    /// Removes the oldest request; compacts the storage once the removed part is half of it.
    mutating func removeFirst() {
        precondition(!isEmpty, "removeFirst on an empty RequestQueue")
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
    }

    /// Removes the newest request (a retry that was pushed back again and appended by `transmit`).
    mutating func removeLast() {
        precondition(!isEmpty, "removeLast on an empty RequestQueue")
        items.removeLast()
    }

    mutating func removeAll() {
        items.removeAll()
        head = 0
    }
}
