import Chat
import Datagram
import Relay
import Testing

// Issue 14 and Specs/chat-protocol.md, section 4.8: operators, voice, mute, kick, bans, modes and
// administrators, enforced by the relay. Every transcript runs on scripted time.

private extension RelayHarness {
    /// Opens a TCP stream from `address` and joins as `name`; returns the endpoint with its inbox emptied.
    @discardableResult
    mutating func joinTCP(_ name: String, address: [UInt8], port: UInt16, session: UInt64, rooms: [String] = []) -> Endpoint {
        let endpoint = Endpoint(transport: .tcp, address: address, port: port)
        open(endpoint)
        send(.hello(Hello(sessionSecret: SessionSecret(rawValue: session), name: name, rooms: rooms)), from: endpoint)
        _ = take(endpoint)
        return endpoint
    }

    mutating func moderate(_ request: Moderation, from endpoint: Endpoint) {
        send(.moderate(request), from: endpoint)
    }

    /// The users' inboxes emptied.
    mutating func drain(_ endpoints: Endpoint...) {
        for endpoint in endpoints { _ = take(endpoint) }
    }
}

private func moderation(_ actor: String, _ room: String, _ target: String, _ detail: String) -> RelayMessage {
    .notice(Notice(kind: .moderation, name: actor, room: room, endpoint: target, detail: detail))
}

private func say(_ text: String, id: UInt64, room: String = "#class") -> ClientMessage {
    .say(room: room, messageID: id, flags: [], text: text)
}

/// alice creates #class (its operator), bob and carol join it.
private func classroom(_ relay: inout RelayHarness) -> (alice: Endpoint, bob: Endpoint, carol: Endpoint) {
    let alice = relay.joinTCP("alice", port: 5001, session: 0xA, rooms: ["#class"])
    let bob = relay.joinTCP("bob", port: 5002, session: 0xB, rooms: ["#class"])
    let carol = relay.joinTCP("carol", port: 5003, session: 0xC, rooms: ["#class"])
    relay.drain(alice, bob, carol)
    return (alice, bob, carol)
}

/// Specs/chat-protocol.md, section 4.8: The creator of a room is its operator; operators make others
/// operators (`op`, `deop`); every change is announced to the room with who did it.
@Test func theCreatorOfARoomIsItsOperatorAndCanMakeOthersOperators() {
    var relay = RelayHarness()
    let (alice, bob, carol) = classroom(&relay)
    relay.moderate(Moderation(.op, room: "#class", target: "bob"), from: alice)
    let announced = moderation("alice", "#class", "bob", "made bob an operator")
    #expect(relay.take(alice) == [announced])
    #expect(relay.take(bob) == [announced])
    #expect(relay.take(carol) == [announced])
    relay.moderate(Moderation(.topic, room: "#class", text: "exam on friday"), from: bob)
    #expect(relay.take(carol) == [moderation("bob", "#class", "", "changed the topic to: exam on friday")])
    relay.moderate(Moderation(.deop, room: "#class", target: "bob"), from: alice)
    relay.drain(alice, bob, carol)
    relay.moderate(Moderation(.topic, room: "#class", text: "no exam"), from: bob)
    #expect(relay.take(bob).map(\.errorCode) == [.notOperator])
    #expect(relay.take(carol).isEmpty)
    #expect(relay.logs.contains { $0.contains("\"alice\"") && $0.contains("made bob an operator") })
}

