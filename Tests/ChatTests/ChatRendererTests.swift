import Chat
import Testing

private let bob = SenderID(rawValue: 2)

private func render(_ message: RelayMessage) -> [String] {
    ChatRenderer.render(message, time: "12:00:01", currentRoom: "#lobby")
}

@Test func spokenLines() {
    #expect(render(.message(room: "#lobby", from: "alice", sender: bob, messageID: 1, flags: [], text: "hello"))
        == ["12:00:01 <alice> hello"])
    #expect(render(.message(room: "#lobby", from: "alice", sender: bob, messageID: 1, flags: .action, text: "waves"))
        == ["12:00:01 * alice waves"])
    #expect(render(.message(room: "#rust", from: "alice", sender: bob, messageID: 1, flags: [], text: "hi"))
        == ["12:00:01 <alice:#rust> hi"])
    #expect(render(.privateMessage(from: "bob", sender: bob, messageID: 1, flags: [], text: "psst"))
        == ["12:00:01 *bob* psst"])
    #expect(ChatRenderer.ownPrivateMessage(to: "bob", text: "psst", time: "12:00:01") == "12:00:01 ->*bob* psst")
    #expect(ChatRenderer.ownMessage(name: "me", text: "hi", flags: [], room: "#lobby", currentRoom: "#lobby", time: "t")
        == "t <me> hi")
}

@Test func noticeLines() {
    #expect(render(.notice(Notice(kind: .joined, name: "bob", room: "#lobby", endpoint: "127.0.0.1:53122 udp")))
        == ["12:00:01 -!- bob [127.0.0.1:53122 udp] has joined #lobby"])
    #expect(render(.notice(Notice(kind: .timedOut, name: "bob"))) == ["12:00:01 -!- bob has quit [timeout]"])
    #expect(render(.notice(Notice(kind: .quit, name: "bob", detail: "connection lost")))
        == ["12:00:01 -!- bob has quit [connection lost]"])
    #expect(render(.notice(Notice(kind: .left, name: "bob", room: "#rust"))) == ["12:00:01 -!- bob has left #rust"])
    #expect(render(.notice(Notice(kind: .nickChanged, name: "bob", detail: "robert")))
        == ["12:00:01 -!- bob is now known as robert"])
    #expect(render(.error(code: .noSuchUser, messageID: 3, text: "No such user: carol"))
        == ["12:00:01 -!- Error: No such user: carol"])
}

@Test func listsAndSilentMessages() {
    #expect(render(.roomList([RoomSummary(name: "#lobby", memberCount: 2)])) == ["12:00:01 -!- #lobby  2 users"])
    let entry = WhoEntry(name: "bob", transport: .udp, endpoint: "127.0.0.1:5", roundTripTime: .microseconds(1234), rooms: ["#lobby"])
    #expect(render(.whoList(room: "", entries: [entry])) == ["12:00:01 -!- bob  udp 127.0.0.1:5  rtt 1.234 ms  #lobby"])
    #expect(render(.heartbeatEcho(timestamp: 1)).isEmpty)
    #expect(render(.received(upTo: 1)).isEmpty)
}

/// Specs/chat-protocol.md, section 6.1: Text shown is sanitised: escapes, C0/C1, bidi, zero-width, BOM, U+2028/9;
/// invalid UTF-8 refused; none of these in names.
@Test func hostileTextIsNeutralised() {
    let line = render(.message(room: "#lobby", from: "ev\u{1B}[2Jil", sender: bob, messageID: 1, flags: [],
                               text: "\u{1B}]0;owned\u{07}hi\u{202E}"))
    #expect(line == ["12:00:01 <evil> hi"])
}
