import Chat
import Datagram
import Foundation
import Relay
@testable import RelayStore
import Testing

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "relay-store-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    var databasePath: String { path + "/" + SQLiteRelayStorage.fileName }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

let clock = StorageClock(now: .milliseconds(5_000), unixMilliseconds: 1_790_000_000_000)

func classSettings() -> RoomSettings {
    var settings = RoomSettings()
    settings.operators = [SenderID(rawValue: 1)]
    settings.voiced = [SenderID(rawValue: 2)]
    settings.muted = [SenderID(rawValue: 3)]
    settings.invited = [SenderID(rawValue: 4)]
    settings.admitted = [SenderID(rawValue: 1), SenderID(rawValue: 5)]
    settings.isModerated = true
    settings.isInviteOnly = true
    settings.key = "sesame"
    settings.topic = "Networks, week 3"
    settings.topicSetBy = "teacher"
    settings.bans = [Ban(mask: BanMask("id:00000000000000aa")!, setBy: "teacher", reason: "spam", expires: .milliseconds(65_000)),
                     Ban(mask: BanMask("10.1.0.0/16")!, setBy: "teacher", reason: "", expires: nil)]
    return settings
}

/// Specs/chat-protocol.md, section 4.11.
@Test func roomSettingsAndRelayBansSurviveClosingAndReopeningTheDatabase() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let relayBan = Ban(mask: BanMask("192.0.2.0/24")!, setBy: "admin", reason: "flood", expires: nil)
    do {
        let store = try SQLiteRelayStorage(directory: directory.path)
        try store.perform([.saveRoomSettings(room: "#class", classSettings()), .saveRoomSettings(room: "#gone", RoomSettings()),
                           .saveRelayBans([relayBan])], clock: clock)
        try store.perform([.saveRoomSettings(room: "#gone", nil)], clock: clock)
    }
    // Restarted an hour later on another monotonic origin: the ban's expiry keeps its wall-clock time.
    let later = StorageClock(now: .milliseconds(100), unixMilliseconds: clock.unixMilliseconds + 30_000)
    let state = try SQLiteRelayStorage(directory: directory.path).load(clock: later)
    var expected = classSettings()
    expected.bans[0].expires = .milliseconds(100 + 30_000)
    #expect(state.roomSettings == ["#class": expected])
    #expect(state.relayBans == [relayBan])
}

/// Specs/chat-protocol.md, section 4.11.
@Test func aFreshDirectoryGetsTheCurrentSchemaVersionAndWriteAheadLogging() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let store = try SQLiteRelayStorage(directory: directory.path)
    #expect(try store.database.integer("PRAGMA user_version") == SQLiteRelayStorage.schemaVersion)
    #expect(try store.database.text("PRAGMA journal_mode") == "wal")
    #expect(try store.database.integer("PRAGMA synchronous") == 2)
}

/// Specs/chat-protocol.md, section 4.11.
@Test func historyKeepsTheLastLinesOfEachRoomOldestFirstWithTheirTime() throws {
    let store = try SQLiteRelayStorage(directory: ":memory:", historyLimit: 3)
    for number in 1...5 {
        let line = HistoryLine(room: "#Class", from: "alice", sender: SenderID(rawValue: 7), messageID: UInt64(number),
                               flags: number == 5 ? .action : [], text: "line \(number)")
        try store.perform([.appendHistory(room: "#class", line)], clock: StorageClock(now: clock.now, unixMilliseconds: 1_000 * Int64(number)))
    }
    try store.perform([.appendHistory(room: "#other", HistoryLine(room: "#other", from: "bob", sender: SenderID(rawValue: 8),
                                                                   messageID: 1, flags: [], text: "elsewhere"))], clock: clock)
    let lines = try store.history(room: "#class", limit: 10)
    #expect(lines.map(\.text) == ["line 3", "line 4", "line 5"])
    #expect(lines.map(\.unixMilliseconds) == [3_000, 4_000, 5_000])
    #expect(lines.last?.flags == .action)
    #expect(lines.first?.room == "#Class")
    #expect(try store.history(room: "#class", limit: 1).map(\.text) == ["line 5"])
}