/// Specs/chat-protocol.md, section 4.8: A plain member's MODERATE gets ERROR notOperator and changes nothing;
/// one outside the room gets notInRoom.
@Test func aPlainUserIsRefusedEveryOperatorCommand() {
    var relay = RelayHarness()
    let (alice, bob, _) = classroom(&relay)
    let outsider = relay.joinTCP("dave", port: 5004, session: 0xD)
    let requests: [Moderation] = [
        Moderation(.op, room: "#class", target: "bob"), Moderation(.deop, room: "#class", target: "alice"),
        Moderation(.voice, room: "#class", target: "bob"), Moderation(.devoice, room: "#class", target: "bob"),
        Moderation(.mute, room: "#class", target: "alice"), Moderation(.unmute, room: "#class", target: "bob"),
        Moderation(.kick, room: "#class", target: "alice"), Moderation(.ban, room: "#class", target: "alice"),
        Moderation(.unban, room: "#class", target: "10.0.0.1"), Moderation(.topic, room: "#class", text: "mine"),
        Moderation(.mode, room: "#class", target: "+m"), Moderation(.invite, room: "#class", target: "dave"),
    ]
    for request in requests { relay.moderate(request, from: bob) }
    #expect(relay.take(bob).map(\.errorCode) == Array(repeating: .notOperator, count: requests.count))
    #expect(relay.take(alice).isEmpty)
    relay.moderate(Moderation(.kick, room: "#class", target: "alice"), from: outsider)
    #expect(relay.take(outsider).map(\.errorCode) == [.notInRoom])
    relay.moderate(Moderation(.kill, target: "alice"), from: bob)
    relay.moderate(Moderation(.ban, target: "alice"), from: bob)
    #expect(relay.take(bob).map(\.errorCode) == [.notOperator, .notOperator])
    #expect(relay.core.users.count == 4)
}

/// Specs/chat-protocol.md, section 4.8: `kick` takes the member out of the room: every member is told who
/// kicked whom and why; the kicked user gets roomParted with the reason and is not told what the room says.
@Test func anOperatorKicksAMemberWithAReason() {
    var relay = RelayHarness()
    let (alice, bob, carol) = classroom(&relay)
    relay.moderate(Moderation(.kick, room: "#class", target: "bob", text: "spamming"), from: alice)
    let announced = moderation("alice", "#class", "bob", "kicked bob: spamming")
    #expect(relay.take(carol) == [announced])
    #expect(relay.take(bob) == [announced, .notice(Notice(kind: .roomParted, room: "#class", detail: "kicked by alice: spamming"))])
    relay.send(say("still here?", id: 1), from: carol)
    #expect(relay.take(bob).isEmpty)
    relay.send(say("let me back", id: 1), from: bob)
    #expect(relay.take(bob).map(\.errorCode) == [.notInRoom, nil])
    // A kicked user may come back (a ban keeps them out).
    relay.send(.joinRoom("#class"), from: bob)
    #expect(relay.take(bob).first == .notice(Notice(kind: .roomJoined, room: "#class")))
    #expect(relay.logs.contains { $0.contains("kicked bob: spamming") })
    _ = alice
}

/// Specs/chat-protocol.md, section 4.8: In a moderated room (`+m`) only operators and voiced users speak;
/// another member's SAY gets ERROR cannotSpeak and nothing is delivered to anyone.
@Test func aModeratedRoomSilencesUsersWithoutVoice() {
    var relay = RelayHarness()
    let (alice, bob, carol) = classroom(&relay)
    relay.moderate(Moderation(.mode, room: "#class", target: "+m"), from: alice)
    #expect(relay.take(bob) == [moderation("alice", "#class", "", "set mode +m")])
    relay.drain(alice, carol)
    relay.send(say("can I talk?", id: 1), from: bob)
    let refused = relay.take(bob)
    #expect(refused.first?.errorCode == .cannotSpeak)
    #expect(refused.last == .received(upTo: 1))
    #expect(relay.take(alice).isEmpty)
    #expect(relay.take(carol).isEmpty)
    relay.send(say("quiet please", id: 1), from: alice)
    #expect(relay.take(carol).count == 1)
    relay.moderate(Moderation(.voice, room: "#class", target: "bob"), from: alice)
    relay.drain(alice, bob, carol)
    relay.send(say("question", id: 2), from: bob)
    #expect(relay.take(carol) == [.message(room: "#class", from: "bob", sender: RelayHarness.sender(0xB), messageID: 2, flags: [], text: "question")])
    relay.moderate(Moderation(.mode, room: "#class", target: "-m"), from: alice)
    relay.drain(alice, bob, carol)
    relay.send(say("free again", id: 1), from: carol)
    #expect(relay.take(bob).count == 1)
}

