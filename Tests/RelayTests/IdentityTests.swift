import Chat
import Datagram
import Relay
import Testing

// Issue 8 item 2 and Specs/chat-protocol.md, section 4.6: session secrets never leave the relay; what
// others see is a sender id only the relay assigns.

/// Every byte string the relay handed to the driver (stream frames, datagrams, log lines).
private func everythingSent(_ relay: inout RelayHarness) -> [[UInt8]] {
    var sent: [[UInt8]] = []
    while let action = relay.core.pollAction() {
        switch action {
        case let .sendStream(bytes, _), let .sendDatagram(bytes, _): sent.append(bytes)
        case let .log(_, line): sent.append(Array(line.utf8))
        case .closeStream: break
        }
    }
    return sent
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard haystack.count >= needle.count else { return false }
    return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
}

/// Section 4.6: MESSAGE and PRIVATE_MESSAGE carry the derived sender id, not the secret.
/// Specs/chat-protocol.md, section 4.6: The relay MUST NOT send the secret to anyone nor log it; MESSAGE and
/// PRIVATE_MESSAGE carry the sender id.
@Test func messagesCarryTheRelayAssignedSenderIDNotTheSecret() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001, session: 0xA11CE)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(alice)
    relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "hi"), from: alice)
    relay.send(.privateMessage(to: "bob", messageID: 2, flags: [], text: "psst"), from: alice)
    let expected = RelayHarness.senderIDs(SessionSecret(rawValue: 0xA11CE))
    #expect(expected != SenderID(rawValue: 0xA11CE))
    #expect(relay.take(bob) == [
        .message(room: "#lobby", from: "alice", sender: expected, messageID: 1, flags: [], text: "hi"),
        .privateMessage(from: "alice", sender: expected, messageID: 2, flags: [], text: "psst"),
    ])
}

/// Section 4.6: the relay never sends the secret to anyone, nor writes it to its log, in any of its
/// big-endian or hex forms, through a whole session (join, say, private, who, nick, resume, quit).
/// Specs/chat-protocol.md, section 4.6: The relay MUST NOT send the secret to anyone nor log it; MESSAGE and
/// PRIVATE_MESSAGE carry the sender id.
@Test func theSessionSecretNeverAppearsInAnythingTheRelaySendsOrLogs() {
    var relay = RelayHarness()
    let secret = SessionSecret(rawValue: 0x5EC2_E7AB_CDEF_0123)
    var sent: [[UInt8]] = []
    relay.core.handleStreamOpened(RelayHarness.tcp(4002), at: relay.now)
    relay.core.handleStreamBytes(Framing.frame(ClientMessage.hello(Hello(sessionSecret: SessionSecret(rawValue: 1), name: "bob")).encoded()),
                                 from: RelayHarness.tcp(4002), at: relay.now)
    let alice = RelayHarness.tcp(4001), again = RelayHarness.tcp(4003)
    relay.core.handleStreamOpened(alice, at: relay.now)
    for message: ClientMessage in [.hello(Hello(sessionSecret: secret, name: "alice", software: "chat 1.0")),
                                   .say(room: "#lobby", messageID: 1, flags: [], text: "hi"),
                                   .privateMessage(to: "bob", messageID: 2, flags: [], text: "psst"),
                                   .who(room: ""), .nick("alice2")] {
        relay.core.handleStreamBytes(Framing.frame(message.encoded()), from: alice, at: relay.now)
    }
    sent += everythingSent(&relay)
    relay.core.handleStreamOpened(again, at: relay.now)
    relay.core.handleStreamBytes(Framing.frame(ClientMessage.hello(Hello(sessionSecret: secret, name: "alice2")).encoded()), from: again, at: relay.now)
    relay.core.handleStreamBytes(Framing.frame(ClientMessage.quit(reason: "bye").encoded()), from: again, at: relay.now)
    sent += everythingSent(&relay)
    #expect(sent.count > 10)
    let hex = Array(SenderID(rawValue: secret.rawValue).description.utf8)
    for bytes in sent {
        #expect(!contains(bytes, secret.bytes))
        #expect(!contains(bytes, hex))
        #expect(!contains(bytes, Array(String(secret.rawValue).utf8)))
    }
}

/// Issue 8 item 2, the hijack: mallory shares a room with alice, reads alice's sender id off a MESSAGE
/// and presents it as a session secret with alice's name. She gets `nameTaken`; alice keeps her name,
/// her rooms and her private messages.
/// Specs/chat-protocol.md, section 4.3 "Resuming a session": Only the same secret resumes; the old connection gets
/// `sessionResumed`, then CLOSE 0 / stream closed.
@Test func anObserverOfAMessageCannotTakeAlicesNameOrHerPrivateMessages() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001, session: 0xA11CE)
    let mallory = relay.joinTCP("mallory", port: 4002)
    let bob = relay.joinTCP("bob", port: 4003)
    relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "hello"), from: alice)
    guard case let .message(_, _, observed, _, _, _)? = relay.take(mallory).last else {
        Issue.record("mallory saw no MESSAGE")
        return
    }
    let hijacker = RelayHarness.tcp(4004)
    relay.open(hijacker)
    for name in ["alice", "ALICE", "aIice"] {
        relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: observed.rawValue), name: name)), from: hijacker)
        #expect(relay.take(hijacker).map(\.errorCode) == [.nameTaken], "HELLO as \(name)")
    }
    #expect(!relay.closedStreams.contains(alice))
    _ = relay.take(alice)
    relay.send(.privateMessage(to: "alice", messageID: 1, flags: [], text: "for alice only"), from: bob)
    #expect(relay.take(alice).count == 1)
    #expect(relay.take(hijacker).isEmpty)
    #expect(relay.take(mallory).isEmpty)
    #expect(relay.core.users.map(\.name) == ["alice", "mallory", "bob"])
}

