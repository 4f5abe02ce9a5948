import Chat
import Datagram
import Relay
import Testing

// Issue 9 items 3, 4, 6, 7, 9, 13 and 14: each checks the section of Specs/chat-protocol.md it names.

/// Section 4.3 item 4 and 4.5 `messageTooLarge` (issue 9 item 3): a QUIT reason over 256 bytes is
/// refused and the user stays; one of exactly 256 bytes is carried out.
/// Specs/chat-protocol.md, section 4.3 step 4: QUIT: notice, then the transport is closed (CLOSE 0 / stream); a
/// reason over 256 bytes is `messageTooLarge` and the user stays; a closed stream is `connection lost`.
/// Specs/chat-protocol.md, section 6: Limits: names, rooms, text, reason, rooms per user.
@Test func aQuitReasonOverTheLimitIsRefusedAndTheUserStays() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(alice)
    relay.send(.quit(reason: String(repeating: "x", count: 257)), from: alice)
    #expect(relay.take(alice).map(\.errorCode) == [.messageTooLarge])
    #expect(relay.take(bob).isEmpty)
    #expect(relay.closedStreams.isEmpty)
    relay.send(.quit(reason: String(repeating: "y", count: 256)), from: alice)
    #expect(relay.take(bob) == [.notice(Notice(kind: .quit, name: "alice", detail: String(repeating: "y", count: 256)))])
    #expect(relay.closedStreams == [alice])
}

/// Section 4.3 item 4 (issue 9 item 14): after QUIT the relay closes the transport: the TCP stream,
/// and over UDP the Datagram connection with CLOSE code 0.
/// Specs/chat-protocol.md, section 4.3 step 4: QUIT: notice, then the transport is closed (CLOSE 0 / stream); a
/// reason over 256 bytes is `messageTooLarge` and the user stays; a closed stream is `connection lost`.
@Test func afterQuitTheRelayClosesTheTransport() {
    var relay = RelayHarness()
    let tcp = relay.joinTCP("alice", port: 4001)
    let udp = relay.joinUDP("bob", port: 5001)
    relay.send(.quit(reason: ""), from: tcp)
    #expect(relay.closedStreams == [tcp])
    #expect(relay.takeUDP(udp) == [.notice(Notice(kind: .quit, name: "alice", detail: "quit"))])
    relay.sendUDP(.quit(reason: "bye"), from: udp)
    #expect(relay.udp.closeReasons[udp] == .peer(code: .normal))
    #expect(relay.core.users.isEmpty)
}

/// Section 4.3 item 1 and 4.5 `notJoined` (issue 9 item 4): HEARTBEAT is answered before WELCOME;
/// every other request before WELCOME gets notJoined.
/// Specs/chat-protocol.md, section 4.3 step 1: Until WELCOME, anything but HELLO and HEARTBEAT gets `notJoined`;
/// HEARTBEAT is echoed.
@Test func aHeartbeatBeforeHelloIsEchoedAndOtherRequestsAreNotJoined() {
    var relay = RelayHarness()
    let early = RelayHarness.tcp(4001)
    relay.open(early)
    relay.send(.heartbeat(timestamp: 7, roundTripTime: nil), from: early)
    #expect(relay.take(early) == [.heartbeatEcho(timestamp: 7)])
    relay.send(.listRooms, from: early)
    relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "hi"), from: early)
    #expect(relay.take(early).map(\.errorCode) == [.notJoined, .notJoined])
}

/// Section 2 (issue 9 item 6): an undecodable message, and an empty TCP frame, are counted and
/// dropped with no answer; the connection stays.
/// Specs/chat-protocol.md, section 2: An undecodable message (an empty frame too) is counted and dropped, with no
/// answer; the stream stays open.
@Test func undecodableMessagesGetNoAnswer() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let udp = relay.joinUDP("bob", port: 5001)
    _ = relay.take(alice)
    relay.core.handleStreamBytes(Framing.frame([]) + Framing.frame([0x09, 0x00, 0x05, 0x61]), from: alice, at: relay.now)
    _ = try? relay.udp.connections[udp]?.send([], at: relay.now)
    _ = try? relay.udp.connections[udp]?.send([0xEE], at: relay.now)
    #expect(relay.take(alice).isEmpty)
    #expect(relay.takeUDP(udp).isEmpty)
    #expect(relay.core.statistics.malformedDropped == 4)
    #expect(relay.core.statistics.errorsSent == 0)
    #expect(relay.core.users.count == 2)
}