/// Specs/chat-protocol.md, section 4.8: A muted member cannot speak even in an unmoderated room, until unmuted.
@Test func aMutedUserCannotSpeakUntilUnmuted() {
    var relay = RelayHarness()
    let (alice, bob, carol) = classroom(&relay)
    relay.moderate(Moderation(.mute, room: "#class", target: "bob"), from: alice)
    #expect(relay.take(carol) == [moderation("alice", "#class", "bob", "muted bob")])
    relay.drain(alice, bob)
    relay.send(say("hey", id: 1), from: bob)
    #expect(relay.take(bob).first?.errorCode == .cannotSpeak)
    #expect(relay.take(carol).isEmpty)
    relay.moderate(Moderation(.unmute, room: "#class", target: "bob"), from: alice)
    relay.drain(alice, bob, carol)
    relay.send(say("thanks", id: 2), from: bob)
    #expect(relay.take(carol).count == 1)
}

/// Specs/chat-protocol.md, section 4.8: A ban by name bans the session (its sender id): the member leaves the
/// room, and cannot come back under another name with the same secret; another session can join.
@Test func aBannedSessionCannotRejoinUnderAnotherName() {
    var relay = RelayHarness()
    let (alice, bob, carol) = classroom(&relay)
    let id = RelayHarness.sender(0xB)
    relay.moderate(Moderation(.ban, room: "#class", target: "bob", text: "cheating"), from: alice)
    #expect(relay.take(carol) == [moderation("alice", "#class", "id:\(id)", "banned bob (id:\(id)): cheating")])
    #expect(relay.take(bob).last == .notice(Notice(kind: .roomParted, room: "#class", detail: "banned by alice: cheating")))
    relay.send(.quit(reason: ""), from: bob)
    let again = relay.joinTCP("bobby", port: 5012, session: 0xB)
    relay.send(.joinRoom("#class"), from: again)
    #expect(relay.take(again).map(\.errorCode) == [.banned])
    let other = relay.joinTCP("erin", port: 5013, session: 0xE, rooms: ["#class"])
    #expect(relay.core.users.first { $0.name == "erin" }?.rooms == ["#class"])
    _ = relay.take(carol)
    relay.moderate(Moderation(.bans, room: "#class"), from: carol)
    #expect(relay.take(carol) == [.banList(room: "#class", entries: [
        BanEntry(mask: "id:\(id)", setBy: "alice", secondsLeft: 0, reason: "cheating")])])
    relay.moderate(Moderation(.unban, room: "#class", target: "id:\(id)"), from: alice)
    relay.send(.joinRoom("#class"), from: again)
    #expect(relay.take(again).contains(.notice(Notice(kind: .roomJoined, room: "#class"))))
    _ = other
}

/// Specs/chat-protocol.md, section 4.8: An address ban keeps out every session from that prefix, under any
/// name and secret; others join.
@Test func anAddressBanKeepsOutEverySessionFromThePrefix() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", address: [10, 0, 0, 1], port: 6001, session: 0xA, rooms: ["#class"])
    let mallory = relay.joinTCP("mallory", address: [10, 9, 8, 7], port: 6002, session: 0x66, rooms: ["#class"])
    relay.drain(alice, mallory)
    relay.moderate(Moderation(.ban, room: "#class", target: "10.9.0.0/16", text: "flooding"), from: alice)
    #expect(relay.take(alice) == [moderation("alice", "#class", "10.9.0.0/16", "banned 10.9.0.0/16: flooding")])
    #expect(relay.take(mallory).last == .notice(Notice(kind: .roomParted, room: "#class", detail: "banned by alice: flooding")))
    let sock = relay.joinTCP("sock", address: [10, 9, 200, 1], port: 6003, session: 0x77)
    relay.send(.joinRoom("#class"), from: sock)
    #expect(relay.take(sock).map(\.errorCode) == [.banned])
    let friend = relay.joinTCP("friend", address: [10, 8, 0, 1], port: 6004, session: 0x88)
    relay.send(.joinRoom("#class"), from: friend)
    #expect(relay.take(friend).first == .notice(Notice(kind: .roomJoined, room: "#class")))
}

