/// A dictionary whose values stay where they are: an index from key to slot, and the values in one
/// contiguous block of slots. Reading a field of one (`table[key]?.statistics`) borrows it in its slot
/// and mutating one (`table[key]?.handleDatagram(...)`) changes it there. A `[Endpoint: Connection]`
/// moves or copies the whole value out and back on such accesses (a `Connection` copy retains every
/// buffer it holds); the relay makes several per datagram (issue 13). A plain `[Value?]` array is not
/// enough either: reading through an optional chain on an array element still copied the element.
///
/// It keeps value semantics: the slots belong to one storage object, copied the first time a shared
/// table is mutated (copy on write), so a copied `RelayCore` never sees another copy's changes.
/// Removed slots are reused (a free list), so the storage never grows beyond the most values held
/// at once.
struct InPlaceTable<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable {
    // @unchecked: `base` points into `storage`, which is copied before any mutation while shared.
    private var slotOfKey: [Key: Int] = [:]
    private var freeSlots: [Int] = []
    private var storage: SlotStorage<Value>
    private var base: UnsafeMutablePointer<Value?>

    /// An empty table.
    init() {
        storage = SlotStorage()
        base = storage.pointer
        _ = storage.append(nil)   // slot 0: the nil every missing key reads
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = storage.copy()
            base = storage.pointer
        }
    }

    /// The value for `key`; assigning nil removes it.
    subscript(key: Key) -> Value? {
        // By address, not `_read`: a coroutine yielding a loadable value from memory it cannot prove
        // unchanged during the access copies it (a Connection: every buffer retained). A missing key
        // answers the address of slot 0, which is always nil.
        unsafeAddress {
            UnsafePointer(base + (slotOfKey[key] ?? 0))
        }
        // Assignment (`table[key] = value`, `= nil` to remove) goes through `set`; changes through an
        // optional chain (`table[key]?.handleDatagram(...)`), which cannot make the value nil, through
        // `_modify`, in the slot. Checking the slot for nil after the yield loads a copy of the value
        // (a Connection: every buffer retained and released again; `== nil` and `if case .none` both
        // did), so `_modify` does not check a present key's slot: remove with `= nil` or
        // `removeValue(forKey:)`, never by passing `&table[key]` to a function that sets it to nil.
        set {
            if let slot = slotOfKey[key] {
                makeUnique()
                if let newValue {
                    base[slot] = newValue
                } else {
                    base[slot] = nil
                    release(key, slot: slot)
                }
            } else if let newValue {
                insert(newValue, for: key)
            }
        }
        _modify {
            if let slot = slotOfKey[key] {
                makeUnique()
                yield &base[slot]
            } else {
                var value: Value?
                yield &value
                if let value { insert(value, for: key) }
            }
        }
    }

    /// Runs `body` on the value for `key` where it lies; nil when the key is absent.
    ///
    /// For reads of computed properties on a large value: `table[key]?.nextDeadline` through
    /// `unsafeAddress` still copied the whole value first (the compiler cannot prove an unsafe
    /// address unchanged during the getter), where an `inout` access is exclusive and needs no copy.
    mutating func withValue<Result>(for key: Key, _ body: (inout Value) -> Result) -> Result? {
        guard let slot = slotOfKey[key] else { return nil }
        makeUnique()
        return body(&base[slot]!)
    }

    private mutating func insert(_ value: Value, for key: Key) {
        makeUnique()
        if let slot = freeSlots.popLast() {
            base[slot] = value
            slotOfKey[key] = slot
        } else {
            slotOfKey[key] = storage.append(value)
            base = storage.pointer
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
    /// The values, in no particular order, read lazily: `peers.values.count(where:)` after every join
    /// must not copy every peer into a new array.
    var values: some Sequence<Value> {
        let base = base
        return slotOfKey.values.lazy.map { [storage] slot in withExtendedLifetime(storage) { base[slot]! } }
    }

    /// Removes the value for `key` and returns it.
    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        guard let slot = slotOfKey[key] else { return nil }
        makeUnique()
        let value = base[slot].take()
        release(key, slot: slot)
        return value
    }
}

extension InPlaceTable: ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (Key, Value)...) {
        self.init()
        for (key, value) in elements { self[key] = value }
    }
}

/// The slots of an `InPlaceTable`: a block of `Value?` that grows by doubling (moving the values).
private final class SlotStorage<Value> {
    private(set) var pointer: UnsafeMutablePointer<Value?>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 16) {
        self.capacity = capacity
        pointer = .allocate(capacity: capacity)
    }

    deinit {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }

    /// Adds a slot holding `value`; returns its index. May move every slot (re-read `pointer`).
    func append(_ value: Value?) -> Int {
        if count == capacity {
            let bigger = UnsafeMutablePointer<Value?>.allocate(capacity: capacity * 2)
            bigger.moveInitialize(from: pointer, count: count)
            pointer.deallocate()
            pointer = bigger
            capacity *= 2
        }
        (pointer + count).initialize(to: value)
        count += 1
        return count - 1
    }

    /// An independent copy of every slot.
    func copy() -> SlotStorage {
        let copy = SlotStorage(capacity: capacity)
        copy.pointer.initialize(from: pointer, count: count)
        copy.count = count
        return copy
    }
}
