import Chat
import Datagram

// The saved form of room settings and bans (Specs/chat-protocol.md, section 4.11.2): a version byte,
// then big-endian fields; strings are a 16-bit length and UTF-8; id lists a 16-bit count and 64-bit
// ids; a ban's expiry is on the wall clock. Decoding checks every length against what is left and
// every count against the relay's own limits, so a damaged file is reported, never trusted.

extension RoomSettings {
    /// The encoding version this relay writes.
    static let storageVersion: UInt8 = 1

    /// The settings as saved, with ban expiries turned into wall-clock times by `clock`.
    public func storageBytes(clock: StorageClock) -> [UInt8] {
        var writer = StorageWriter()
        writer.byte(Self.storageVersion)
        writer.byte((isModerated ? 1 : 0) | (isInviteOnly ? 2 : 0) | (key != nil ? 4 : 0))
        if let key { writer.string(key) }
        writer.string(topic)
        writer.string(topicSetBy)
        for list in [operators, voiced, muted, invited, admitted] {
            writer.ids(list.map(\.rawValue).sorted())
        }
        writer.bans(bans, clock: clock)
        return writer.bytes
    }

    /// Decodes saved settings; nil when the bytes are damaged or from a newer relay.
    public init?(storageBytes bytes: [UInt8], clock: StorageClock) {
        var reader = StorageReader(bytes)
        guard reader.byte() == Self.storageVersion, let flags = reader.byte(), flags & ~7 == 0 else { return nil }
        self.init()
        isModerated = flags & 1 != 0
        isInviteOnly = flags & 2 != 0
        if flags & 4 != 0 {
            guard let key = reader.string() else { return nil }
            self.key = key
        }
        guard let topic = reader.string(), let topicSetBy = reader.string() else { return nil }
        self.topic = topic
        self.topicSetBy = topicSetBy
        var lists: [Set<SenderID>] = []
        for _ in 0..<5 {
            guard let ids = reader.ids(maximum: RelayCore.maximumSessionsPerList) else { return nil }
            lists.append(Set(ids.map { SenderID(rawValue: $0) }))
        }
        (operators, voiced, muted, invited, admitted) = (lists[0], lists[1], lists[2], lists[3], lists[4])
        guard let bans = reader.bans(clock: clock), reader.isAtEnd else { return nil }
        self.bans = bans
    }
}

extension Ban {
    /// A list of relay-wide bans as saved.
    public static func encodeList(_ bans: [Ban], clock: StorageClock) -> [UInt8] {
        var writer = StorageWriter()
        writer.byte(RoomSettings.storageVersion)
        writer.bans(bans, clock: clock)
        return writer.bytes
    }

    /// Decodes a saved list of bans; nil when damaged.
    public static func decodeList(storageBytes bytes: [UInt8], clock: StorageClock) -> [Ban]? {
        var reader = StorageReader(bytes)
        guard reader.byte() == RoomSettings.storageVersion, let bans = reader.bans(clock: clock), reader.isAtEnd else { return nil }
        return bans
    }
}

struct StorageWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        var big = value.bigEndian
        withUnsafeBytes(of: &big) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8.prefix(Int(UInt16.max)))
        integer(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func ids(_ values: [UInt64]) {
        integer(UInt16(min(values.count, Int(UInt16.max))))
        for value in values.prefix(Int(UInt16.max)) { integer(value) }
    }

    mutating func bans(_ bans: [Ban], clock: StorageClock) {
        integer(UInt16(min(bans.count, Int(UInt16.max))))
        for ban in bans.prefix(Int(UInt16.max)) {
            string(ban.mask.description)
            string(ban.setBy)
            string(ban.reason)
            if let expires = ban.expires {
                byte(1)
                integer(clock.unixMilliseconds(of: expires))
            } else {
                byte(0)
            }
        }
    }
}

struct StorageReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    /// The next `count` bytes as they are, or nil when fewer are left.
    mutating func raw(_ count: Int) -> [UInt8]? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func byte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { return nil }
        var value: T = 0
        for byte in bytes[offset..<offset + size] { value = value << 8 | T(byte) }
        offset += size
        return value
    }

    mutating func string() -> String? {
        guard let length = integer(UInt16.self).map(Int.init), bytes.count - offset >= length else { return nil }
        defer { offset += length }
        return String(validating: bytes[offset..<offset + length], as: UTF8.self)
    }

    mutating func ids(maximum: Int) -> [UInt64]? {
        guard let count = integer(UInt16.self).map(Int.init), count <= maximum, bytes.count - offset >= count * 8 else { return nil }
        var values: [UInt64] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            guard let value = integer(UInt64.self) else { return nil }
            values.append(value)
        }
        return values
    }

    mutating func bans(clock: StorageClock) -> [Ban]? {
        guard let count = integer(UInt16.self).map(Int.init), count <= RelayCore.maximumBansPerList else { return nil }
        var bans: [Ban] = []
        for _ in 0..<count {
            guard let maskText = string(), let mask = BanMask(maskText), let setBy = string(), let reason = string(),
                  let hasExpiry = byte(), hasExpiry <= 1 else { return nil }
            var expires: Timestamp?
            if hasExpiry == 1 {
                guard let milliseconds = integer(Int64.self) else { return nil }
                expires = clock.timestamp(unixMilliseconds: milliseconds)
            }
            bans.append(Ban(mask: mask, setBy: setBy, reason: reason, expires: expires))
        }
        return bans
    }
}

extension Account {
    /// The encoding version this relay writes.
    static let storageVersion: UInt8 = 1

    /// The account as saved: version, name, keys (a count byte, 32 bytes each), then a flag byte and,
    /// with a password, N, r and p (64 bits each), the salt and the hash (16-bit length each).
    public var storageBytes: [UInt8] {
        var writer = StorageWriter()
        writer.byte(Self.storageVersion)
        writer.string(name)
        writer.byte(UInt8(clamping: keys.count))
        for key in keys.prefix(Int(UInt8.max)) { writer.bytes += key.bytes }
        if let password {
            writer.byte(1)
            writer.integer(password.cost.n)
            writer.integer(password.cost.r)
            writer.integer(password.cost.p)
            for field in [password.salt, password.hash] {
                writer.integer(UInt16(clamping: field.count))
                writer.bytes += field.prefix(Int(UInt16.max))
            }
        } else {
            writer.byte(0)
        }
        return writer.bytes
    }

    /// Decodes a saved account; nil when the bytes are damaged or from a newer relay.
    public init?(storageBytes bytes: [UInt8]) {
        var reader = StorageReader(bytes)
        guard reader.byte() == Self.storageVersion, let name = reader.string(), let count = reader.byte(),
              Int(count) <= Account.maximumKeys else { return nil }
        var keys: [IdentityKey] = []
        for _ in 0..<count {
            guard let raw = reader.raw(IdentityKey.length), let key = IdentityKey(bytes: raw) else { return nil }
            keys.append(key)
        }
        self.init(name: name, keys: keys)
        guard let flag = reader.byte(), flag <= 1 else { return nil }
        if flag == 1 {
            guard let n = reader.integer(UInt64.self), let r = reader.integer(UInt64.self), let p = reader.integer(UInt64.self),
                  let saltLength = reader.integer(UInt16.self), let salt = reader.raw(Int(saltLength)),
                  let hashLength = reader.integer(UInt16.self), let hash = reader.raw(Int(hashLength)) else { return nil }
            password = PasswordHash(cost: PasswordCost(n: n, r: r, p: p), salt: salt, hash: hash)
        }
        guard reader.isAtEnd else { return nil }
    }
}
