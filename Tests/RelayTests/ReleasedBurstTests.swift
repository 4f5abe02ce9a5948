import Chat
import Datagram
import Relay
import Testing

/// The cause of compare's rare "bulk delivered N of M messages before the deadline" (issue 13).
///
/// A sender's packet is lost on its way to the relay; the relay acknowledges and buffers the sender's
/// later messages (out of order) while the receiver is not congested, so nothing holds the sender
/// back. The retransmission fills the gap and releases them all in one go, into the receiver's queue.
/// A release larger than the room between the congestion threshold (half the cap) and the cap used to
/// overflow the receiver's queue: it was disconnected ("send queue overflow") and every message
/// routed before it rejoined was lost to it. The relay now never buffers more out of order for a
/// joined sender than a receiver under the threshold can take.
@Suite("Released bursts")
struct ReleasedBurstTests {
    static let cap = 200_000

    /// Messages of about 1 KB each: 250 KB in all, more than the cap.
    static let count = 250

    static func say(_ id: Int) -> ClientMessage {
        .say(room: "#lobby", messageID: UInt64(id), flags: [], text: "<\(id)> " + String(repeating: "z", count: 1_000))
    }

    /// Specs/chat-protocol.md, section 4.3 step 6: what the relay buffers out of order for a sender is
    /// bounded so that, released at once, it fits in a receiver's queue below the congestion threshold.
    @Test func aGapFilledAfterManyMessagesDeliversThemAllWithoutOverflowingTheReceiver() {
        var configuration = RelayConfiguration()
        configuration.connection.sendQueueLimit = Self.cap
        configuration.streamSendQueueLimit = Self.cap
        var relay = RelayHarness(configuration: configuration)
        let alice = relay.joinUDP("alice", port: 5001)
        let bob = relay.joinUDP("bob", port: 5002)
        _ = relay.takeUDP(alice)
        _ = relay.takeUDP(bob)

        // Every copy of message 1 is lost on the way to the relay while alice sends 2...250 (about
        // 250 KB; bob's cap is 200 KB, and he is congested over 100 KB): the relay buffers what it may.
        let first = Array("<1> ".utf8)
        for id in 1...Self.count {
            _ = try? relay.udp.connections[alice]?.send(Self.say(id).encoded(), at: relay.now)
            relay.pump(dropping: { $0.contains(first) }, from: alice)
            relay.advance(by: .milliseconds(1))
        }
        #expect(relay.takeUDP(bob).isEmpty, "nothing after the gap is delivered yet")
        // Then the path heals: the next retransmission of 1 fills the gap.
        relay.run(for: .seconds(5))

        let texts = relay.takeUDP(bob).compactMap { message -> Int? in
            guard case let .message(_, _, _, _, _, text) = message else { return nil }
            return Int(text.dropFirst().prefix { $0 != ">" })
        }
        #expect(relay.core.statistics.sendQueueOverflows == 0)
        #expect(relay.udp.closeReasons[bob] == nil)
        #expect(texts == Array(1...Self.count))
    }
}

fileprivate extension RelayHarness {
    /// Like `pump`, but datagrams from `sender` matching `isLost` never reach the relay.
    mutating func pump(dropping isLost: ([UInt8]) -> Bool, from sender: Endpoint) {
        for _ in 0..<10_000 {
            collect()
            let delivered = datagrams
            datagrams = []
            for (bytes, endpoint) in delivered where udp.connections[endpoint] != nil {
                udp.connections[endpoint]?.handleDatagram(bytes, at: now)
            }
            var isMoving = false
            for endpoint in udp.connections.keys.sorted(by: { $0.port < $1.port }) {
                while let bytes = udp.connections[endpoint]?.pollTransmit(at: now) {
                    isMoving = true
                    if endpoint == sender, isLost(bytes) { continue }
                    core.handleDatagram(bytes, from: endpoint, at: now)
                }
            }
            core.handleTimeout(at: now)
            for endpoint in udp.connections.keys { udp.connections[endpoint]?.handleTimeout(at: now) }
            collect()
            guard isMoving || !datagrams.isEmpty else { return }
        }
    }
}

fileprivate extension Array where Element == UInt8 {
    /// True when `part` occurs in these bytes.
    func contains(_ part: [UInt8]) -> Bool {
        guard part.count <= count else { return false }
        return (0...(count - part.count)).contains { Array(self[$0..<($0 + part.count)]) == part }
    }
}
