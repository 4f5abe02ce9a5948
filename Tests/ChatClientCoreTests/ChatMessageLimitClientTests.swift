import Chat
import ChatClientCore
import Datagram
import Testing

// Issue 10, sealed TCP and large messages (Specs/chat-protocol.md section 6), client → relay: a
// request over the one chat message limit (65,519 bytes, what a sealed TCP frame carries) is refused
// by the client before anything is sent, whatever the transport, and the user is told why.

/// Specs/chat-protocol.md, section 6: a NICK and a SAY whose encoding is over 65,519 bytes are not
/// sent; each is reported with its size and the limit and counted; the session goes on, and the next
/// request goes out as usual.
@Test func aRequestOverTheChatMessageLimitIsRefusedBeforeAnythingIsSent() throws {
    var client = ScriptedClient()
    client.startAndConnect()
    client.welcome()
    _ = client.takeSent()
    client.events = []
    client.core.send(.nick(String(repeating: "n", count: 65_520)), at: client.now)
    client.drain()
    _ = try client.core.say("hi", in: "#" + String(repeating: "r", count: 65_510), at: client.now)
    client.drain()
    #expect(client.takeSent().isEmpty, "nothing went out")
    let warnings = client.events.compactMap { if case .warning(let text) = $0 { text } else { nil } }
    #expect(warnings.count == 2)
    #expect(warnings.allSatisfy { $0.hasPrefix("not sent: ") && $0.contains("over the limit of 65519 bytes for one chat message") })
    #expect(warnings.first?.contains("65523 bytes") == true, "the NICK's size: type, length, 65,520 bytes")
    #expect(client.core.statistics.oversizedRefused == 2)
    // Exactly at the limit it goes.
    client.core.send(.nick(String(repeating: "n", count: 65_516)), at: client.now)
    client.drain()
    #expect(client.takeSent().count == 1)
    _ = try client.core.say("still here", in: "#lobby", at: client.now)
    client.drain()
    #expect(client.takeSaid().count == 1)
}