/// Specs/chat-protocol.md, section 4.11.
@Test func historyOlderThanTheRetentionIsDropped() throws {
    let store = try SQLiteRelayStorage(directory: ":memory:", historyRetention: .seconds(86_400))
    let old = HistoryLine(room: "#a", from: "a", sender: SenderID(rawValue: 1), messageID: 1, flags: [], text: "old",
                          unixMilliseconds: clock.unixMilliseconds - 2 * 86_400_000)
    let new = HistoryLine(room: "#a", from: "a", sender: SenderID(rawValue: 1), messageID: 2, flags: [], text: "new")
    try store.perform([.appendHistory(room: "#a", old), .appendHistory(room: "#a", new)], clock: clock)
    #expect(try store.history(room: "#a", limit: 10).map(\.text) == ["new"])
}

/// Specs/chat-protocol.md, section 4.11.
@Test func aNewerSchemaIsRefusedWithWhatToDo() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    do {
        let store = try SQLiteRelayStorage(directory: directory.path)
        try store.execute("PRAGMA user_version = 99")
    }
    #expect {
        _ = try SQLiteRelayStorage(directory: directory.path)
    } throws: { error in
        guard let error = error as? StorageError else { return false }
        return error.kind == .newerSchema && error.message.contains("version 99") && error.message.contains("--data")
    }
}

/// Specs/chat-protocol.md, section 4.11.
@Test func aCorruptFileIsReportedWithWhatToDo() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let garbage = Data((0..<8_192).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
    #expect(FileManager.default.createFile(atPath: directory.databasePath, contents: garbage))
    #expect {
        _ = try SQLiteRelayStorage(directory: directory.path)
    } throws: { error in
        guard let error = error as? StorageError else { return false }
        return error.kind == .corrupt && error.message.contains("move it aside") && error.message.contains(directory.databasePath)
    }
}

/// Specs/chat-protocol.md, section 4.11.
@Test func damagedSavedSettingsAreReportedNotTrusted() throws {
    let store = try SQLiteRelayStorage(directory: ":memory:")
    try store.execute("INSERT INTO room_settings (room, settings) VALUES ('#x', x'01000005')")
    #expect {
        _ = try store.load(clock: clock)
    } throws: { error in
        (error as? StorageError)?.kind == .corrupt
    }
}

/// Specs/chat-protocol.md, section 4.11.
@Test func aFullDiskFailsTheWholeBatchWithWhatToDo() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let store = try SQLiteRelayStorage(directory: directory.path)
    // The database may not grow past its current size: SQLite reports SQLITE_FULL, as on a full disk.
    let pages = try store.database.integer("PRAGMA page_count")
    try store.execute("PRAGMA max_page_count = \(pages)")
    let text = String(repeating: "x", count: 3_000)
    let batch = (1...20).map { number in
        StorageAction.appendHistory(room: "#a", HistoryLine(room: "#a", from: "a", sender: SenderID(rawValue: 1),
                                                            messageID: UInt64(number), flags: [], text: text))
    }
    #expect {
        try store.perform(batch, clock: clock)
    } throws: { error in
        guard let error = error as? StorageError else { return false }
        return error.kind == .diskFull && error.message.contains("free some space")
    }
    #expect(try store.history(room: "#a", limit: 100).isEmpty)
    // Once there is room again, the next batch is saved.
    try store.execute("PRAGMA max_page_count = 1000000")
    try store.perform(batch, clock: clock)
    #expect(try store.history(room: "#a", limit: 100).count == 20)
}

/// Specs/chat-protocol.md, section 4.11.
@Test func aDirectoryThatCannotBeWrittenIsRefusedWithWhatToDo() throws {
    // Not even root may create files in /proc/1.
    #expect {
        _ = try SQLiteRelayStorage(directory: "/proc/1")
    } throws: { error in
        guard let error = error as? StorageError else { return false }
        return [.cannotOpen, .readOnly].contains(error.kind) && error.message.contains("writable") && error.message.contains("--data")
    }
}

/// Specs/chat-protocol.md, section 4.11.
@Test func aSecondRelayOnTheSameDirectoryIsRefused() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let first = try SQLiteRelayStorage(directory: directory.path)
    try first.perform([.saveRelayBans([])], clock: clock)
    #expect {
        _ = try SQLiteRelayStorage(directory: directory.path)
    } throws: { error in
        guard let error = error as? StorageError else { return false }
        return error.message.contains("only one relay")
    }
    withExtendedLifetime(first) {}
}
