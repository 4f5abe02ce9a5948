import Chat
import Datagram
import Relay
@testable import RelayStore
import Testing

// Issue 10/11, Specs/chat-protocol.md section 4.11, "Sealed private messages": schema version 3 keeps
// a sealed private message under its recipient's session with its bytes exactly, beside plain lines.

private let wallClock = StorageClock(now: .zero, unixMilliseconds: 1_790_000_000_000)

/// Specs/chat-protocol.md, section 4.11: a kept sealed private message comes back from the database
/// with its bytes and time exactly, and the plain line after it with none; a version-2 database is
/// migrated to the current version with its history kept.
@Test func aKeptSealedPrivateMessageKeepsItsBytesAndTimeInTheDatabase() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    do {
        let database = try SQLiteDatabase(path: directory.databasePath)
        try SQLiteRelayStorage.migrate(database, from: 0, to: 2)
        try database.execute("""
            INSERT INTO history (room, room_name, from_name, sender, message_id, flags, text, time_ms)
            VALUES ('@1', '', 'carol', 3, 1, 0, 'older', 5)
            """)
    }
    let sealed = (0..<130).map { UInt8(truncatingIfNeeded: $0 * 7) }
    let store = try SQLiteRelayStorage(directory: directory.path)
    #expect(try store.database.integer("PRAGMA user_version") == 3)
    try store.perform([.appendHistory(room: "@1", HistoryLine(room: "", from: "alice", sender: SenderID(rawValue: 2), messageID: 4,
                                                              flags: [], text: "", unixMilliseconds: 1_790_000_005_000, sealed: sealed)),
                       .appendHistory(room: "@1", HistoryLine(room: "", from: "alice", sender: SenderID(rawValue: 2), messageID: 5,
                                                              flags: [], text: "plain"))], clock: wallClock)
    let lines = try store.history(room: "@1", limit: 10)
    #expect(lines.map(\.text) == ["older", "", "plain"])
    #expect(lines.map(\.sealed) == [nil, sealed, nil])
    #expect(lines.map(\.unixMilliseconds) == [5, 1_790_000_005_000, 1_790_000_000_000])
}
