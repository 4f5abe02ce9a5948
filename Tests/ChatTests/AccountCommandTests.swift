import Chat
import Testing

// Issue 11, Specs/chat-protocol.md section 4.11.5: the client's account commands and what it shows
// for the relay's answers.

/// `/register [PASSWORD]`, `/identify NAME PASSWORD`, `/unregister`, `/password [OLD] NEW`,
/// `/dropaccount NAME` become ACCOUNT requests; missing parts are refused before anything is sent.
@Test func accountCommandsBecomeAccountRequests() throws {
    #expect(try ClientCommand.parse("/register") == .account(AccountRequest(.register)))
    #expect(try ClientCommand.parse("/register correct horse") == .account(AccountRequest(.register, password: "correct horse")))
    #expect(try ClientCommand.parse("/identify alice s3cret!") == .account(AccountRequest(.identify, name: "alice", password: "s3cret!")))
    #expect(try ClientCommand.parse("/unregister") == .account(AccountRequest(.unregister)))
    #expect(try ClientCommand.parse("/password newpass") == .account(AccountRequest(.password, newPassword: "newpass")))
    #expect(try ClientCommand.parse("/password old new") == .account(AccountRequest(.password, password: "old", newPassword: "new")))
    #expect(try ClientCommand.parse("/dropaccount bob") == .account(AccountRequest(.drop, name: "bob")))
    for line in ["/identify", "/identify alice", "/password", "/dropaccount", "/unregister now", "/identify a%b pw"] {
        #expect(throws: CommandError.self, "\(line)") { try ClientCommand.parse(line) }
    }
}

/// ACCOUNT round-trips; an unknown action is refused by the decoder.
@Test func anAccountRequestEncodesEveryFieldAndDecodesBack() throws {
    let request = ClientMessage.account(AccountRequest(.password, name: "", password: "old one", newPassword: "new one"))
    #expect(try ClientMessage(decoding: request.encoded()) == request)
    #expect(throws: ChatDecodingError.self) { try ClientMessage(decoding: [0x13, 0x09, 0, 0, 0, 0, 0, 0]) }
}

/// The relay's account notices are shown as sentences.
@Test func accountNoticesAreShownAsSentences() {
    let registered = ChatRenderer.render(.notice(Notice(kind: .account, name: "alice", detail: "registered")), time: "12:00:00", currentRoom: nil).joined()
    #expect(registered.contains("Account alice: registered"))
    let stored = ChatRenderer.render(.notice(Notice(kind: .storedOffline, name: "bob", detail: "3")), time: "12:00:00", currentRoom: nil).joined()
    #expect(stored.contains("bob is offline: your message was stored"))
}
