import Chat
import Datagram
import Relay
import Testing

// Issue 8 item 8; Specs/chat-protocol.md, sections 6, 6.2 and 6.3.

/// Section 6.3: a software field and a QUIT reason full of escapes and fake lines reach the log
/// sanitised, quoted and bounded.
/// Specs/chat-protocol.md, section 6.3: Every logged peer string sanitised, escaped, bounded, quoted; 10 lines per
/// kind per second, then one summary.
@Test func peerSuppliedFieldsAreLoggedSafeAndBounded() {
    var relay = RelayHarness()
    let alice = RelayHarness.tcp(4001)
    relay.open(alice)
    let software = "chat\u{1B}[2J\u{1B}]0;pwned\u{07}\n2026-01-01 relay: admin joined\u{202E}" + String(repeating: "A", count: 60_000)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 1), name: "alice", software: software)), from: alice)
    relay.send(.quit(reason: "bye\r\nfake line\u{200B}\u{FEFF}\u{2028}"), from: alice)
    #expect(!relay.logs.isEmpty)
    for line in relay.logs {
        #expect(line.utf8.count < 400, "a bounded line: \(line.prefix(80))")
        #expect(!line.unicodeScalars.contains { SafeText.isForbidden($0) || $0 == "\u{1B}" })
    }
    #expect(relay.logs.contains { $0.contains("software \"chat2026-01-01 relay: admin joined") && $0.contains("(60") })
    #expect(relay.logs.contains { $0.contains("quit: \"byefake line\"") })
}

/// Section 6.3: one line per refused connection from a loop is capped: 10 lines per second, then one
/// summary with the count of the rest.
/// Specs/chat-protocol.md, section 6.3: Every logged peer string sanitised, escaped, bounded, quoted; 10 lines per
/// kind per second, then one summary.
@Test func repeatedLogLinesAreRateLimitedWithASummary() {
    var relay = RelayHarness(configuration: {
        var configuration = RelayConfiguration()
        configuration.maximumPeers = 1
        return configuration
    }())
    relay.open(RelayHarness.tcp(4000))
    relay.logs = []
    for port in 0..<500 { relay.open(RelayHarness.tcp(UInt16(5000 + port))) }
    #expect(relay.logs.filter { $0.contains("refused") }.count == 10)
    relay.advance(by: .seconds(1))
    relay.open(RelayHarness.tcp(6000))
    #expect(relay.logs.contains { $0.contains("suppressed 490 similar lines (refused)") })
    #expect(relay.logs.filter { $0.contains("refused (server full") }.count == 11)
}

/// Section 6.2: look-alike names are taken; the skeleton does not make a look-alike an address.
/// Specs/chat-protocol.md, section 6.1: Text shown is sanitised: escapes, C0/C1, bidi, zero-width, BOM, U+2028/9;
/// invalid UTF-8 refused; none of these in names.
/// Specs/chat-protocol.md, section 6.2: Look-alike names (the skeleton table) are `nameTaken`; a PRIVATE to a
/// look-alike is `noSuchUser`.
@Test func lookAlikeNamesAreRefusedAsTaken() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    relay.joinTCP("mallory", port: 4002)
    let impostor = RelayHarness.tcp(4003)
    relay.open(impostor)
    for name in ["aIice", "a1ice", "ALICE", "a|ice", "rnallory", "MALL0RY"] {
        relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 9), name: name)), from: impostor)
        let code = relay.take(impostor).first?.errorCode
        #expect(code == (name == "a|ice" ? .invalidName : .nameTaken), "\(name)")
    }
    for name in ["\u{0430}lice", "al\u{200B}ice", "alice\u{FEFF}", "ali\u{202E}ce", "a\u{2028}lice"] {
        relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 9), name: name)), from: impostor)
        #expect(relay.take(impostor).first?.errorCode == .invalidName, "\(name.unicodeScalars.map(\.value))")
    }
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 9), name: "bob")), from: impostor)
    _ = relay.take(impostor)
    relay.send(.privateMessage(to: "aIice", messageID: 1, flags: [], text: "x"), from: impostor)
    #expect(relay.take(impostor).map(\.errorCode) == [.noSuchUser, nil])
    #expect(relay.take(alice).allSatisfy { $0.notice != nil })
    relay.send(.nick("ALICE"), from: alice)
    #expect(relay.take(alice) == [.notice(Notice(kind: .nickChanged, name: "alice", detail: "ALICE"))])
}