/// Specs/chat-protocol.md, section 4.8: A ban with a duration lapses by itself on the relay's clock: refused
/// until then, let in after; BAN_LIST shows the seconds left.
@Test func aBanThatExpires() {
    var relay = RelayHarness()
    let (alice, bob, _) = classroom(&relay)
    relay.moderate(Moderation(.ban, room: "#class", target: "bob", durationSeconds: 60), from: alice)
    relay.drain(alice, bob)
    relay.advance(by: .seconds(59))
    relay.send(.heartbeat(timestamp: 0, roundTripTime: nil), from: bob)
    relay.send(.joinRoom("#class"), from: bob)
    #expect(relay.take(bob).compactMap(\.errorCode) == [.banned])
    relay.moderate(Moderation(.bans, room: "#class"), from: alice)
    #expect(relay.take(alice) == [.banList(room: "#class", entries: [
        BanEntry(mask: "id:\(RelayHarness.sender(0xB))", setBy: "alice", secondsLeft: 1, reason: "")])])
    relay.advance(by: .seconds(1))
    relay.send(.joinRoom("#class"), from: bob)
    #expect(relay.take(bob).first == .notice(Notice(kind: .roomJoined, room: "#class")))
    relay.moderate(Moderation(.bans, room: "#class"), from: alice)
    #expect(relay.take(alice).last == .banList(room: "#class", entries: []))
}

/// Specs/chat-protocol.md, section 4.8: An invite-only room (`+i`) lets in operators and invited users only;
/// a room with a key (`+k`) needs JOIN_ROOM with that key.
@Test func inviteOnlyAndKeyedRooms() {
    var relay = RelayHarness()
    let (alice, _, _) = classroom(&relay)
    let dave = relay.joinTCP("dave", port: 5004, session: 0xD)
    relay.moderate(Moderation(.mode, room: "#class", target: "+i"), from: alice)
    relay.send(.joinRoom("#class"), from: dave)
    #expect(relay.take(dave).map(\.errorCode) == [.inviteOnly])
    relay.moderate(Moderation(.invite, room: "#class", target: "dave"), from: alice)
    #expect(relay.take(dave) == [.notice(Notice(kind: .moderation, name: "alice", room: "#class", endpoint: "dave",
                                                detail: "invited you to #class: /join #class"))])
    relay.send(.joinRoom("#class"), from: dave)
    #expect(relay.take(dave).first == .notice(Notice(kind: .roomJoined, room: "#class")))

    let erin = relay.joinTCP("erin", port: 5005, session: 0xE)
    relay.moderate(Moderation(.mode, room: "#class", target: "-i"), from: alice)
    relay.moderate(Moderation(.mode, room: "#class", target: "+k", text: "s3cret"), from: alice)
    #expect(relay.take(alice).last == moderation("alice", "#class", "", "set mode +k"))
    relay.send(.joinRoom("#class"), from: erin)
    relay.send(.joinRoomWithKey(room: "#class", key: "guess"), from: erin)
    #expect(relay.take(erin).map(\.errorCode) == [.badKey, .badKey])
    relay.send(.joinRoomWithKey(room: "#class", key: "s3cret"), from: erin)
    #expect(relay.take(erin).first == .notice(Notice(kind: .roomJoined, room: "#class")))
}

/// Specs/chat-protocol.md, section 4.8: Someone joining a room with a topic gets NOTICE topic.
@Test func aNewcomerIsToldTheTopic() {
    var relay = RelayHarness()
    let (alice, _, _) = classroom(&relay)
    relay.moderate(Moderation(.topic, room: "#class", text: "chapter 3"), from: alice)
    let dave = relay.joinTCP("dave", port: 5004, session: 0xD)
    relay.send(.joinRoom("#class"), from: dave)
    #expect(relay.take(dave) == [.notice(Notice(kind: .roomJoined, room: "#class")),
                                 .notice(Notice(kind: .topic, name: "alice", room: "#class", detail: "chapter 3"))])
}

