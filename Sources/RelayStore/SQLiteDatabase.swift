import CSQLite
import Relay

/// A thin owner of one `sqlite3` handle and its prepared statements. Not thread-safe: its owner (the
/// relay host) uses it from one queue, under its lock.
final class SQLiteDatabase {
    private(set) var handle: OpaquePointer?
    let path: String

    /// Opens (creating) the database at `path` (":memory:" for an in-memory one).
    init(path: String) throws(StorageError) {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        self.handle = handle
        guard code == SQLITE_OK else {
            let error = Self.error(code, handle: handle, path: path, doing: "open")
            sqlite3_close_v2(handle)
            self.handle = nil
            throw error
        }
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows of interest.
    func execute(_ sql: String) throws(StorageError) {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error(code, doing: "run \"\(sql.prefix(60))\"") }
    }

    /// The first column of the first row of `sql` as an integer (a PRAGMA's value).
    func integer(_ sql: String) throws(StorageError) -> Int64 {
        let statement = try prepare(sql)
        guard try statement.step() else { return 0 }
        return statement.integer(0)
    }

    /// The first column of the first row of `sql` as text.
    func text(_ sql: String) throws(StorageError) -> String {
        let statement = try prepare(sql)
        guard try statement.step() else { return "" }
        return statement.text(0)
    }

    func prepare(_ sql: String) throws(StorageError) -> Statement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code, doing: "prepare \"\(sql.prefix(60))\"") }
        return Statement(statement, database: self)
    }

    func error(_ code: Int32, doing what: String) -> StorageError {
        Self.error(code, handle: handle, path: path, doing: what)
    }

    /// A `StorageError` for an SQLite result code, saying what to do about it.
    static func error(_ code: Int32, handle: OpaquePointer?, path: String, doing what: String) -> StorageError {
        let detail = handle.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
        switch code & 0xFF {
        case SQLITE_FULL:
            return StorageError(.diskFull, "The relay's database \(path) is full (disk full: \(detail)) during \(what): "
                                + "free some space on that disk, or start the relay with --data on another disk")
        case SQLITE_READONLY:
            return StorageError(.readOnly, "The relay's database \(path) is read-only (\(detail)) during \(what): "
                                + "make it and its directory writable by this user, or start the relay with --data pointing elsewhere")
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH:
            return StorageError(.cannotOpen, "Cannot open or create the relay's database \(path) (\(detail)): check that its "
                                + "directory exists and is writable by this user, or start the relay with --data DIR pointing elsewhere")
        case SQLITE_NOTADB, SQLITE_CORRUPT:
            return StorageError(.corrupt, "The relay's database \(path) is damaged or not a database (\(detail)): move it "
                                + "aside (with its -wal file) and start again to begin empty, or restore it from a backup")
        case SQLITE_BUSY, SQLITE_LOCKED:
            return StorageError(.cannotOpen, "The relay's database \(path) is in use by another process (\(detail)): only one "
                                + "relay may use a data directory; stop the other one or start this one with another --data DIR")
        case SQLITE_IOERR:
            return StorageError(.other, "Cannot read or write the relay's database \(path) (\(detail)) during \(what): "
                                + "check the disk and the file system, then start the relay again")
        default:
            return StorageError(.other, "The relay's database \(path) failed during \(what) (\(detail), code \(code))")
        }
    }
}

/// One prepared statement, reset after each use.
final class Statement {
    let handle: OpaquePointer
    unowned let database: SQLiteDatabase

    init(_ handle: OpaquePointer, database: SQLiteDatabase) {
        self.handle = handle
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    func bind(_ index: Int32, _ value: String) {
        sqlite3_bind_text(handle, index, value, -1, Self.transient)
    }

    func bind(_ index: Int32, _ value: [UInt8]) {
        value.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(handle, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
        }
    }

    /// Steps once: true when a row is ready, false when done.
    func step() throws(StorageError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = database.error(code, doing: "run \"\(String(cString: sqlite3_sql(handle)).prefix(60))\"")
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Steps to the end (a statement with no rows), then resets.
    func run() throws(StorageError) {
        defer { reset() }
        while try step() {}
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
