import Chat

/// The (sender, message id) pairs of the last `capacity` lines shown, oldest forgotten first: a room's
/// history sent again (on rejoining after a reconnection or a relay restart) shows only the lines not
/// already on screen. Sender ids derive from session secrets, which survive a relay restart.
struct RecentLines {
    struct Key: Hashable {
        var sender: SenderID
        var messageID: UInt64
    }

    let capacity: Int
    private var keys: Set<Key> = []
    private var order: [Key] = []
    private var oldest = 0

    init(capacity: Int = 4_096) {
        self.capacity = max(1, capacity)
    }

    /// Remembers a line; false when it was already shown.
    @discardableResult
    mutating func insert(sender: SenderID, messageID: UInt64) -> Bool {
        let key = Key(sender: sender, messageID: messageID)
        guard keys.insert(key).inserted else { return false }
        if order.count < capacity {
            order.append(key)
        } else {
            keys.remove(order[oldest])
            order[oldest] = key
            oldest = (oldest + 1) % capacity
        }
        return true
    }
}
