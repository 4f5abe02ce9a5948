import CSQLite
import Chat
import Datagram
import Relay

/// The relay's data directory: one SQLite database (`relay.sqlite3`) in WAL mode with synchronous
/// commits, opened in exclusive locking mode (one writer: a second relay on the same directory is
/// refused with a clear error). The schema's version is `PRAGMA user_version`; older schemas are
/// migrated on open, a newer one is refused. Every batch is one transaction. Specs/chat-protocol.md,
/// section 4.11.
public final class SQLiteRelayStorage: RelayStorage {
    /// The schema version this relay writes.
    public static let schemaVersion: Int64 = 3
    /// The file name inside the data directory.
    public static let fileName = "relay.sqlite3"

    /// Migrations: entry `n` takes the schema from version `n` to `n + 1`.
    static let migrations = [
        """
        CREATE TABLE room_settings (room TEXT PRIMARY KEY, settings BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE relay_state (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE history (
            id INTEGER PRIMARY KEY, room TEXT NOT NULL, room_name TEXT NOT NULL, from_name TEXT NOT NULL,
            sender INTEGER NOT NULL, message_id INTEGER NOT NULL, flags INTEGER NOT NULL, text TEXT NOT NULL,
            time_ms INTEGER NOT NULL);
        CREATE INDEX history_by_room ON history (room, id);
        CREATE TABLE sessions (sender INTEGER PRIMARY KEY, last_message_id INTEGER NOT NULL, seen_ms INTEGER NOT NULL);
        """,
        // Version 2: accounts and offline private messages (section 4.11.5).
        """
        CREATE TABLE accounts (name TEXT PRIMARY KEY, record BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE offline_messages (
            id INTEGER PRIMARY KEY, account TEXT NOT NULL, from_name TEXT NOT NULL, sender INTEGER NOT NULL,
            message_id INTEGER NOT NULL, flags INTEGER NOT NULL, text TEXT NOT NULL, sealed BLOB, time_ms INTEGER NOT NULL);
        CREATE INDEX offline_by_account ON offline_messages (account, id);
        """,
        // Version 3: sealed private messages kept under their recipient's session, like PRIVATE
        // (section 4.11, "Private messages"): the sealed bytes beside an empty text.
        """
        ALTER TABLE history ADD COLUMN sealed BLOB;
        """,
    ]

    let database: SQLiteDatabase
    /// Lines kept per room, and for how long (nil: no age limit).
    public let historyLimit: Int
    public let historyRetention: Duration?
    private let saveSettings: Statement
    private let deleteSettings: Statement
    private let saveState: Statement
    private let appendLine: Statement
    private let trimRoom: Statement
    private let expireLines: Statement
    private let readLines: Statement
    private let saveSession: Statement
    private let expireSessions: Statement
    private var lastExpiry: Int64?
    private let saveAccount: Statement
    private let deleteAccount: Statement
    private let storeOffline: Statement
    private let clearOffline: Statement

    /// Opens the database in directory `directory` (which must exist), or an in-memory one for
    /// ":memory:"; migrates an older schema. Throws a `StorageError` that says what to do.
    public init(directory: String, historyLimit: Int = 10_000, historyRetention: Duration? = nil) throws(StorageError) {
        let path = directory == ":memory:" ? directory : (directory.hasSuffix("/") ? directory : directory + "/") + Self.fileName
        database = try SQLiteDatabase(path: path)
        self.historyLimit = max(0, historyLimit)
        self.historyRetention = historyRetention
        try database.execute("PRAGMA locking_mode = EXCLUSIVE")
        // The first statement that reads the file: a damaged file, a read-only one or another
        // relay's lock shows here.
        let version = try database.integer("PRAGMA user_version")
        guard version <= Self.schemaVersion else {
            throw StorageError(.newerSchema, "The relay's database \(path) has schema version \(version), newer than this relay's "
                               + "\(Self.schemaVersion): run the newer relay that wrote it, or start this one with another --data DIR")
        }
        if path != ":memory:" {
            let mode = try database.text("PRAGMA journal_mode = WAL")
            guard mode.lowercased() == "wal" else {
                throw StorageError(.other, "The relay's database \(path) cannot use write-ahead logging (journal mode \(mode)): "
                                   + "put --data on a local file system")
            }
        }
        try database.execute("PRAGMA synchronous = FULL")
        try Self.migrate(database, from: version)
        saveSettings = try database.prepare("INSERT OR REPLACE INTO room_settings (room, settings) VALUES (?1, ?2)")
        deleteSettings = try database.prepare("DELETE FROM room_settings WHERE room = ?1")
        saveState = try database.prepare("INSERT OR REPLACE INTO relay_state (key, value) VALUES (?1, ?2)")
        appendLine = try database.prepare("""
            INSERT INTO history (room, room_name, from_name, sender, message_id, flags, text, time_ms, sealed)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            """)
        trimRoom = try database.prepare("""
            DELETE FROM history WHERE room = ?1 AND id <= (SELECT id FROM history WHERE room = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)
            """)
        expireLines = try database.prepare("DELETE FROM history WHERE time_ms < ?1")
        saveSession = try database.prepare("INSERT OR REPLACE INTO sessions (sender, last_message_id, seen_ms) VALUES (?1, ?2, ?3)")
        expireSessions = try database.prepare("DELETE FROM sessions WHERE seen_ms < ?1")
        saveAccount = try database.prepare("INSERT OR REPLACE INTO accounts (name, record) VALUES (?1, ?2)")
        deleteAccount = try database.prepare("DELETE FROM accounts WHERE name = ?1")
        storeOffline = try database.prepare("""
            INSERT INTO offline_messages (account, from_name, sender, message_id, flags, text, sealed, time_ms)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?7)
            """)
        clearOffline = try database.prepare("DELETE FROM offline_messages WHERE account = ?1")
        readLines = try database.prepare("""
            SELECT room_name, from_name, sender, message_id, flags, text, time_ms, sealed IS NOT NULL, sealed FROM
            (SELECT * FROM history WHERE room = ?1 AND time_ms >= ?3 ORDER BY id DESC LIMIT ?2) ORDER BY id
            """)
    }

