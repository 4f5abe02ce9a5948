import Chat
import Datagram
import Relay
@testable import RelayStore
import Testing

// Issue 11, Specs/chat-protocol.md section 4.11.5: accounts and offline private messages in the
// SQLite data directory (schema version 2), and the migration from version 1.

private let key = IdentityKey(bytes: [UInt8](repeating: 0x42, count: 32))!
private let account = Account(name: "alice", keys: [key],
                              password: PasswordHash(cost: .relayDefault, salt: [UInt8](repeating: 1, count: 16),
                                                     hash: [UInt8](repeating: 2, count: 32)))

/// Specs/chat-protocol.md, section 4.11.5: accounts and mailboxes survive closing and reopening the database; a delivered mailbox and a
/// dropped account are gone.
@Test func accountsAndOfflineMessagesSurviveClosingAndReopeningTheDatabase() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    do {
        let store = try SQLiteRelayStorage(directory: directory.path)
        try store.perform([.saveAccount(name: "alice", account), .saveAccount(name: "bob", Account(name: "bob", keys: [key])),
                           .storeOffline(account: "alice", OfflineMessage(from: "bob", sender: SenderID(rawValue: 7), messageID: 1,
                                                                          flags: [], text: "first")),
                           .storeOffline(account: "alice", OfflineMessage(from: "carol", sender: SenderID(rawValue: 8), messageID: 9,
                                                                          flags: [.action], text: "second", unixMilliseconds: 42)),
                           .storeOffline(account: "bob", OfflineMessage(from: "x", sender: SenderID(rawValue: 1), messageID: 1,
                                                                        flags: [], text: "y"))], clock: clock)
        try store.perform([.saveAccount(name: "bob", nil), .clearOffline(account: "bob")], clock: clock)
    }
    let state = try SQLiteRelayStorage(directory: directory.path).load(clock: clock)
    #expect(state.accounts == ["alice": account])
    #expect(state.offlineMessages["alice"]?.map(\.text) == ["first", "second"])
    #expect(state.offlineMessages["alice"]?.map(\.unixMilliseconds) == [clock.unixMilliseconds, 42])
    #expect(state.offlineMessages["alice"]?.last?.flags == [.action])
    #expect(state.offlineMessages["bob"] == nil)
}

/// Specs/chat-protocol.md, section 4.11.5: a database written by the previous relay (schema version 1) is migrated to version 2 on open,
/// keeping what it had.
@Test func aVersionOneDatabaseIsMigratedToTheCurrentVersion() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    do {
        let database = try SQLiteDatabase(path: directory.databasePath)
        try SQLiteRelayStorage.migrate(database, from: 0, to: 1)
        try database.execute("INSERT INTO sessions (sender, last_message_id, seen_ms) VALUES (5, 17, 0)")
        #expect(try database.integer("PRAGMA user_version") == 1)
    }
    let store = try SQLiteRelayStorage(directory: directory.path)
    #expect(try store.database.integer("PRAGMA user_version") == SQLiteRelayStorage.schemaVersion)
    try store.perform([.saveAccount(name: "alice", account)], clock: clock)
    let state = try store.load(clock: clock)
    #expect(state.lastMessageIDs[SenderID(rawValue: 5)] == 17)
    #expect(state.accounts["alice"] == account)
}

/// Specs/chat-protocol.md, section 4.11.5: a damaged saved account is reported with what to do, never trusted.
@Test func aDamagedSavedAccountIsReported() throws {
    let store = try SQLiteRelayStorage(directory: ":memory:")
    try store.execute("INSERT INTO accounts (name, record) VALUES ('alice', x'0105')")
    #expect { _ = try store.load(clock: clock) } throws: { error in
        (error as? StorageError)?.kind == .corrupt && (error as? StorageError)?.message.contains("move the file aside") == true
    }
}

/// Specs/chat-protocol.md, section 4.11.5: a stored sealed message keeps its bytes exactly.
@Test func aStoredSealedMessageKeepsItsBytes() throws {
    let store = try SQLiteRelayStorage(directory: ":memory:")
    let sealed = (0..<120).map { UInt8($0) }
    try store.perform([.storeOffline(account: "alice", OfflineMessage(from: "bob", sender: SenderID(rawValue: 2), messageID: 3,
                                                                      flags: [], text: "", sealed: sealed)),
                       .storeOffline(account: "alice", OfflineMessage(from: "bob", sender: SenderID(rawValue: 2), messageID: 4,
                                                                      flags: [], text: "plain"))], clock: clock)
    let box = try store.load(clock: clock).offlineMessages["alice"] ?? []
    #expect(box.map(\.sealed) == [sealed, nil])
    #expect(box.map(\.text) == ["", "plain"])
}