/// Issue 8 item 2, the poisoned duplicate filter: mallory connects a second time claiming alice's
/// sender id as her secret (under another name) and sends one SAY with message id 2^64-1. Receivers
/// key their `DuplicateFilter` on the sender id the relay assigns, so alice's later messages still
/// reach everyone.
/// Specs/chat-protocol.md, section 4.6: Receivers MUST key the duplicate filter on the sender id; a huge id under an
/// observed sender id does not silence anyone.
@Test func aHugeMessageIDUnderAnObservedSenderIDDoesNotSilenceAlice() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001, session: 0xA11CE)
    let mallory = relay.joinTCP("mallory", port: 4002)
    let bob = relay.joinTCP("bob", port: 4003)
    var bobsFilter = DuplicateFilter()
    func shownToBob(_ relay: inout RelayHarness) -> [String] {
        relay.take(bob).compactMap { message in
            guard case let .message(_, from, sender, id, _, text) = message, bobsFilter.isNew(messageID: id, from: sender) else { return nil }
            return "\(from): \(text)"
        }
    }
    relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "one"), from: alice)
    #expect(shownToBob(&relay) == ["alice: one"])
    guard case let .message(_, _, observed, _, _, _)? = relay.take(mallory).last else {
        Issue.record("mallory saw no MESSAGE")
        return
    }
    relay.joinTCP("mallory2", port: 4004, session: observed.rawValue)
    _ = relay.take(bob)
    relay.send(.say(room: "#lobby", messageID: .max, flags: [], text: "poison"), from: RelayHarness.tcp(4004))
    #expect(shownToBob(&relay) == ["mallory2: poison"])
    relay.send(.say(room: "#lobby", messageID: 2, flags: [], text: "two"), from: alice)
    relay.send(.say(room: "#lobby", messageID: 3, flags: [], text: "three"), from: alice)
    #expect(shownToBob(&relay) == ["alice: two", "alice: three"])
}

/// Section 4.3, "Resuming a session" (issue 9 item 10): the same secret resumes; the old connection
/// gets NOTICE sessionResumed and is closed; the room's members see the new connection join.
/// Specs/chat-protocol.md, section 4.3 "Resuming a session": Only the same secret resumes; the old connection gets
/// `sessionResumed`, then CLOSE 0 / stream closed.
@Test func theSameSecretResumesTheSessionAndTellsTheOldConnection() {
    var relay = RelayHarness()
    let old = relay.joinTCP("alice", port: 4001, session: 77)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(old)
    let new = relay.joinTCP("alice", port: 4003, session: 77)
    #expect(relay.take(old) == [.notice(Notice(kind: .sessionResumed, name: "alice"))])
    #expect(relay.closedStreams == [old])
    #expect(relay.take(bob) == [.notice(Notice(kind: .joined, name: "alice", room: "#lobby", endpoint: "tcp"))])
    relay.send(.say(room: "#lobby", messageID: 5, flags: [], text: "back"), from: new)
    #expect(relay.take(bob) == [.message(room: "#lobby", from: "alice", sender: RelayHarness.sender(77), messageID: 5, flags: [], text: "back")])
}

/// Section 4.3, "Resuming a session", over UDP: NOTICE sessionResumed, then Datagram CLOSE code 0.
/// Specs/chat-protocol.md, section 4.3 "Resuming a session": Only the same secret resumes; the old connection gets
/// `sessionResumed`, then CLOSE 0 / stream closed.
@Test func aResumedUDPSessionGetsTheNoticeThenCloseCodeZero() {
    var relay = RelayHarness()
    let old = relay.joinUDP("alice", port: 5001, session: 77)
    relay.joinUDP("alice", port: 5002, session: 77)
    #expect(relay.takeUDP(old) == [.notice(Notice(kind: .sessionResumed, name: "alice"))])
    #expect(relay.udp.closeReasons[old] == .peer(code: .normal))
}

/// Section 4.7 (issue 8 item 3): a user's address goes to that user only.
/// Specs/chat-protocol.md, section 4.7: Endpoint text (IPv4, IPv6 per RFC 5952); an address only to its owner:
/// `joined` carries the transport, WHO_LIST rows of others have an empty endpoint.
@Test func aUsersAddressIsShownToThatUserOnly() {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    let bob = relay.joinTCP("bob", port: 4002)
    #expect(relay.takeUDP(alice) == [.notice(Notice(kind: .joined, name: "bob", room: "#lobby", endpoint: "tcp"))])
    relay.send(.who(room: "#lobby"), from: bob)
    relay.sendUDP(.who(room: ""), from: alice)
    let seenByBob = relay.take(bob).flatMap { message -> [WhoEntry] in
        if case let .whoList(_, entries) = message { return entries } else { return [] }
    }
    let seenByAlice = relay.takeUDP(alice).flatMap { message -> [WhoEntry] in
        if case let .whoList(_, entries) = message { return entries } else { return [] }
    }
    #expect(seenByBob.map(\.endpoint) == ["", "127.0.0.1:4002"])
    #expect(seenByBob.map(\.transport) == [.udp, .tcp])
    #expect(seenByAlice.map(\.endpoint) == ["127.0.0.1:5001", ""])
}
