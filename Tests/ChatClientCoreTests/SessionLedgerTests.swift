import Chat
import Datagram
import Testing
@testable import ChatClientCore

private func ledger() throws -> SessionLedger {
    SessionLedger(configuration: ChatClientConfiguration(name: "alice", transport: .udp, sessionSecret: SessionSecret(rawValue: 7)))
}

private func say(_ id: UInt64) -> ClientMessage {
    .say(room: "#lobby", messageID: id, flags: [], text: "m \(id)")
}

@Test func acknowledgedMessagesAreKeptForTheRetentionTimeOnly() throws {
    var book = try ledger()
    for id: UInt64 in [1, 2, 3] { book.unacknowledged.append(SentMessage(key: 100 + id, chatID: id, message: say(id))) }
    book.acknowledge(throughChatID: 2, at: .milliseconds(1000))
    #expect(book.unacknowledged.all.map(\.chatID) == [3])
    #expect(Set(book.recentlyAcknowledgedIDs) == [1, 2])
    #expect(!book.isAllAcknowledged)
    book.acknowledge(key: 103, at: .milliseconds(1000) + book.retention)
    #expect(Set(book.recentlyAcknowledgedIDs) == [3], "entries as old as the retention are dropped")
    #expect(book.isAllAcknowledged)
}

@Test func requeuePutsRecentThenUndeliveredBeforeWhatWaitsInIdOrder() throws {
    var book = try ledger()
    for id: UInt64 in [1, 2] { book.unacknowledged.append(SentMessage(key: id, chatID: id, message: say(id))) }
    book.acknowledge(key: 2, at: .milliseconds(10))
    book.held = [.joinRoom("#rust"), say(5)]
    let count = book.requeue(undelivered: [say(4), say(1), .hello(Hello(sessionSecret: SessionSecret(rawValue: 1), name: "alice")),
                                           .partRoom("#old")], backlog: [say(3)])
    #expect(count == 3)
    #expect(book.held == [say(1), say(2), say(4), .partRoom("#old"), say(3), .joinRoom("#rust"), say(5)])
    #expect(book.unacknowledged.isEmpty)
    let again = book.requeue(undelivered: [], backlog: [])
    #expect(again == 0, "a second requeue adds nothing twice")
    #expect(book.held.count == 7)
}

@Test func resendsFromOthersAreShownOnce() throws {
    var book = try ledger()
    let bob = SenderID(rawValue: 0xB0B)
    let first = RelayMessage.message(room: "#lobby", from: "bob", sender: bob, messageID: 7, flags: [], text: "hi")
    let shown = book.absorb(first)
    let shownAgain = book.absorb(first)
    #expect(shown && !shownAgain)
    #expect(book.statistics.duplicatesSuppressed == 1)
    _ = book.absorb(.notice(Notice(kind: .roomJoined, room: "#rust")))
    #expect(book.rooms == ["#rust"])
}

@Test func acknowledgementsOutOfOrderLeaveTheRestInSendOrder() throws {
    var table = UnacknowledgedRequests()
    for id: UInt64 in 1...300 { table.append(SentMessage(key: id, chatID: id, message: say(id))) }
    for id: UInt64 in stride(from: 2, through: 300, by: 2) { #expect(table.remove(key: id)?.chatID == id) }
    #expect(table.remove(key: 2) == nil, "an entry is removed once")
    #expect(table.all.map(\.chatID) == Array(stride(from: 1, through: 299, by: 2)))
    let front = table.removeFirst { $0.chatID <= 101 }
    #expect(front.map(\.chatID) == Array(stride(from: 1, through: 101, by: 2)))
    #expect(table.count == 99 && table.awaitedCount == 99)
    #expect(table.all.first?.chatID == 103)
}