/// Specs/chat-protocol.md, section 4.8: An administrator (`relay --admin`) is an operator in every room,
/// joins past bans and modes, may /kill (the user gets NOTICE killed and is closed; the others see it
/// quit with who and why) and ban from the whole relay (HELLO refused with ERROR banned).
@Test func anAdministratorIsAnOperatorEverywhereAndCanKillAndBanFromTheRelay() {
    var configuration = RelayConfiguration()
    configuration.administrators = ["teacher"]
    var relay = RelayHarness(configuration: configuration)
    let (alice, bob, carol) = classroom(&relay)
    let teacher = relay.joinTCP("teacher", port: 5009, session: 0x7)
    relay.moderate(Moderation(.mode, room: "#class", target: "+i"), from: alice)
    relay.send(.joinRoom("#class"), from: teacher)
    #expect(relay.take(teacher).first == .notice(Notice(kind: .roomJoined, room: "#class")))
    relay.moderate(Moderation(.deop, room: "#class", target: "alice"), from: teacher)
    relay.drain(alice, bob, carol)

    relay.moderate(Moderation(.kill, target: "bob", text: "enough"), from: teacher)
    #expect(relay.take(bob) == [.notice(Notice(kind: .killed, name: "teacher", detail: "enough"))])
    #expect(relay.closedStreams.contains(bob))
    #expect(relay.take(carol) == [.notice(Notice(kind: .quit, name: "bob", detail: "killed by teacher: enough"))])

    relay.moderate(Moderation(.ban, target: "carol", durationSeconds: 3600, text: "cheating"), from: teacher)
    #expect(relay.take(carol) == [.notice(Notice(kind: .killed, name: "teacher", detail: "banned from the relay: cheating"))])
    let carolAgain = Endpoint(transport: .tcp, address: [127, 0, 0, 1], port: 5013)
    relay.open(carolAgain)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0xC), name: "caroline")), from: carolAgain)
    #expect(relay.take(carolAgain).map(\.errorCode) == [.banned])
    relay.moderate(Moderation(.bans), from: teacher)
    #expect(relay.take(teacher).last == .banList(room: "", entries: [
        BanEntry(mask: "id:\(RelayHarness.sender(0xC))", setBy: "teacher", secondsLeft: 3600, reason: "cheating")]))
    relay.moderate(Moderation(.unban, target: "id:\(RelayHarness.sender(0xC))"), from: teacher)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0xC), name: "caroline")), from: carolAgain)
    #expect(relay.take(carolAgain).first == .welcome(name: "caroline", defaultRoom: "#lobby", peerTimeout: .seconds(10)))
    #expect(relay.logs.contains { $0.contains("killed \"bob\"") })
}

/// Specs/chat-protocol.md, section 4.8: Bans outlive the room's last member: an emptied room with a ban keeps
/// it, and its operators, so the creator is operator again when back and the banned session stays out.
@Test func bansOutliveTheRoomsLastMember() {
    var relay = RelayHarness()
    let (alice, bob, carol) = classroom(&relay)
    relay.moderate(Moderation(.ban, room: "#class", target: "bob"), from: alice)
    relay.send(.partRoom("#class"), from: carol)
    relay.send(.partRoom("#class"), from: alice)
    #expect(relay.core.roomSettings["#class"]?.bans.count == 1)
    relay.send(.joinRoom("#class"), from: bob)
    #expect(relay.take(bob).compactMap(\.errorCode) == [.banned])
    relay.send(.joinRoom("#class"), from: carol)
    relay.send(.joinRoom("#class"), from: alice)
    relay.drain(alice, carol)
    relay.moderate(Moderation(.topic, room: "#class", text: "back"), from: carol)
    #expect(relay.take(carol).map(\.errorCode) == [.notOperator])
    relay.moderate(Moderation(.topic, room: "#class", text: "back"), from: alice)
    #expect(relay.take(carol).first?.notice?.kind == .moderation)
    // A room with nothing to keep is forgotten with its last member.
    relay.send(.joinRoom("#empty"), from: alice)
    relay.send(.partRoom("#empty"), from: alice)
    #expect(relay.core.roomSettings["#empty"] == nil)
}

