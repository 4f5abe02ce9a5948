import Chat
import Testing

/// Specs/chat-protocol.md, section 4.4: the new notices and BAN_LIST as the client shows them, with
/// network text sanitised.
@Test func moderationNoticesAndBanListsRender() {
    let render = { (message: RelayMessage) in ChatRenderer.render(message, time: "12:00:00", currentRoom: "#class") }
    #expect(render(.notice(Notice(kind: .moderation, name: "alice", room: "#class", endpoint: "bob", detail: "kicked bob: spam")))
        == ["12:00:00 -!- [#class] alice kicked bob: spam"])
    #expect(render(.notice(Notice(kind: .topic, name: "alice", room: "#class", detail: "exam\u{1B}[2J friday")))
        == ["12:00:00 -!- Topic of #class: exam friday (set by alice)"])
    #expect(render(.notice(Notice(kind: .killed, name: "root", detail: "bye")))
        == ["12:00:00 -!- You were disconnected by root [bye]; not reconnecting"])
    #expect(render(.notice(Notice(kind: .roomParted, room: "#class", detail: "kicked by alice: spam")))
        == ["12:00:00 -!- You have left #class [kicked by alice: spam]"])
    #expect(render(.banList(room: "#class", entries: [
        BanEntry(mask: "id:c99d5b12a20b0827", setBy: "alice", secondsLeft: 0, reason: "flood"),
        BanEntry(mask: "10.0.0.0/8", setBy: "bob", secondsLeft: 90, reason: ""),
    ])) == ["12:00:00 -!- Ban in #class: id:c99d5b12a20b0827 by alice (permanent): flood",
            "12:00:00 -!- Ban in #class: 10.0.0.0/8 by bob (90 s left)"])
    #expect(render(.banList(room: "", entries: [])) == ["12:00:00 -!- No bans in the relay"])
}
