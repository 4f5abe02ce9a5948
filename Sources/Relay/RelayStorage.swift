import Chat
import Datagram

/// What the relay keeps in its data directory, as the pure core sees it (Specs/chat-protocol.md,
/// section 4.11). `RelayCore` never touches a file: once storage is attached (`attachStorage`), it
/// emits `StorageAction`s beside its other actions (`pollStorageAction()`), and the host performs
/// them against a `RelayStorage` — every action of one input in one transaction, before anything
/// that input sends. The scripted tests use `MemoryRelayStorage`; the relay executable uses
/// RelayStore's SQLite implementation.
public protocol RelayStorage: AnyObject {
    /// What was saved before: the relay calls it once at start and hands it to `attachStorage`.
    func load(clock: StorageClock) throws(StorageError) -> StoredRelayState
    /// Performs `batch` in one transaction: all of it is saved, or none of it and an error.
    func perform(_ batch: [StorageAction], clock: StorageClock) throws(StorageError)
    /// The last `limit` lines said in the room with canonical name `room` (only those said at or after
    /// `since`, milliseconds since the epoch, when given), oldest first.
    func history(room: String, limit: Int, since: Int64?) throws(StorageError) -> [HistoryLine]
}

/// The relay's monotonic clock and the wall clock read at the same moment: times that must survive a
/// restart (a ban's expiry, a history line's time) are saved on the wall clock and turned back into
/// the relay's clock when loaded.
public struct StorageClock: Sendable, Hashable {
    /// The relay's clock now.
    public var now: Timestamp
    /// Milliseconds since 1970-01-01 00:00:00 UTC now.
    public var unixMilliseconds: Int64

    public init(now: Timestamp, unixMilliseconds: Int64) {
        self.now = now
        self.unixMilliseconds = unixMilliseconds
    }

    /// `time` on the wall clock, in milliseconds since the epoch.
    public func unixMilliseconds(of time: Timestamp) -> Int64 {
        let (seconds, attoseconds) = (time - now).components
        let milliseconds = seconds.multipliedReportingOverflow(by: 1_000)
        guard !milliseconds.overflow else { return seconds < 0 ? Int64.min / 2 : Int64.max / 2 }
        return unixMilliseconds.addingReportingOverflow(milliseconds.partialValue + attoseconds / 1_000_000_000_000_000).partialValue
    }

    /// The wall-clock time `milliseconds` on the relay's clock, kept within a ban's longest duration
    /// (`UInt32.max` seconds) of now either way, so that a damaged value cannot overflow later sums.
    public func timestamp(unixMilliseconds milliseconds: Int64) -> Timestamp {
        let horizon = Int64(UInt32.max) * 1_000
        let difference = milliseconds.subtractingReportingOverflow(unixMilliseconds)
        let bounded = difference.overflow ? (milliseconds < unixMilliseconds ? -horizon : horizon)
                                          : min(max(difference.partialValue, -horizon), horizon)
        return now + .milliseconds(bounded)
    }
}

/// One change for the data directory.
public enum StorageAction: Sendable, Hashable {
    /// The room with this canonical name now has these settings (nil: it has none left to keep).
    case saveRoomSettings(room: String, RoomSettings?)
    /// The relay-wide bans are now these.
    case saveRelayBans([Ban])
    /// A line was said in the room with this canonical name.
    case appendHistory(room: String, HistoryLine)
    /// The highest SAY/PRIVATE id handled from this session is now this (exactly-once across restarts).
    case recordMessageID(SenderID, UInt64)
    /// The account stored under this name skeleton is now this (nil: dropped).
    case saveAccount(name: String, Account?)
    /// A private message for the account with this skeleton, who was not connected.
    case storeOffline(account: String, OfflineMessage)
    /// The account's offline messages were delivered (or the account dropped): forget them.
    case clearOffline(account: String)
}

/// A line of a room's history as saved.
public struct HistoryLine: Sendable, Hashable {
    /// The room's name as spelled when the line was said.
    public var room: String
    public var from: String
    public var sender: SenderID
    public var messageID: UInt64
    public var flags: MessageFlags
    public var text: String
    /// When the relay took it in, on the wall clock (filled in by the store from the batch's clock
    /// when zero).
    public var unixMilliseconds: Int64
    /// A sealed private message kept under its recipient's session: its bytes as the sender sealed
    /// them (`text` is then empty). Nil for every other line.
    public var sealed: [UInt8]?

    public init(room: String, from: String, sender: SenderID, messageID: UInt64, flags: MessageFlags, text: String,
                unixMilliseconds: Int64 = 0, sealed: [UInt8]? = nil) {
        self.sealed = sealed
        self.room = room
        self.from = from
        self.sender = sender
        self.messageID = messageID
        self.flags = flags
        self.text = text
        self.unixMilliseconds = unixMilliseconds
    }
}

