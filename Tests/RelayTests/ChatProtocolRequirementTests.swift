import Chat
import Datagram
import Testing
import Relay

/// Requirements of Specs/chat-protocol.md that no other test checked on its own. Each test names the
/// section it checks; Specs/checking.md, section 3, maps every section to its tests.
@Suite("Chat protocol requirements, section by section")
struct ChatProtocolRequirementTests {
    /// Specs/chat-protocol.md, section 4.3 step 10: HEARTBEAT is never counted against a sender's rate
    /// (it is liveness, not a request): a hundred at once are all echoed, the sender is not pushed back
    /// nor told `rateLimited`, and its next SAY is still within its rate.
    @Test func heartbeatsAreNeverCountedAgainstTheRate() {
        var relay = RelayHarness(configuration: AbuseTests.rateLimited(messagesPerSecond: 5, burstSeconds: 1))
        let alice = relay.joinTCP("alice", port: 4001)
        let bob = relay.joinTCP("bob", port: 4002)
        _ = relay.take(alice)
        _ = relay.take(bob)
        var bytes: [UInt8] = []
        for timestamp in UInt64(1)...100 {
            bytes += Framing.frame(ClientMessage.heartbeat(timestamp: timestamp, roundTripTime: nil).encoded())
        }
        relay.core.handleStreamBytes(bytes, from: alice, at: relay.now)
        relay.collect()
        #expect(!relay.core.isHeldBack(alice))
        #expect(relay.take(alice) == (UInt64(1)...100).map { .heartbeatEcho(timestamp: $0) }, "every one echoed, no rateLimited")
        relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "still within the rate"), from: alice)
        #expect(relay.take(bob) == [.message(room: "#lobby", from: "alice", sender: RelayHarness.sender(4001), messageID: 1,
                                             flags: [], text: "still within the rate")])
        #expect(relay.core.statistics.rateLimitEpisodes == 0)
    }
}
