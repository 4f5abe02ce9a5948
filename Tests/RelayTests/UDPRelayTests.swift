import Chat
import Datagram
import Relay
import Testing

/// Specs/wire-format.md, section 6: The handshake: HELLO, COOKIE (no state kept), HELLO with the cookie, WELCOME.
@Test func handshakeGoesThroughTheCookieJar() {
    var relay = RelayHarness()
    let alice = relay.connectUDP(port: 5001)
    #expect(relay.core.statistics.cookiesIssued == 1)
    #expect(relay.core.statistics.peers == 1)
    #expect(relay.udp.connections[alice]?.state == .established)
    relay.sendUDP(.hello(Hello(sessionSecret: SessionSecret(rawValue: 1), name: "alice")), from: alice)
    #expect(relay.takeUDP(alice) == [
        .welcome(name: "alice", defaultRoom: "#lobby", peerTimeout: .seconds(10)),
        .notice(Notice(kind: .roomJoined, room: "#lobby")),
    ])
}

/// Specs/chat-protocol.md, section 4.3 step 3: SAY routed to every other member, not echoed; PRIVATE routed or
/// `noSuchUser`; RECEIVED over TCP.
@Test func aUDPAndATCPUserChatThroughOneRelay() {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    let bob = relay.joinTCP("bob", port: 4002)
    #expect(relay.takeUDP(alice) == [.notice(Notice(kind: .joined, name: "bob", room: "#lobby", endpoint: "tcp"))])
    relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "over udp"), from: alice)
    #expect(relay.take(bob) == [.message(room: "#lobby", from: "alice", sender: RelayHarness.sender(5001), messageID: 1, flags: [], text: "over udp")])
    relay.send(.say(room: "#lobby", messageID: 1, flags: .action, text: "waves over tcp"), from: bob)
    #expect(relay.takeUDP(alice) == [.message(room: "#lobby", from: "bob", sender: RelayHarness.sender(4002), messageID: 1, flags: .action, text: "waves over tcp")])
    #expect(relay.take(bob) == [.received(upTo: 1)])
    #expect(relay.takeUDP(alice).isEmpty)
}

/// Specs/chat-protocol.md, section 5: HEARTBEAT_ECHO at once with the same timestamp; WHO shows the reported RTT
/// (TCP) or the smoothed RTT (UDP).
@Test func whoShowsTheUDPConnectionsSmoothedRTT() {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    relay.run(for: .seconds(3))
    relay.sendUDP(.who(room: "#lobby"), from: alice)
    let reply = relay.takeUDP(alice)
    guard case let .whoList(_, entries)? = reply.first else { Issue.record("no WHO_LIST: \(reply)"); return }
    #expect(entries.map(\.name) == ["alice"])
    #expect(entries.first?.transport == .udp)
    #expect(entries.first?.endpoint == "127.0.0.1:5001")
    #expect(entries.first?.roundTripTime != nil)
}

/// Specs/chat-protocol.md, section 4.3 step 7: Removed at exactly the peer timeout, `timedOut`.
@Test func aSilentUDPUserTimesOutAtExactlyThePeerTimeout() {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    let bob = relay.joinTCP("bob", port: 4002)
    relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "last words"), from: alice)
    let lastHeard = relay.now
    relay.udp.silenced.insert(alice)
    _ = relay.take(bob)
    relay.run(for: .seconds(5))
    relay.send(.heartbeat(timestamp: 1, roundTripTime: nil), from: bob)
    relay.run(for: .seconds(5) - .milliseconds(1))
    #expect(relay.take(bob) == [.heartbeatEcho(timestamp: 1)])
    #expect(relay.core.statistics.joinedPeers == 2)
    relay.run(for: .milliseconds(1))
    #expect(relay.now == lastHeard + .seconds(10))
    #expect(relay.take(bob) == [.notice(Notice(kind: .timedOut, name: "alice"))])
    #expect(relay.core.statistics.peersTimedOut == 1)
}

/// Specs/wire-format.md, section 6: One connection id per endpoint: a new id from a live endpoint replaces its
/// connection without a CLOSE; a straggler of the old id is dropped unanswered; equal ids at two endpoints are two
/// connections.
/// Specs/chat-protocol.md, section 4.3 "Resuming a session": Only the same secret resumes; the old connection gets
/// `sessionResumed`, then CLOSE 0 / stream closed.
@Test func aClientRestartOnTheSamePortReplacesTheOldConnection() {
    var relay = RelayHarness()
    relay.joinUDP("alice", port: 5001, session: 7)
    let bob = relay.joinTCP("bob", port: 4002)
    relay.udp.connections[RelayHarness.udp(5001)] = nil
    relay.joinUDP("alice", port: 5001, id: 0xBEEF, session: 7)
    let notices = relay.take(bob).compactMap(\.notice).map(\.kind)
    #expect(notices == [.quit, .joined])
    #expect(relay.core.statistics.joinedPeers == 2)
}

/// Specs/wire-format.md, section 2: Magic `0xDA7A`, else not ours and dropped (`badMagic`); version 1, else
/// `unsupportedVersion`.
/// Specs/chat-protocol.md, section 2: An undecodable message (an empty frame too) is counted and dropped, with no
/// answer; the stream stays open.
@Test func garbageDatagramsAreCountedAndDropped() {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    relay.core.handleDatagram([0x00, 0x01, 0x02], from: RelayHarness.udp(6000), at: relay.now)
    relay.core.handleDatagram(Array(repeating: 0xFF, count: 200), from: alice, at: relay.now)
    relay.collect()
    #expect(relay.core.statistics.statelessDropped == 2)
    _ = try? relay.udp.connections[alice]?.send([0x7F, 0x00], at: relay.now)
    #expect(relay.takeUDP(alice).isEmpty, "section 2: an undecodable message gets no answer")
    #expect(relay.core.statistics.malformedDropped == 1)
    relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "still fine"), from: alice)
    #expect(relay.udp.connections[alice]?.state == .established)
}