/// Everything the relay loads at start.
public struct StoredRelayState: Sendable, Hashable {
    /// Canonical room name → settings.
    public var roomSettings: [String: RoomSettings]
    public var relayBans: [Ban]
    /// Each session's highest SAY/PRIVATE id handled (sessions seen within the retention).
    public var lastMessageIDs: [SenderID: UInt64]
    /// Name skeleton → account.
    public var accounts: [String: Account]
    /// Name skeleton → offline messages, oldest first.
    public var offlineMessages: [String: [OfflineMessage]]

    public init(roomSettings: [String: RoomSettings] = [:], relayBans: [Ban] = [], lastMessageIDs: [SenderID: UInt64] = [:],
                accounts: [String: Account] = [:], offlineMessages: [String: [OfflineMessage]] = [:]) {
        self.roomSettings = roomSettings
        self.relayBans = relayBans
        self.lastMessageIDs = lastMessageIDs
        self.accounts = accounts
        self.offlineMessages = offlineMessages
    }
}

/// Why the data directory cannot be used, with what to do about it.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The directory or file cannot be created or opened.
        case cannotOpen
        /// The file or directory is read-only.
        case readOnly
        /// The file is not a database this relay wrote, or is damaged.
        case corrupt
        /// The schema is newer than this relay knows.
        case newerSchema
        /// The disk (or the database's size limit) is full.
        case diskFull
        /// Anything else the database reported.
        case other
    }

    public var kind: Kind
    /// The whole message: what went wrong, where, and what to do.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// A `RelayStorage` in memory, for the scripted tests and `relay --data :memory:`: the same rules
/// as the SQLite store (settings saved through the same encoding, history bounded by `historyLimit`
/// lines per room), gone when the process ends.
public final class MemoryRelayStorage: RelayStorage {
    /// Encoded settings (`RoomSettings.storageBytes`), by canonical room name.
    public private(set) var roomSettings: [String: [UInt8]] = [:]
    public private(set) var relayBans: [UInt8]?
    public private(set) var lines: [String: [HistoryLine]] = [:]
    public private(set) var lastMessageIDs: [SenderID: UInt64] = [:]
    /// Encoded accounts (`Account.storageBytes`), by name skeleton.
    public private(set) var accounts: [String: [UInt8]] = [:]
    public private(set) var offlineMessages: [String: [OfflineMessage]] = [:]
    /// Batches performed, for tests of commit batching.
    public private(set) var transactions = 0
    /// Lines kept per room.
    public let historyLimit: Int

    public init(historyLimit: Int = 10_000) {
        self.historyLimit = max(0, historyLimit)
    }

    public func load(clock: StorageClock) throws(StorageError) -> StoredRelayState {
        var state = StoredRelayState()
        for (room, bytes) in roomSettings {
            guard let settings = RoomSettings(storageBytes: bytes, clock: clock) else {
                throw StorageError(.corrupt, "The saved settings of room \(room) are damaged")
            }
            state.roomSettings[room] = settings
        }
        if let bytes = relayBans {
            guard let bans = Ban.decodeList(storageBytes: bytes, clock: clock) else {
                throw StorageError(.corrupt, "The saved relay-wide bans are damaged")
            }
            state.relayBans = bans
        }
        state.lastMessageIDs = lastMessageIDs
        for (name, bytes) in accounts {
            guard let account = Account(storageBytes: bytes) else { throw StorageError(.corrupt, "The saved account \(name) is damaged") }
            state.accounts[name] = account
        }
        state.offlineMessages = offlineMessages
        return state
    }

    public func perform(_ batch: [StorageAction], clock: StorageClock) throws(StorageError) {
        transactions += 1
        for action in batch {
            switch action {
            case let .saveRoomSettings(room, settings):
                roomSettings[room] = settings?.storageBytes(clock: clock)
            case let .saveRelayBans(bans):
                relayBans = Ban.encodeList(bans, clock: clock)
            case let .appendHistory(room, line):
                var line = line
                if line.unixMilliseconds == 0 { line.unixMilliseconds = clock.unixMilliseconds }
                lines[room, default: []].append(line)
                if let count = lines[room]?.count, count > historyLimit { lines[room]?.removeFirst(count - historyLimit) }
            case let .recordMessageID(sender, id):
                lastMessageIDs[sender] = id
            case let .saveAccount(name, account):
                accounts[name] = account?.storageBytes
            case let .storeOffline(name, message):
                var message = message
                if message.unixMilliseconds == 0 { message.unixMilliseconds = clock.unixMilliseconds }
                offlineMessages[name, default: []].append(message)
            case let .clearOffline(name):
                offlineMessages[name] = nil
            }
        }
    }

    public func history(room: String, limit: Int, since: Int64?) throws(StorageError) -> [HistoryLine] {
        Array((lines[room] ?? []).filter { $0.unixMilliseconds >= since ?? .min }.suffix(max(0, limit)))
    }
}

extension RelayStorage {
    /// The last `limit` lines of the room, oldest first.
    public func history(room: String, limit: Int) throws(StorageError) -> [HistoryLine] {
        try history(room: room, limit: limit, since: nil)
    }
}
