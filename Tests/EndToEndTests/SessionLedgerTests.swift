import Chat
import Datagram
import Testing
@testable import Transport

private func ledger() throws -> SessionLedger {
    let relay = SocketAddress(ipBytes: [127, 0, 0, 1], port: 9000)
    return SessionLedger(configuration: ChatSessionConfiguration(name: "alice", relay: relay, transport: .udp))
}

private func say(_ id: UInt64) -> ClientMessage {
    .say(room: "#lobby", messageID: id, flags: [], text: "m \(id)")
}

@Test func acknowledgedMessagesAreKeptForTheRetentionTimeOnly() throws {
    var book = try ledger()
    book.unacknowledged = [1, 2, 3].map { SentMessage(key: 100 + $0, chatID: $0, message: say($0)) }
    book.acknowledge(at: .milliseconds(1000)) { $0.chatID <= 2 }
    #expect(book.unacknowledged.map(\.chatID) == [3])
    #expect(Set(book.recentlyAcknowledged.keys) == [1, 2])
    #expect(!book.isAllAcknowledged)
    book.acknowledge(at: .milliseconds(1000) + SessionLedger.retention) { $0.chatID == 3 }
    #expect(Set(book.recentlyAcknowledged.keys) == [3], "entries as old as the retention are dropped")
    #expect(book.isAllAcknowledged)
}

@Test func requeuePutsRecentThenUndeliveredBeforeWhatWaitsInIdOrder() throws {
    var book = try ledger()
    book.unacknowledged = [1, 2].map { SentMessage(key: $0, chatID: $0, message: say($0)) }
    book.acknowledge(at: .milliseconds(10)) { $0.chatID == 2 }
    book.held = [.joinRoom("#rust"), say(5)]
    let count = book.requeue(undelivered: [say(4), say(1), .hello(Hello(sessionID: SessionID(rawValue: 1), name: "alice")),
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
    let bob = SessionID(rawValue: 0xB0B)
    let first = RelayMessage.message(room: "#lobby", from: "bob", fromSession: bob, messageID: 7, flags: [], text: "hi")
    let shown = book.absorb(first)
    let shownAgain = book.absorb(first)
    #expect(shown && !shownAgain)
    #expect(book.statistics.duplicatesSuppressed == 1)
    _ = book.absorb(.notice(Notice(kind: .roomJoined, room: "#rust")))
    #expect(book.rooms == ["#rust"])
}
