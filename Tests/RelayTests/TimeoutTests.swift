import Chat
import Datagram
import Relay
import Testing

/// Specs/chat-protocol.md, section 4.3 step 7: Removed at exactly the peer timeout, `timedOut`.
@Test func aSilentTCPUserStaysUntilExactlyThePeerTimeout() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.take(alice)
    let start = relay.now
    relay.advance(by: .seconds(5))
    relay.send(.heartbeat(timestamp: 1, roundTripTime: nil), from: alice)
    // The relay may wake early (a wake time that moved later is reckoned again then), never late.
    while let deadline = relay.core.nextDeadline, deadline < start + .seconds(10) {
        relay.now = deadline
        relay.timeout()
        #expect(relay.core.statistics.joinedPeers == 2)
    }
    #expect(relay.core.nextDeadline == start + .seconds(10))
    relay.now = start + .seconds(10) - .milliseconds(1)
    relay.timeout()
    #expect(relay.core.statistics.joinedPeers == 2)
    relay.now = start + .seconds(10)
    relay.timeout()
    #expect(relay.core.statistics.joinedPeers == 1)
    #expect(relay.take(alice) == [.heartbeatEcho(timestamp: 1), .notice(Notice(kind: .timedOut, name: "bob"))])
    #expect(relay.closedStreams == [bob])
    #expect(relay.core.nextDeadline == start + .seconds(15))
}

/// Specs/chat-protocol.md, section 4.3 "Resuming a session": Only the same secret resumes; the old connection gets
/// `sessionResumed`, then CLOSE 0 / stream closed.
@Test func aTimedOutUserReconnectsWithItsSessionAndName() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001, session: 42)
    relay.advance(by: .seconds(10))
    relay.timeout()
    #expect(relay.closedStreams == [alice])
    relay.joinTCP("alice", port: 4009, session: 42)
    #expect(relay.core.users.map(\.name) == ["alice"])
}

/// Specs/chat-protocol.md, section 4.3 step 7: Removed at exactly the peer timeout, `timedOut`.
@Test func anUnjoinedConnectionIsDroppedSilently() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001)
    let lurker = RelayHarness.tcp(4002)
    relay.open(lurker)
    relay.advance(by: .seconds(10))
    relay.send(.heartbeat(timestamp: 2, roundTripTime: nil), from: alice)
    relay.timeout()
    #expect(relay.closedStreams == [lurker])
    #expect(relay.take(alice) == [.heartbeatEcho(timestamp: 2)])
}
