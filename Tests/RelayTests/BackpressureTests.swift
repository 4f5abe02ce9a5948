import Chat
import Datagram
import Relay
import Testing

/// A fast sender and a receiver that falls behind: the relay holds the sender back instead of
/// queueing without bound or disconnecting the receiver, and nothing is lost.
@Suite("Backpressure")
struct BackpressureTests {
    static func harness() -> RelayHarness {
        var configuration = RelayConfiguration()
        configuration.connection.sendQueueLimit = 8_000
        return RelayHarness(configuration: configuration)
    }

    static func say(_ id: Int) -> ClientMessage {
        .say(room: "#lobby", messageID: UInt64(id), flags: [], text: "\(id) " + String(repeating: "z", count: 1_000))
    }

    /// Specs/chat-protocol.md, section 4.3 step 6: A congested receiver (queue over half its cap) holds back the
    /// senders in its rooms; one that makes no progress for the stall timeout is disconnected with a notice and the
    /// others resume; a held-back user is not timed out.
    @Test func aSenderIsHeldBackWhileAReceiverIsCongestedThenEverythingArrivesInOrder() {
        var relay = Self.harness()
        let alice = relay.joinUDP("alice", port: 5001)
        let bob = relay.joinUDP("bob", port: 5002)
        _ = relay.takeUDP(alice)
        relay.udp.silenced.insert(bob)
        for id in 1...12 { relay.sendUDP(Self.say(id), from: alice) }

        #expect(relay.core.isHeldBack(alice), "bob's queue is over half its cap")
        #expect(!relay.core.isHeldBack(bob), "a congested peer is not held back by itself")
        #expect(relay.core.statistics.dataHeldBack > 0)
        #expect(relay.core.statistics.sendQueueOverflows == 0)

        relay.udp.silenced.remove(bob)
        relay.run(for: .seconds(5))
        let texts = relay.takeUDP(bob).compactMap { message -> Int? in
            guard case let .message(_, _, _, _, _, text) = message else { return nil }
            return Int(text.prefix { $0 != " " })
        }
        #expect(texts == Array(1...12))
        #expect(!relay.core.isHeldBack(alice))
        #expect(relay.core.statistics.sendQueueOverflows == 0)
        #expect(relay.core.statistics.congestionEpisodes >= 1)
    }

    /// Specs/chat-protocol.md, section 4.3 step 6: A congested receiver (queue over half its cap) holds back the
    /// senders in its rooms; one that makes no progress for the stall timeout is disconnected with a notice and the
    /// others resume; a held-back user is not timed out.
    @Test func aTCPReceiverOverHalfItsCapHoldsBackTheOthersInItsRooms() {
        var relay = RelayHarness()
        let alice = relay.joinUDP("alice", port: 5001)
        let bob = relay.joinTCP("bob", port: 4002)
        let carol = relay.joinTCP("carol", port: 4003, rooms: ["#elsewhere"])
        relay.send(.partRoom("#lobby"), from: carol)
        relay.core.handleStreamBacklog(600_000, for: bob, at: relay.now)
        #expect(relay.core.isHeldBack(alice))
        #expect(!relay.core.isHeldBack(carol), "carol shares no room with bob")
        relay.core.handleStreamBacklog(0, for: bob, at: relay.now)
        #expect(!relay.core.isHeldBack(alice))
        #expect(!relay.core.hasCongestion)
    }
}
