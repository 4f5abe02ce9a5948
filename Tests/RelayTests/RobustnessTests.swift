import Chat
import Datagram
import Relay
import Testing

/// Specs/chat-protocol.md, section 5: A frame length over 65,536 MUST close the stream unread; length 0 is malformed;
/// frames split or packed anywhere.
@Test func anOversizedFrameClosesOnlyThatStream() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(alice)
    relay.core.handleStreamBytes([0x00, 0x10, 0x00, 0x01], from: bob, at: relay.now)
    #expect(relay.take(alice) == [.notice(Notice(kind: .quit, name: "bob", detail: "protocol error: frame of 1048577 bytes exceeds the maximum of 65536 bytes"))])
    #expect(relay.closedStreams == [bob])
    #expect(relay.core.statistics.malformedDropped == 1)
    relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "alone now"), from: alice)
    #expect(relay.take(alice) == [.received(upTo: 1)])
}

/// Specs/chat-protocol.md, sections 2 and 5.
/// Specs/chat-protocol.md, section 2: An undecodable message (an empty frame too) is counted and dropped, with no
/// answer; the stream stays open.
@Test func anUndecodableFrameIsCountedAndDroppedUnansweredAndTheStreamStays() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    relay.core.handleStreamBytes(Framing.frame([]) + Framing.frame([0x02, 0x00]) + Framing.frame([0x77]), from: alice, at: relay.now)
    #expect(relay.take(alice).isEmpty, "section 2: an undecodable message, an empty frame included, gets no answer")
    #expect(relay.core.statistics.malformedDropped == 3)
    #expect(relay.closedStreams.isEmpty)
}

/// Specs/chat-protocol.md, section 5: A frame length over 65,536 MUST close the stream unread; length 0 is malformed;
/// frames split or packed anywhere.
@Test func framesSplitAnywhereAreReassembled() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(alice)
    let bytes = (1...3).flatMap { Framing.frame(ClientMessage.say(room: "#lobby", messageID: UInt64($0), flags: [], text: "part \($0)").encoded()) }
    for byte in bytes { relay.core.handleStreamBytes([byte], from: bob, at: relay.now) }
    #expect(relay.take(alice).count == 3)
    #expect(relay.take(bob) == [.received(upTo: 1), .received(upTo: 2), .received(upTo: 3)])
}

/// Specs/chat-protocol.md, section 4.5: Notice kinds and error codes on the wire; `serverFull` over TCP, CLOSE 4 over
/// UDP.
/// Specs/chat-protocol.md, section 6: Limits: names, rooms, text, reason, rooms per user.
@Test func textOverTheLimitIsRefused() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    relay.send(.say(room: "#lobby", messageID: 9, flags: [], text: String(repeating: "x", count: 4_001)), from: alice)
    #expect(relay.take(alice).map(\.errorCode) == [.messageTooLarge, nil])
}

/// Specs/wire-format.md, section 7: CLOSE codes: 0 normal, 1 idle timeout, 2 protocol error, 3 shutting down, 4
/// refused.
/// Specs/chat-protocol.md, section 4.5: Notice kinds and error codes on the wire; `serverFull` over TCP, CLOSE 4 over
/// UDP.
@Test func aFullRelayRefusesTCPAndUDP() {
    var configuration = RelayConfiguration()
    configuration.maximumPeers = 1
    var relay = RelayHarness(configuration: configuration)
    relay.joinTCP("alice", port: 4001)
    let late = RelayHarness.tcp(4002)
    relay.open(late)
    #expect(relay.take(late).map(\.errorCode) == [.serverFull])
    #expect(relay.closedStreams == [late])
    let udpLate = relay.connectUDP(port: 5001)
    #expect(relay.udp.closeReasons[udpLate] == .peer(code: .refused))
    #expect(relay.core.statistics.peersRefused == 2)
    #expect(relay.core.statistics.peers == 1)
}

/// Specs/chat-protocol.md, section 4.3 step 6: A send queue overflow disconnects with a notice; never a silent drop.
@Test func aTCPReaderThatFallsBehindIsDisconnectedWithANotice() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(alice)
    relay.core.handleStreamBacklog(1 << 20, for: bob, at: relay.now)
    #expect(relay.take(alice).isEmpty)
    relay.core.handleStreamBacklog((1 << 20) + 1, for: bob, at: relay.now)
    #expect(relay.take(alice) == [.notice(Notice(kind: .quit, name: "bob", detail: "send queue overflow"))])
    #expect(relay.closedStreams == [bob])
    #expect(relay.core.statistics.sendQueueOverflows == 1)
}

/// Specs/chat-protocol.md, section 4.3 step 6: A send queue overflow disconnects with a notice; never a silent drop.
@Test func aUDPReaderThatNeverAcknowledgesIsDisconnectedWithANotice() {
    var configuration = RelayConfiguration()
    configuration.connection.sendQueueLimit = 4_000
    var relay = RelayHarness(configuration: configuration)
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinUDP("bob", port: 5001)
    _ = relay.take(alice)
    relay.udp.silenced.insert(bob)
    for id in 1...10 {
        relay.send(.say(room: "#lobby", messageID: UInt64(id), flags: [], text: String(repeating: "z", count: 1_000)), from: alice)
    }
    let notices = relay.take(alice).compactMap(\.notice)
    #expect(notices == [Notice(kind: .quit, name: "bob", detail: "send queue overflow")])
    #expect(relay.core.statistics.sendQueueOverflows == 1)
    #expect(relay.core.statistics.peers == 1)
}