    /// Migrates from `version` to `target` (the current schema unless a test asks for an older one).
    static func migrate(_ database: SQLiteDatabase, from version: Int64, to target: Int64 = schemaVersion) throws(StorageError) {
        guard version < target else { return }
        try database.execute("BEGIN IMMEDIATE")
        do throws(StorageError) {
            for step in Int(version)..<Int(target) { try database.execute(migrations[step]) }
            try database.execute("PRAGMA user_version = \(target)")
            try database.execute("COMMIT")
        } catch {
            try? database.execute("ROLLBACK")
            throw error
        }
    }

    public func load(clock: StorageClock) throws(StorageError) -> StoredRelayState {
        var state = StoredRelayState()
        let rooms = try database.prepare("SELECT room, settings FROM room_settings ORDER BY room")
        while try rooms.step() {
            let room = rooms.text(0)
            guard let settings = RoomSettings(storageBytes: rooms.blob(1), clock: clock) else {
                throw StorageError(.corrupt, "The saved settings of room \(room) in \(database.path) are damaged: "
                                   + "move the file aside and start again, or restore it from a backup")
            }
            state.roomSettings[room] = settings
        }
        let bans = try database.prepare("SELECT value FROM relay_state WHERE key = 'relay_bans'")
        if try bans.step() {
            guard let list = Ban.decodeList(storageBytes: bans.blob(0), clock: clock) else {
                throw StorageError(.corrupt, "The saved relay-wide bans in \(database.path) are damaged: "
                                   + "move the file aside and start again, or restore it from a backup")
            }
            state.relayBans = list
        }
        let sessions = try database.prepare("SELECT sender, last_message_id FROM sessions")
        while try sessions.step() {
            state.lastMessageIDs[SenderID(rawValue: UInt64(bitPattern: sessions.integer(0)))] = UInt64(bitPattern: sessions.integer(1))
        }
        let accounts = try database.prepare("SELECT name, record FROM accounts ORDER BY name")
        while try accounts.step() {
            let name = accounts.text(0)
            guard let account = Account(storageBytes: accounts.blob(1)) else {
                throw StorageError(.corrupt, "The saved account \(name) in \(database.path) is damaged: "
                                   + "move the file aside and start again, or restore it from a backup")
            }
            state.accounts[name] = account
        }
        let offline = try database.prepare("""
            SELECT account, from_name, sender, message_id, flags, text, time_ms, sealed IS NOT NULL, sealed FROM offline_messages ORDER BY id
            """)
        while try offline.step() {
            state.offlineMessages[offline.text(0), default: []].append(
                OfflineMessage(from: offline.text(1), sender: SenderID(rawValue: UInt64(bitPattern: offline.integer(2))),
                               messageID: UInt64(bitPattern: offline.integer(3)),
                               flags: MessageFlags(rawValue: UInt8(truncatingIfNeeded: offline.integer(4))),
                               text: offline.text(5), sealed: offline.integer(7) != 0 ? offline.blob(8) : nil,
                               unixMilliseconds: offline.integer(6)))
        }
        return state
    }

