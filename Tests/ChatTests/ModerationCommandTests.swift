import Chat
import Testing

// Issue 14: the operator, administrator and client-side commands, as typed.

/// Specs/chat-protocol.md, section 4.8: Each operator command becomes one MODERATE request for the current room.
@Test func operatorCommandsBecomeModerateRequests() throws {
    #expect(try ClientCommand.parse("/op bob") == .moderate(Moderation(.op, target: "bob"), isRelayWide: false))
    #expect(try ClientCommand.parse("/deop bob") == .moderate(Moderation(.deop, target: "bob"), isRelayWide: false))
    #expect(try ClientCommand.parse("/voice bob") == .moderate(Moderation(.voice, target: "bob"), isRelayWide: false))
    #expect(try ClientCommand.parse("/mute bob") == .moderate(Moderation(.mute, target: "bob"), isRelayWide: false))
    #expect(try ClientCommand.parse("/kick bob  too loud ") == .moderate(Moderation(.kick, target: "bob", text: "too loud"), isRelayWide: false))
    #expect(try ClientCommand.parse("/topic Exam on Friday") == .moderate(Moderation(.topic, text: "Exam on Friday"), isRelayWide: false))
    #expect(try ClientCommand.parse("/mode +m") == .moderate(Moderation(.mode, target: "+m"), isRelayWide: false))
    #expect(try ClientCommand.parse("/mode +k s3cret") == .moderate(Moderation(.mode, target: "+k", text: "s3cret"), isRelayWide: false))
    #expect(try ClientCommand.parse("/invite dave") == .moderate(Moderation(.invite, target: "dave"), isRelayWide: false))
    #expect(try ClientCommand.parse("/bans") == .moderate(Moderation(.bans), isRelayWide: false))
    #expect(try ClientCommand.parse("/join #class s3cret") == .joinWithKey(room: "#class", key: "s3cret"))
    #expect(try ClientCommand.parse("/oper 0123abcd") == .moderate(Moderation(.oper, text: "0123abcd"), isRelayWide: true))
}

/// Specs/chat-protocol.md, section 4.8: `/ban` takes a name or an address prefix, an optional duration
/// (seconds, or with a unit s, m, h, d) and a reason; `/kill`, `/kline`, `/unkline`, `/klines` are relay-wide.
@Test func banDurationsAndRelayWideCommands() throws {
    #expect(try ClientCommand.parse("/ban bob 10m spamming links") ==
        .moderate(Moderation(.ban, target: "bob", durationSeconds: 600, text: "spamming links"), isRelayWide: false))
    #expect(try ClientCommand.parse("/ban 10.0.0.0/8 2h") == .moderate(Moderation(.ban, target: "10.0.0.0/8", durationSeconds: 7200), isRelayWide: false))
    #expect(try ClientCommand.parse("/ban bob because") == .moderate(Moderation(.ban, target: "bob", text: "because"), isRelayWide: false))
    #expect(try ClientCommand.parse("/ban bob 90") == .moderate(Moderation(.ban, target: "bob", durationSeconds: 90), isRelayWide: false))
    #expect(try ClientCommand.parse("/kline mallory 1d") == .moderate(Moderation(.ban, target: "mallory", durationSeconds: 86_400), isRelayWide: true))
    #expect(try ClientCommand.parse("/kill mallory bye") == .moderate(Moderation(.kill, target: "mallory", text: "bye"), isRelayWide: true))
    #expect(try ClientCommand.parse("/unkline id:c99d5b12a20b0827") == .moderate(Moderation(.unban, target: "id:c99d5b12a20b0827"), isRelayWide: true))
    #expect(try ClientCommand.parse("/klines") == .moderate(Moderation(.bans), isRelayWide: true))
    #expect(throws: CommandError.self) { try ClientCommand.parse("/ban") }
    #expect(throws: CommandError.self) { try ClientCommand.parse("/ban bad!name") }
    #expect(throws: CommandError.self) { try ClientCommand.parse("/mode +x") }
    #expect(throws: CommandError.self) { try ClientCommand.parse("/mode +k") }
    #expect(throws: CommandError.self) { try ClientCommand.parse("/kick") }
}

/// Issue 14: `/ignore`, `/unignore` and `/save` are the client's own (nothing is sent).
@Test func ignoreAndSaveAreClientCommands() throws {
    #expect(try ClientCommand.parse("/ignore bob") == .ignore("bob"))
    #expect(try ClientCommand.parse("/ignore") == .ignore(nil))
    #expect(try ClientCommand.parse("/unignore bob") == .unignore("bob"))
    #expect(try ClientCommand.parse("/save") == .save(file: nil))
    #expect(try ClientCommand.parse("/save /tmp/class.txt") == .save(file: "/tmp/class.txt"))
}

/// Specs/chat-protocol.md, section 4.8: Address prefixes as bans name them: IPv4 and IPv6, with or without a
/// length; an IPv4-mapped IPv6 address matches as its IPv4 address.
@Test func addressPrefixesParseAndMatch() throws {
    let slash16 = try #require(AddressPrefix("10.9.0.0/16"))
    #expect(slash16.contains([10, 9, 200, 1]))
    #expect(!slash16.contains([10, 8, 0, 1]))
    #expect(slash16.contains([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 9, 1, 1]))
    #expect(AddressPrefix("10.9.1.2/16")?.description == "10.9.0.0/16")
    #expect(AddressPrefix("127.0.0.1")?.description == "127.0.0.1")
    let v6 = try #require(AddressPrefix("[2001:db8::]/32"))
    #expect(v6.description == "2001:db8::/32")
    #expect(v6.contains([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 7, count: 12)))
    #expect(AddressPrefix("::1")?.contains(Array(repeating: 0, count: 15) + [1]) == true)
    for bad in ["", "bob", "10.0.0", "10.0.0.256", "10.0.0.1/33", "1::2::3", "10.0.0.1/", "::1/129", "1:2:3:4:5:6:7:8:9"] {
        #expect(AddressPrefix(bad) == nil, "\(bad)")
    }
}