/// Section 4.3 item 1, "HELLO errors" (issue 9 item 7): the first rule that applies decides.
/// Specs/chat-protocol.md, section 4.3 step 1: HELLO errors: the first that applies wins (badRequest, shutdown,
/// unsupportedVersion, invalidName, nameTaken; then tooManyRooms, invalidRoom); a refused HELLO MAY be retried.
@Test func theFirstApplicableHelloErrorWins() {
    var relay = RelayHarness()
    relay.joinTCP("alice", port: 4001)
    let newcomer = RelayHarness.tcp(4002)
    relay.open(newcomer)
    // Version and name both wrong, name taken too: unsupportedVersion.
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 2), name: "alice", protocolVersion: 2)), from: newcomer)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 2), name: "bad name", protocolVersion: 9)), from: newcomer)
    // Invalid and nothing else: invalidName before any look at who holds what.
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 2), name: "al ice")), from: newcomer)
    // Valid but a look-alike of a held name: nameTaken.
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 2), name: "ALlCE")), from: newcomer)
    #expect(relay.take(newcomer).map(\.errorCode) == [.unsupportedVersion, .unsupportedVersion, .invalidName, .nameTaken])
    // Joined: any HELLO, even with a bad version, is badRequest.
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 2), name: "carol")), from: newcomer)
    _ = relay.take(newcomer)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 2), name: "bad name", protocolVersion: 9)), from: newcomer)
    #expect(relay.take(newcomer).map(\.errorCode) == [.badRequest])
    // Rooms are checked after WELCOME: tooManyRooms first, then invalidRoom per bad room.
    let many = RelayHarness.tcp(4003)
    relay.open(many)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 3), name: "dave", rooms: ["bad"] + (0..<16).map { "#r\($0)" })), from: many)
    let replies = relay.take(many)
    #expect(replies.first == .welcome(name: "dave", defaultRoom: "#lobby", peerTimeout: .seconds(10)))
    #expect(replies.compactMap(\.errorCode) == [.tooManyRooms, .invalidRoom])
}

/// Section 4.3 item 8 (issue 9 item 9): a NICK carried out is answered to the renamer with NOTICE
/// nickChanged, and each room member hears it once.
/// Specs/chat-protocol.md, section 4.3 step 8: NICK: the renamer gets nickChanged as its reply, members once each;
/// look-alikes are taken.
@Test func aSuccessfulNickIsConfirmedToTheRenamer() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001, rooms: ["#lobby", "#rust"])
    let bob = relay.joinTCP("bob", port: 4002, rooms: ["#lobby", "#rust"])
    _ = relay.take(alice)
    relay.send(.nick("alice2"), from: alice)
    let notice = RelayMessage.notice(Notice(kind: .nickChanged, name: "alice", detail: "alice2"))
    #expect(relay.take(alice) == [notice])
    #expect(relay.take(bob) == [notice])
    relay.send(.nick("B0B"), from: alice)
    #expect(relay.take(alice).map(\.errorCode) == [.nameTaken])
}

/// Section 1 (issue 9 item 13): chat travels on the reliable-ordered channel; a SAY on the
/// unreliable channel is counted and dropped, not routed.
/// Specs/chat-protocol.md, section 1: Chat travels on the reliable-ordered channel; a message on the unreliable one
/// is counted and dropped, not acted on.
@Test func aSayOnTheUnreliableChannelIsNotRouted() {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.takeUDP(alice)
    let say = ClientMessage.say(room: "#lobby", messageID: 1, flags: [], text: "sideways").encoded()
    _ = try? relay.udp.connections[alice]?.send(say, on: .unreliable, at: relay.now)
    relay.pump()
    #expect(relay.take(bob).isEmpty)
    #expect(relay.core.statistics.messagesRouted == 0)
    #expect(relay.core.statistics.malformedDropped == 1)
    relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "properly"), from: alice)
    #expect(relay.take(bob).count == 1)
}