    public func perform(_ batch: [StorageAction], clock: StorageClock) throws(StorageError) {
        guard !batch.isEmpty else { return }
        try database.execute("BEGIN IMMEDIATE")
        do throws(StorageError) {
            var roomsWithNewLines: Set<String> = []
            for action in batch {
                switch action {
                case let .saveRoomSettings(room, settings?):
                    saveSettings.bind(1, room)
                    saveSettings.bind(2, settings.storageBytes(clock: clock))
                    try saveSettings.run()
                case let .saveRoomSettings(room, nil):
                    deleteSettings.bind(1, room)
                    try deleteSettings.run()
                case let .saveRelayBans(bans):
                    saveState.bind(1, "relay_bans")
                    saveState.bind(2, Ban.encodeList(bans, clock: clock))
                    try saveState.run()
                case let .appendHistory(room, line):
                    appendLine.bind(1, room)
                    appendLine.bind(2, line.room)
                    appendLine.bind(3, line.from)
                    appendLine.bind(4, Int64(bitPattern: line.sender.rawValue))
                    appendLine.bind(5, Int64(bitPattern: line.messageID))
                    appendLine.bind(6, Int64(line.flags.rawValue))
                    appendLine.bind(7, line.text)
                    appendLine.bind(8, line.unixMilliseconds == 0 ? clock.unixMilliseconds : line.unixMilliseconds)
                    if let sealed = line.sealed { appendLine.bind(9, sealed) }
                    try appendLine.run()
                    roomsWithNewLines.insert(room)
                case let .recordMessageID(sender, id):
                    saveSession.bind(1, Int64(bitPattern: sender.rawValue))
                    saveSession.bind(2, Int64(bitPattern: id))
                    saveSession.bind(3, clock.unixMilliseconds)
                    try saveSession.run()
                case let .saveAccount(name, account?):
                    saveAccount.bind(1, name)
                    saveAccount.bind(2, account.storageBytes)
                    try saveAccount.run()
                case let .saveAccount(name, nil):
                    deleteAccount.bind(1, name)
                    try deleteAccount.run()
                case let .storeOffline(name, message):
                    storeOffline.bind(1, name)
                    storeOffline.bind(2, message.from)
                    storeOffline.bind(3, Int64(bitPattern: message.sender.rawValue))
                    storeOffline.bind(4, Int64(bitPattern: message.messageID))
                    storeOffline.bind(5, Int64(message.flags.rawValue))
                    storeOffline.bind(6, message.text)
                    storeOffline.bind(7, message.unixMilliseconds == 0 ? clock.unixMilliseconds : message.unixMilliseconds)
                    if let sealed = message.sealed { storeOffline.bind(8, sealed) }
                    try storeOffline.run()
                case let .clearOffline(name):
                    clearOffline.bind(1, name)
                    try clearOffline.run()
                }
            }
            for room in roomsWithNewLines.sorted() {
                trimRoom.bind(1, room)
                trimRoom.bind(2, Int64(historyLimit))
                try trimRoom.run()
            }
            // Age: at most once a minute (it scans the table).
            if let retention = historyRetention, lastExpiry.map({ clock.unixMilliseconds &- $0 >= 60_000 }) ?? true {
                lastExpiry = clock.unixMilliseconds
                expireLines.bind(1, clock.unixMilliseconds - Int64(retention.components.seconds) * 1_000)
                try expireLines.run()
                expireSessions.bind(1, clock.unixMilliseconds - Int64(retention.components.seconds) * 1_000)
                try expireSessions.run()
            }
            try database.execute("COMMIT")
        } catch {
            try? database.execute("ROLLBACK")
            throw error
        }
    }

    public func history(room: String, limit: Int, since: Int64? = nil) throws(StorageError) -> [HistoryLine] {
        defer { readLines.reset() }
        readLines.bind(1, room)
        readLines.bind(2, Int64(max(0, limit)))
        readLines.bind(3, since ?? .min)
        var lines: [HistoryLine] = []
        while try readLines.step() {
            lines.append(HistoryLine(room: readLines.text(0), from: readLines.text(1),
                                     sender: SenderID(rawValue: UInt64(bitPattern: readLines.integer(2))),
                                     messageID: UInt64(bitPattern: readLines.integer(3)),
                                     flags: MessageFlags(rawValue: UInt8(truncatingIfNeeded: readLines.integer(4))),
                                     text: readLines.text(5), unixMilliseconds: readLines.integer(6),
                                     sealed: readLines.integer(7) != 0 ? readLines.blob(8) : nil))
        }
        return lines
    }

    /// Runs raw SQL (tests: to fill the disk with `PRAGMA max_page_count`).
    func execute(_ sql: String) throws(StorageError) { try database.execute(sql) }
}
