/// A dictionary whose values stay where they are: an index from key to slot, and the values in one
/// contiguous array of slots. Reading a field of one (`table[key]?.statistics`) borrows it in its slot
/// and mutating one (`table[key]?.handleDatagram(...)`) changes it there. A `[Endpoint: Connection]`
/// moves or copies the whole value out and back on each such access; the relay makes several per
/// datagram (issue 13).
///
/// A plain value (arrays and a dictionary of integers): copying a `RelayCore` copies the table on its
/// first mutation, as any Swift collection does. Removed slots are reused (a free list), so the
/// storage never grows beyond the most values held at once.
struct InPlaceTable<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private var slotOfKey: [Key: Int] = [:]
    private var slots: [Value?] = []
    private var freeSlots: [Int] = []

    /// An empty table.
    init() {}

    /// The value for `key`; assigning nil removes it.
    subscript(key: Key) -> Value? {
        _read {
            if let slot = slotOfKey[key] { yield slots[slot] } else { yield nil }
        }
        _modify {
            if let slot = slotOfKey[key] {
                yield &slots[slot]
                if slots[slot] == nil { release(key, slot: slot) }
            } else {
                var value: Value?
                yield &value
                if let value { insert(value, for: key) }
            }
        }
    }

    private mutating func insert(_ value: Value, for key: Key) {
        if let slot = freeSlots.popLast() {
            slots[slot] = value
            slotOfKey[key] = slot
        } else {
            slotOfKey[key] = slots.count
            slots.append(value)
        }
    }

    private mutating func release(_ key: Key, slot: Int) {
        slotOfKey[key] = nil
        freeSlots.append(slot)
    }

    /// How many values the table holds.
    var count: Int { slotOfKey.count }
    /// True when the table holds nothing.
    var isEmpty: Bool { slotOfKey.isEmpty }
    /// The keys, in no particular order.
    var keys: Dictionary<Key, Int>.Keys { slotOfKey.keys }
    /// The values, in slot order (no particular order), read lazily: `peers.values.count(where:)`
    /// after every join must not copy every peer into a new array.
    var values: some Sequence<Value> { slots.lazy.compactMap { $0 } }

    /// Removes the value for `key` and returns it.
    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        guard let slot = slotOfKey[key] else { return nil }
        let value = slots[slot].take()
        release(key, slot: slot)
        return value
    }
}

extension InPlaceTable: ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (Key, Value)...) {
        for (key, value) in elements { self[key] = value }
    }
}
