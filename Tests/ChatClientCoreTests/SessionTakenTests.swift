import Chat
import ChatClientCore
import Datagram
import Testing

/// Specs/chat-protocol.md, section 4.3, "Resuming a session": a client that receives NOTICE
/// `sessionResumed` MUST NOT reconnect on its own; another run holds its secret.
@Suite struct SessionTakenTranscripts {
    let taken = RelayMessage.notice(Notice(kind: .sessionResumed, name: "alice", room: "", detail: ""))

    /// Specs/chat-protocol.md, section 4.3 "Resuming a session": a client that receives `sessionResumed`
    /// MUST NOT reconnect on its own; it reports it (a line, `.sessionTaken` change and status).
    @Test func aSessionResumedElsewhereClosesSaysWhyAndIsNeverReconnected() throws {
        var client = ScriptedClient()
        client.startAndConnect()
        client.welcome()
        _ = try client.core.say("mine", in: "#lobby", at: client.now)
        client.drain()
        #expect(client.takeSaid() == [1])
        _ = client.takeChanges()
        client.relay(taken)
        #expect(client.events.contains(.received(taken)), "the notice is shown as a line")
        #expect(client.takeChanges() == [.sessionTaken(name: "alice")])
        #expect(client.closed == 1, "the stream is closed by the client")
        #expect(client.statuses.last == .sessionTaken)
        #expect(client.core.status(at: client.now) == .sessionTaken)
        #expect(client.core.noticeableStatus(at: client.now) == .sessionTaken)
        // The relay closes its end too; however long the client waits, it does not come back.
        client.streamEnds()
        client.advance(by: .seconds(600))
        #expect(client.opened == 1)
        #expect(client.takeSent().isEmpty)
        #expect(client.takeChanges().isEmpty)
        #expect(client.core.pendingMessages.map(\.messageID) == [1], "what was not acknowledged stays named")
    }

    /// Specs/chat-protocol.md, section 4.3 "Resuming a session": a client that receives `sessionResumed`
    /// MUST NOT reconnect on its own; the silence limit does not bring it back.
    @Test func aSessionTakenWhileSilentIsNotReconnectedWhenTheSilenceLimitPasses() throws {
        var client = ScriptedClient()
        client.startAndConnect()
        client.welcome(peerTimeout: .seconds(30))
        _ = client.takeChanges()
        client.relay(taken)
        _ = client.takeChanges()
        client.advance(by: .seconds(60))
        #expect(client.takeChanges().isEmpty, "no loss and no reconnection reported after the session was taken")
        #expect(client.opened == 1)
        #expect(client.core.status(at: client.now) == .sessionTaken)
    }
}