/// Specs/chat-protocol.md, section 4.8: Hostile MODERATE fields are refused with an ERROR, never acted on:
/// an overlong reason or target, an unknown mode, a bad key, a target that is no name, address or mask.
@Test func malformedModerationRequestsAreRefusedWithAClearError() {
    var relay = RelayHarness()
    let (alice, bob, _) = classroom(&relay)
    relay.moderate(Moderation(.kick, room: "#class", target: "bob", text: String(repeating: "x", count: 257)), from: alice)
    relay.moderate(Moderation(.ban, room: "#class", target: String(repeating: "b", count: 65)), from: alice)
    relay.moderate(Moderation(.mode, room: "#class", target: "+z"), from: alice)
    relay.moderate(Moderation(.mode, room: "#class", target: "+k", text: "has space"), from: alice)
    relay.moderate(Moderation(.ban, room: "#class", target: "not a name!"), from: alice)
    relay.moderate(Moderation(.kick, room: "#class", target: "nobody"), from: alice)
    #expect(relay.take(alice).map(\.errorCode) == [.messageTooLarge, .messageTooLarge, .badRequest, .badRequest, .badRequest, .noSuchUser])
    #expect(relay.core.users.first { $0.name == "bob" }?.rooms == ["#class"])
    _ = bob
}

/// Specs/chat-protocol.md, section 4.8: The relay keeps at most 64 bans per room; one more is refused.
@Test func banListsAreBounded() {
    var relay = RelayHarness()
    let (alice, _, _) = classroom(&relay)
    for index in 0..<64 { relay.moderate(Moderation(.ban, room: "#class", target: "10.1.\(index).0/24"), from: alice) }
    _ = relay.take(alice)
    relay.moderate(Moderation(.ban, room: "#class", target: "10.2.0.0/24"), from: alice)
    #expect(relay.take(alice).map(\.errorCode) == [.badRequest])
    #expect(relay.core.roomSettings["#class"]?.bans.count == 64)
}

/// Specs/chat-protocol.md, section 4.8: Moderation works the same for a UDP user: kicked and banned by name.
@Test func anOperatorKicksAndBansAUDPUser() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 5001, session: 0xA, rooms: ["#class"])
    let udpBob = relay.joinUDP("bob", port: 7002, session: 0xB, rooms: ["#class"])
    _ = relay.takeUDP(udpBob)
    relay.moderate(Moderation(.kick, room: "#class", target: "bob"), from: alice)
    _ = relay.pump()
    #expect(relay.takeUDP(udpBob) == [moderation("alice", "#class", "bob", "kicked bob"),
                                      .notice(Notice(kind: .roomParted, room: "#class", detail: "kicked by alice"))])
    relay.sendUDP(.joinRoom("#class"), from: udpBob)
    _ = relay.pump()
    _ = relay.takeUDP(udpBob)
    relay.moderate(Moderation(.ban, room: "#class", target: "bob"), from: alice)
    relay.sendUDP(.joinRoom("#class"), from: udpBob)
    _ = relay.pump()
    #expect(relay.takeUDP(udpBob).compactMap(\.errorCode) == [.banned])
}

/// Specs/chat-protocol.md, section 4.8: A member who was in a `+i` or `+k` room rejoins it without key or
/// invitation (a reconnecting client's HELLO carries its rooms only); a kicked member does not.
@Test func aReconnectingMemberRejoinsAKeyedInviteOnlyRoomButAKickedOneDoesNot() {
    var relay = RelayHarness()
    let (alice, bob, carol) = classroom(&relay)
    relay.moderate(Moderation(.mode, room: "#class", target: "+i"), from: alice)
    relay.moderate(Moderation(.mode, room: "#class", target: "+k", text: "s3cret"), from: alice)
    relay.moderate(Moderation(.kick, room: "#class", target: "carol"), from: alice)
    // bob's connection is replaced by a new one presenting the same secret, as after a NAT change.
    let bobAgain = RelayHarness.tcp(5102)
    relay.open(bobAgain)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0xB), name: "bob", rooms: ["#class"])), from: bobAgain)
    #expect(relay.take(bobAgain).contains(.notice(Notice(kind: .roomJoined, room: "#class"))))
    relay.send(.joinRoom("#class"), from: carol)
    #expect(relay.take(carol).compactMap(\.errorCode) == [.inviteOnly])
    _ = bob
}

