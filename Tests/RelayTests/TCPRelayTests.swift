import Chat
import Datagram
import Relay
import Testing

/// Specs/chat-protocol.md, section 4.3 step 2: WELCOME, then roomJoined per room; members get `joined` with the
/// transport only.
@Test func helloIsWelcomedIntoTheLobby() {
    var relay = RelayHarness()
    let alice = RelayHarness.tcp(4001)
    relay.open(alice)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 1), name: "alice")), from: alice)
    #expect(relay.take(alice) == [
        .welcome(name: "alice", defaultRoom: "#lobby", peerTimeout: .seconds(10)),
        .notice(Notice(kind: .roomJoined, room: "#lobby")),
    ])
    #expect(relay.core.statistics.joinedPeers == 1)
}

/// Specs/chat-protocol.md, section 4.7: others see the newcomer's transport, not its address.
/// Specs/chat-protocol.md, section 4.3 step 2: WELCOME, then roomJoined per room; members get `joined` with the
/// transport only.
@Test func othersSeeAJoinWithTheTransportOnly() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    relay.joinTCP("bob", port: 4002)
    #expect(relay.take(alice) == [.notice(Notice(kind: .joined, name: "bob", room: "#lobby", endpoint: "tcp"))])
}

/// Specs/chat-protocol.md, section 4.3 step 3: SAY routed to every other member, not echoed; PRIVATE routed or
/// `noSuchUser`; RECEIVED over TCP.
/// Specs/chat-protocol.md, section 2: The message id is per session: 1 for the first SAY or PRIVATE, then one more
/// for each.
@Test func sayReachesTheOthersAndIsAcknowledgedToTheSender() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(alice)
    relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "hello"), from: alice)
    #expect(relay.take(bob) == [.message(room: "#lobby", from: "alice", sender: RelayHarness.sender(4001), messageID: 1, flags: [], text: "hello")])
    #expect(relay.take(alice) == [.received(upTo: 1)])
    #expect(relay.core.statistics.messagesRouted == 1)
}

/// Specs/chat-protocol.md, section 4.3 step 1: HELLO errors: the first that applies wins (badRequest, shutdown,
/// unsupportedVersion, invalidName, nameTaken; then tooManyRooms, invalidRoom); a refused HELLO MAY be retried.
@Test func namesAreUniqueIgnoringCase() {
    var relay = RelayHarness()
    relay.joinTCP("alice", port: 4001)
    let impostor = RelayHarness.tcp(4002)
    relay.open(impostor)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 9), name: "ALICE")), from: impostor)
    #expect(relay.take(impostor).map(\.errorCode) == [.nameTaken])
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 9), name: "bad name")), from: impostor)
    #expect(relay.take(impostor).map(\.errorCode) == [.invalidName])
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 9), name: "alice2")), from: impostor)
    #expect(relay.take(impostor).first == .welcome(name: "alice2", defaultRoom: "#lobby", peerTimeout: .seconds(10)))
    #expect(relay.closedStreams.isEmpty)
}

/// Specs/chat-protocol.md, section 4.3 "Resuming a session": Only the same secret resumes; the old connection gets
/// `sessionResumed`, then CLOSE 0 / stream closed.
@Test func theSameSessionTakesItsNameBack() {
    var relay = RelayHarness()
    let old = relay.joinTCP("alice", port: 4001, session: 77)
    let bob = relay.joinTCP("bob", port: 4002)
    let new = relay.joinTCP("Alice", port: 4003, session: 77)
    #expect(relay.closedStreams == [old])
    #expect(relay.take(bob) == [.notice(Notice(kind: .joined, name: "Alice", room: "#lobby", endpoint: "tcp"))])
    relay.send(.privateMessage(to: "alice", messageID: 1, flags: [], text: "back?"), from: bob)
    #expect(relay.take(new).count == 1)
}

/// Specs/chat-protocol.md, section 4.3 step 1: Until WELCOME, anything but HELLO and HEARTBEAT gets `notJoined`;
/// HEARTBEAT is echoed.
@Test func requestsBeforeHelloAreRefused() {
    var relay = RelayHarness()
    let stranger = RelayHarness.tcp(4001)
    relay.open(stranger)
    relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "hi"), from: stranger)
    #expect(relay.take(stranger).map(\.errorCode) == [.notJoined])
}

/// Specs/chat-protocol.md, section 4.3 step 2: WELCOME, then roomJoined per room; members get `joined` with the
/// transport only.
/// Specs/chat-protocol.md, section 4.5: Notice kinds and error codes on the wire; `notInRoom` for a room one is not
/// in; `serverFull` over TCP, CLOSE 4 over UDP.
@Test func roomsJoinPartAndList() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(alice)
    relay.send(.joinRoom("#rust"), from: alice)
    #expect(relay.take(alice) == [.notice(Notice(kind: .roomJoined, room: "#rust"))])
    relay.send(.joinRoom("#Rust"), from: bob)
    #expect(relay.take(alice) == [.notice(Notice(kind: .joined, name: "bob", room: "#rust", endpoint: "tcp"))])
    #expect(relay.take(bob) == [.notice(Notice(kind: .roomJoined, room: "#rust"))])
    relay.send(.listRooms, from: bob)
    #expect(relay.take(bob) == [.roomList([RoomSummary(name: "#lobby", memberCount: 2), RoomSummary(name: "#rust", memberCount: 2)])])
    relay.send(.partRoom("#rust"), from: bob)
    #expect(relay.take(bob) == [.notice(Notice(kind: .roomParted, room: "#rust"))])
    #expect(relay.take(alice) == [.notice(Notice(kind: .left, name: "bob", room: "#rust"))])
    relay.send(.say(room: "#rust", messageID: 1, flags: [], text: "still here?"), from: bob)
    #expect(relay.take(bob).map(\.errorCode) == [.notInRoom, nil])
    relay.send(.joinRoom("no-hash"), from: bob)
    #expect(relay.take(bob).map(\.errorCode) == [.invalidRoom])
}

