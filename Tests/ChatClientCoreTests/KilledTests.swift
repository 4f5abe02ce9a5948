import Chat
import ChatClientCore
import Datagram
import Testing

/// Specs/chat-protocol.md, section 4.4: a client that receives NOTICE `killed` (an administrator
/// disconnected it) shows it, closes, and does not reconnect on its own.
@Test func aKilledClientShowsWhyAndIsNeverReconnected() throws {
    var client = ScriptedClient()
    client.startAndConnect()
    client.welcome()
    _ = client.takeChanges()
    let killed = RelayMessage.notice(Notice(kind: .killed, name: "teacher", detail: "enough"))
    client.relay(killed)
    #expect(client.events.contains(.received(killed)))
    #expect(client.takeChanges() == [.closed])
    client.streamEnds()
    client.advance(by: .seconds(600))
    #expect(client.opened == 1)
    #expect(client.takeChanges().isEmpty)
}

/// Specs/chat-protocol.md, section 4.4: a HELLO refused because a relay-wide ban matches (section 4.3) is reported as
/// a refusal, with the relay's words.
@Test func aRelayBanBeforeWelcomeIsARefusal() throws {
    var client = ScriptedClient()
    client.startAndConnect()
    _ = client.takeChanges()
    client.relay(.error(code: .banned, messageID: 0, text: "You are banned from this relay: spam"))
    #expect(client.takeChanges() == [.refused(reason: "You are banned from this relay: spam")])
}
