import Chat
import ChatClientCore
import Datagram
import Testing

// Specs/chat-protocol.md, section 4.11, the client's side: resuming exactly after what the relay
// holds, receipts, and history lines already shown.

private let bob = SenderID(rawValue: 0xB0B)

private extension ScriptedClient {
    /// What the client showed from the relay since the last call.
    mutating func takeShown() -> [RelayMessage] {
        defer { events = [] }
        return events.compactMap { if case .received(let message) = $0 { message } else { nil } }
    }
}

/// Specs/chat-protocol.md, section 4.11.
/// After a relay restart, STORED_UP_TO says which SAYs the relay saved: the client sends again
/// exactly the ones after it (not the last 20 seconds' worth), with their original ids.
@Test func aReconnectedClientResendsExactlyWhatTheRelayDoesNotHold() throws {
    var client = ScriptedClient()
    client.startAndConnect()
    client.welcome()
    _ = client.takeSent()
    for text in ["a", "b", "c", "d", "e"] { _ = try client.core.say(text, in: "#lobby", at: client.now) }
    client.drain()
    #expect(client.takeSaid() == [1, 2, 3, 4, 5])
    client.relay(.received(upTo: 3))
    client.streamEnds()
    client.advance(by: .seconds(1))
    client.connect()
    let hello = client.takeSent().contains { $0.isHello }
    #expect(hello)
    // The relay had saved 1 to 4 (4's RECEIVED was lost with the stream).
    client.relay(.storedUpTo(4))
    client.welcome()
    client.advance(by: .seconds(3))
    #expect(client.takeSaid() == [5])
}

/// Specs/chat-protocol.md, section 4.11.
/// Without STORED_UP_TO (a relay without a data directory) the client keeps the old rule: what was
/// acknowledged in the last 20 seconds goes again too.
@Test func withoutStoredUpToTheRecentlyAcknowledgedGoAgain() throws {
    var client = ScriptedClient()
    client.startAndConnect()
    client.welcome()
    _ = client.takeSent()
    for text in ["a", "b", "c"] { _ = try client.core.say(text, in: "#lobby", at: client.now) }
    client.drain()
    _ = client.takeSent()
    client.relay(.received(upTo: 2))
    client.streamEnds()
    client.advance(by: .seconds(1))
    client.connect()
    client.welcome()
    client.advance(by: .seconds(3))
    #expect(client.takeSaid() == [1, 2, 3])
}

/// Specs/chat-protocol.md, section 4.11.
/// A PRIVATE_MESSAGE shown is answered with RECEIPT (its sender id and message id); not after
/// `/receipts off`.
@Test func aPrivateMessageShownIsAnsweredWithAReceiptUnlessReceiptsAreOff() {
    var client = ScriptedClient()
    client.startAndConnect()
    client.welcome()
    _ = client.takeSent()
    _ = client.takeShown()
    client.relay(.privateMessage(from: "bob", sender: bob, messageID: 7, flags: [], text: "psst"))
    #expect(client.takeSent() == [.receipt(sender: bob, messageID: 7)])
    client.core.setReceipts(false)
    client.relay(.privateMessage(from: "bob", sender: bob, messageID: 8, flags: [], text: "again"))
    #expect(client.takeSent().isEmpty)
    #expect(client.takeShown().count == 2)
}

/// Specs/chat-protocol.md, section 4.11.
/// History sent on joining hides lines already shown (live or from history); an answer to
/// /history is shown whole.
@Test func historyOnJoiningHidesLinesAlreadyShownButAnAnswerToHistoryIsShownWhole() {
    var client = ScriptedClient()
    client.startAndConnect()
    client.welcome()
    _ = client.takeShown()
    client.relay(.message(room: "#lobby", from: "bob", sender: bob, messageID: 1, flags: [], text: "live"))
    let seen = PastMessage(room: "#lobby", from: "bob", sender: bob, messageID: 1, flags: [], text: "live", time: 1_000)
    let missed = PastMessage(room: "#lobby", from: "bob", sender: bob, messageID: 2, flags: [], text: "missed", time: 2_000)
    client.relay(.history(seen))
    client.relay(.history(missed))
    client.relay(.history(missed))
    var asked = seen
    asked.isAsked = true
    client.relay(.history(asked))
    #expect(client.takeShown() == [.message(room: "#lobby", from: "bob", sender: bob, messageID: 1, flags: [], text: "live"),
                                   .history(missed), .history(asked)])
}

/// Specs/chat-protocol.md, section 4.11, "Private messages": a private message sent again as history
/// after a relay restart is shown once: not when it was already shown live.
@Test func aPrivateMessageSentAgainAsHistoryIsShownOnlyIfMissed() {
    var client = ScriptedClient()
    client.startAndConnect()
    client.welcome()
    _ = client.takeShown()
    client.relay(.privateMessage(from: "bob", sender: bob, messageID: 1, flags: [], text: "seen"))
    client.relay(.history(PastMessage(room: "", from: "bob", sender: bob, messageID: 1, flags: [], text: "seen", time: 1)))
    let missed = PastMessage(room: "", from: "bob", sender: bob, messageID: 2, flags: [], text: "missed", time: 2)
    client.relay(.history(missed))
    #expect(client.takeShown().count == 2)
    #expect(ChatRenderer.render(.history(missed), time: "12:00:00", currentRoom: "#lobby")
            == ["12:00:00 [1970-01-01 00:00:00] *bob* missed"])
}