/// Specs/chat-protocol.md, section 4.3 step 3: SAY routed to every other member, not echoed; PRIVATE routed or
/// `noSuchUser`; RECEIVED over TCP.
@Test func privateMessageToAnAbsentUserIsAnError() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    relay.send(.privateMessage(to: "carol", messageID: 3, flags: [], text: "psst"), from: alice)
    #expect(relay.take(alice) == [.error(code: .noSuchUser, messageID: 3, text: "No such user: \"carol\""), .received(upTo: 3)])
}

/// Specs/chat-protocol.md, section 4.3 step 3: SAY routed to every other member, not echoed; PRIVATE routed or
/// `noSuchUser`; RECEIVED over TCP.
@Test func privateMessageReachesOnlyItsRecipient() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinTCP("bob", port: 4002)
    let carol = relay.joinTCP("carol", port: 4003)
    _ = (relay.take(alice), relay.take(bob))
    relay.send(.privateMessage(to: "BOB", messageID: 1, flags: .action, text: "winks"), from: alice)
    #expect(relay.take(bob) == [.privateMessage(from: "alice", sender: RelayHarness.sender(4001), messageID: 1, flags: .action, text: "winks")])
    #expect(relay.take(carol).isEmpty)
}

/// Specs/chat-protocol.md, section 4.3 step 8: NICK: the renamer gets nickChanged as its reply, members once each;
/// look-alikes are taken.
@Test func nickChangesTheNameForEveryone() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(alice)
    relay.send(.nick("bob"), from: alice)
    #expect(relay.take(alice).map(\.errorCode) == [.nameTaken])
    relay.send(.nick("alicia"), from: alice)
    let notice = RelayMessage.notice(Notice(kind: .nickChanged, name: "alice", detail: "alicia"))
    #expect(relay.take(alice) == [notice])
    #expect(relay.take(bob) == [notice])
    relay.send(.privateMessage(to: "alicia", messageID: 1, flags: [], text: "hi"), from: bob)
    #expect(relay.take(alice).count == 1)
    #expect(relay.take(bob) == [.received(upTo: 1)])
    relay.send(.privateMessage(to: "alice", messageID: 2, flags: [], text: "hi"), from: bob)
    #expect(relay.take(bob).map(\.errorCode) == [.noSuchUser, nil])
}

/// Specs/chat-protocol.md, sections 4.7 and 5: the asker's own endpoint, everyone's transport and RTT.
/// Specs/chat-protocol.md, section 4.7: Endpoint text (IPv4, IPv6 per RFC 5952); an address only to its owner:
/// `joined` carries the transport, WHO_LIST rows of others have an empty endpoint.
/// Specs/chat-protocol.md, section 5: HEARTBEAT_ECHO at once with the same timestamp; WHO shows the reported RTT
/// (TCP) or the smoothed RTT (UDP).
@Test func whoShowsTransportReportedRTTAndOnlyTheAskersEndpoint() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    relay.send(.heartbeat(timestamp: 42, roundTripTime: .microseconds(1500)), from: alice)
    #expect(relay.take(alice) == [.heartbeatEcho(timestamp: 42)])
    relay.joinTCP("bob", port: 4002, rooms: ["#rust"])
    _ = relay.take(alice)
    relay.send(.who(room: ""), from: alice)
    #expect(relay.take(alice) == [.whoList(room: "", entries: [
        WhoEntry(name: "alice", transport: .tcp, endpoint: "127.0.0.1:4001", roundTripTime: .microseconds(1500), rooms: ["#lobby"]),
        WhoEntry(name: "bob", transport: .tcp, endpoint: "", roundTripTime: nil, rooms: ["#rust"]),
    ])])
    relay.send(.who(room: "#rust"), from: alice)
    #expect(relay.take(alice).first.map { if case let .whoList(_, entries) = $0 { entries.map(\.name) } else { [] } } == ["bob"])
}

/// Specs/chat-protocol.md, section 4.3 step 4: QUIT: notice, then the transport is closed (CLOSE 0 / stream); a
/// reason over 256 bytes is `messageTooLarge` and the user stays; a closed stream is `connection lost`.
@Test func quitTellsTheOthersAndClosesTheStream() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(alice)
    relay.send(.quit(reason: "lunch"), from: bob)
    #expect(relay.take(alice) == [.notice(Notice(kind: .quit, name: "bob", detail: "lunch"))])
    #expect(relay.closedStreams == [bob])
    relay.core.handleStreamClosed(bob, at: relay.now)
    #expect(relay.take(alice).isEmpty)
}

/// Specs/chat-protocol.md, section 4.3 step 4: QUIT: notice, then the transport is closed (CLOSE 0 / stream); a
/// reason over 256 bytes is `messageTooLarge` and the user stays; a closed stream is `connection lost`.
@Test func aClosedStreamIsAConnectionLost() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(alice)
    relay.core.handleStreamClosed(bob, at: relay.now)
    #expect(relay.take(alice) == [.notice(Notice(kind: .quit, name: "bob", detail: "connection lost"))])
    #expect(relay.closedStreams.isEmpty)
    #expect(relay.core.statistics.peers == 1)
}