/// Specs/chat-protocol.md, section 4.8: A room's operator, voice, mute and invitation lists are bounded.
@Test func rightsListsAreBounded() {
    var configuration = RelayConfiguration()
    configuration.maximumPeers = 2_000
    configuration.maximumRooms = 2_000
    var relay = RelayHarness(configuration: configuration)
    let (alice, _, _) = classroom(&relay)
    for index in 0..<1_030 {
        relay.joinTCP("u\(index)", port: UInt16(10_000 + index), session: UInt64(0x1000 + index), rooms: ["#own\(index)"])
    }
    relay.drain(alice)
    for index in 0..<1_030 { relay.moderate(Moderation(.invite, room: "#class", target: "u\(index)"), from: alice) }
    let errors = relay.take(alice).compactMap(\.errorCode)
    #expect(errors.count == 1_030 - 1_024 && errors.allSatisfy { $0 == .badRequest }, "\(Set(errors))")
    #expect(relay.core.roomSettings["#class"]?.invited.count == 1_024)
}

/// Specs/chat-protocol.md, section 4.8: Announcements stay within the 256-byte detail of section 6, however
/// long the reason.
@Test func announcementsKeepToTheDetailLimit() {
    var relay = RelayHarness()
    let (alice, bob, carol) = classroom(&relay)
    let reason = String(repeating: "é", count: 128)
    relay.moderate(Moderation(.ban, room: "#class", target: "bob", durationSeconds: 3600, text: reason), from: alice)
    let details = (relay.take(carol) + relay.take(bob)).compactMap(\.notice?.detail)
    #expect(details.count == 3)
    #expect(details.allSatisfy { $0.utf8.count <= ChatLimits.maximumReasonLength && $0.hasSuffix("…") })
}

/// Specs/chat-protocol.md, section 4.8: with an administrator token, holding an administrator's name
/// gives no rights until the session presents the token with `/oper`; a wrong token is refused and
/// logged without the token; the rights stay with that session only while it holds the name, so a
/// newcomer who takes the name after the administrator left has none.
@Test func anAdministratorsNameIsNotEnoughWithoutTheToken() {
    var configuration = RelayConfiguration()
    configuration.administrators = ["teacher"]
    configuration.administratorToken = "s3cret-token-0123456789"
    var relay = RelayHarness(configuration: configuration)
    let bob = relay.joinTCP("bob", port: 5002, session: 0xB)
    let teacher = relay.joinTCP("teacher", port: 5009, session: 0x7)
    relay.drain(bob, teacher)

    relay.moderate(Moderation(.kill, target: "bob"), from: teacher)
    #expect(relay.take(teacher).compactMap(\.errorCode) == [.notOperator])
    relay.moderate(Moderation(.oper, text: "guess"), from: teacher)
    #expect(relay.take(teacher).compactMap(\.errorCode) == [.notOperator])
    relay.moderate(Moderation(.oper, text: "s3cret-token-0123456789"), from: bob)
    #expect(relay.take(bob).compactMap(\.errorCode) == [.notOperator], "bob's name is not an administrator's")
    #expect(!relay.logs.contains { $0.contains("s3cret") })
    #expect(relay.logs.contains { $0.contains("wrong administrator token") })

    relay.moderate(Moderation(.oper, text: "s3cret-token-0123456789"), from: teacher)
    #expect(relay.take(teacher) == [.notice(Notice(kind: .moderation, detail: "You are a relay administrator"))])
    relay.moderate(Moderation(.kill, target: "bob", text: "enough"), from: teacher)
    #expect(relay.take(bob) == [.notice(Notice(kind: .killed, name: "teacher", detail: "enough"))])

    // The administrator leaves; someone else takes the name: no rights come with it.
    relay.send(.quit(reason: ""), from: teacher)
    let impostor = relay.joinTCP("teacher", port: 5010, session: 0x99)
    let carol = relay.joinTCP("carol", port: 5003, session: 0xC)
    relay.drain(impostor, carol)
    relay.moderate(Moderation(.kill, target: "carol"), from: impostor)
    #expect(relay.take(impostor).compactMap(\.errorCode) == [.notOperator])
}

/// Specs/chat-protocol.md, section 4.8: the token comparison depends only on the lengths.
@Test func tokensCompareInConstantTime() {
    #expect(RelayCore.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
    #expect(!RelayCore.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
    #expect(!RelayCore.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
}
