import Chat
import Datagram
import Relay
import Testing

/// Issue 8 item 6, replayed against `RelayCore` with scripted time: backpressure must not become a
/// weapon (a reader that stops loses its place), and a flooding sender is slowed down, not obeyed.
@Suite("Stalled receivers and rate limits")
struct AbuseTests {
    static func lines(from message: [RelayMessage], sender: String) -> [String] {
        message.compactMap { message -> String? in
            guard case let .message(_, from, _, _, _, text) = message, from == sender else { return nil }
            return text
        }
    }

    /// One TCP user who never read froze every room it was in (0 of 150 lines delivered in 30 s) and
    /// got a legitimate user falsely timed out.
    /// Specs/chat-protocol.md, section 4.3 step 6: A congested receiver (queue over half its cap) holds back the
    /// senders in its rooms; one that makes no progress for the stall timeout is disconnected with a notice and the
    /// others resume; a held-back user is not timed out.
    @Test func aReaderThatStopsIsDisconnectedAfterTheStallTimeoutAndTheOthersResume() {
        var configuration = RelayConfiguration()
        configuration.peerTimeout = .seconds(2)
        var relay = RelayHarness(configuration: configuration)
        let alice = relay.joinUDP("alice", port: 5001)
        let bob = relay.joinTCP("bob", port: 4002)
        let mallory = relay.joinTCP("mallory", port: 4003)
        _ = relay.takeUDP(alice)
        _ = relay.take(bob)
        let start = relay.now
        // mallory stops reading: the host reports its unwritten bytes over half the cap.
        relay.core.handleStreamBacklog(600_000, for: mallory, at: relay.now)
        #expect(relay.core.isHeldBack(alice))
        #expect(relay.core.isHeldBack(bob))

        var said: [String] = []
        for line in 1...150 {
            said.append("line \(line)")
            relay.sendUDP(.say(room: "#lobby", messageID: UInt64(line), flags: [], text: "line \(line)"), from: alice)
        }
        // mallory keeps writing (heartbeats), so she is not silent; bob's stream is not read while he
        // is held back, so the relay hears nothing from him, and he must not time out for it.
        for second in 1...4 {
            relay.run(for: .seconds(1))
            relay.send(.heartbeat(timestamp: UInt64(second), roundTripTime: nil), from: mallory)
        }
        relay.run(for: .seconds(1) - .milliseconds(1))
        #expect(relay.core.users.map(\.name) == ["alice", "bob", "mallory"])
        #expect(Self.lines(from: relay.take(bob), sender: "alice").isEmpty, "held back while mallory is congested")
        relay.run(for: .milliseconds(1))
        #expect(relay.now == start + .seconds(5))
        #expect(relay.core.users.map(\.name) == ["alice", "bob"])
        #expect(relay.core.statistics.stalledReceiversDisconnected == 1)
        #expect(relay.closedStreams == [mallory])
        let notice = Notice(kind: .quit, name: "mallory", detail: "too slow: stopped reading for 5 s")
        #expect(relay.take(mallory).last == .notice(notice), "mallory is told why")

        for second in 1...10 {
            relay.send(.heartbeat(timestamp: UInt64(second), roundTripTime: nil), from: bob)
            relay.run(for: .seconds(1))
        }
        let bobGot = relay.take(bob)
        #expect(bobGot.first == .notice(notice))
        #expect(Self.lines(from: bobGot, sender: "alice") == said, "every line arrives, in order")
        #expect(relay.core.users.map(\.name) == ["alice", "bob"], "nobody legitimate timed out")
        #expect(relay.core.statistics.peersTimedOut == 0)
        #expect(relay.core.statistics.sendQueueOverflows == 0)
    }

    /// Slow is not stopped: a receiver that keeps draining (a quarter of its cap per timeout) only
    /// slows its rooms down; once it stops draining, it is disconnected one timeout later.
    /// Specs/chat-protocol.md, section 4.3 step 6: A congested receiver (queue over half its cap) holds back the
    /// senders in its rooms; one that makes no progress for the stall timeout is disconnected with a notice and the
    /// others resume; a held-back user is not timed out.
    @Test func aSlowReaderThatKeepsDrainingKeepsItsPlaceUntilItStops() {
        var relay = RelayHarness()
        let alice = relay.joinTCP("alice", port: 4001)
        let bob = relay.joinTCP("bob", port: 4002)
        let start = relay.now
        func report(_ bytes: Int, at offset: Duration) {
            relay.now = start + offset
            relay.timeout()
            relay.core.handleStreamBacklog(bytes, for: bob, at: relay.now)
            relay.send(.heartbeat(timestamp: 1, roundTripTime: nil), from: bob)
            relay.send(.heartbeat(timestamp: 1, roundTripTime: nil), from: alice)
        }
        report(1_000_000, at: .zero)
        report(700_000, at: .seconds(4))        // drained 300 KB: progress
        report(1_000_000, at: .seconds(8))      // more queued for it
        report(720_000, at: .milliseconds(8_500)) // drained 280 KB: progress again
        report(720_000, at: .seconds(13))
        #expect(relay.core.users.map(\.name) == ["alice", "bob"])
        relay.now = start + .milliseconds(13_500)
        relay.timeout()
        #expect(relay.core.users.map(\.name) == ["alice"])
        #expect(relay.core.statistics.stalledReceiversDisconnected == 1)
    }

    /// Specs/chat-protocol.md, section 4.3 step 6: A congested receiver (queue over half its cap) holds back the
    /// senders in its rooms; one that makes no progress for the stall timeout is disconnected with a notice and the
    /// others resume; a held-back user is not timed out.
    @Test func aCongestedReceiverAloneInItsRoomsIsNotDisconnected() {
        var relay = RelayHarness()
        let alice = relay.joinTCP("alice", port: 4001, rooms: ["#quiet"])
        relay.core.handleStreamBacklog(600_000, for: alice, at: relay.now)
        relay.advance(by: .seconds(6))
        relay.send(.heartbeat(timestamp: 1, roundTripTime: nil), from: alice)
        relay.timeout()
        #expect(relay.core.users.map(\.name) == ["alice"])
        #expect(relay.core.statistics.stalledReceiversDisconnected == 0)
    }

    static func rateLimited(messagesPerSecond: Int = 50, burstSeconds: Int = 4) -> RelayConfiguration {
        var configuration = RelayConfiguration()
        configuration.rateLimit = RateLimit(messagesPerSecond: messagesPerSecond, bytesPerSecond: 1_000_000, burstSeconds: burstSeconds)
        return configuration
    }

    /// A UDP user flooding lines got a slower UDP user disconnected for "send queue overflow" and 8
    /// messages lost. Now the flooder is pushed back (its DATA refused, unacknowledged), told once,
    /// and loses nothing; the others' messages all arrive and nobody overflows.
    /// Specs/chat-protocol.md, section 4.3 step 10: A sender over its rate is pushed back (nothing dropped or
    /// refused), told once with rateLimited; HEARTBEAT is not counted.
    @Test func aUDPFlooderIsSlowedToItsRateAndNothingIsLost() {
        var configuration = Self.rateLimited()
        configuration.connection.sendQueueLimit = 64_000
        var relay = RelayHarness(configuration: configuration)
        let flooder = relay.joinUDP("flooder", port: 5001)
        let bob = relay.joinUDP("bob", port: 5002)
        let carol = relay.joinUDP("carol", port: 5003)
        _ = relay.takeUDP(flooder)
        _ = relay.takeUDP(bob)
        let start = relay.now
        let text = String(repeating: "f", count: 200)
        var flood: [String] = []
        for line in 1...1_000 {
            flood.append("\(line) \(text)")
            _ = try? relay.udp.connections[flooder]?.send(ClientMessage.say(room: "#lobby", messageID: UInt64(line), flags: [],
                                                                               text: "\(line) \(text)").encoded(), at: relay.now)
        }
        relay.pump()
        var carols: [String] = []
        for line in 1...10 {
            relay.run(for: .milliseconds(500))
            carols.append("carol \(line)")
            relay.sendUDP(.say(room: "#lobby", messageID: UInt64(line), flags: [], text: "carol \(line)"), from: carol)
        }
        let routedIn5Seconds = relay.core.statistics.messagesRouted
        #expect(routedIn5Seconds <= 200 + 50 * 5 + 10 + 10, "burst plus rate, not the flood")
        relay.run(for: .seconds(60))
        #expect(relay.now == start + .seconds(65))
        let bobGot = relay.takeUDP(bob)
        #expect(Self.lines(from: bobGot, sender: "carol") == carols)
        #expect(Self.lines(from: bobGot, sender: "flooder") == flood, "the flood arrives whole, only slower")
        let notices = relay.takeUDP(flooder).compactMap(\.notice).filter { $0.kind == .rateLimited }
        #expect(notices.count == 1, "told once")
        #expect(relay.core.statistics.sendQueueOverflows == 0)
        #expect(relay.core.statistics.peersTimedOut == 0)
        #expect(relay.core.users.map(\.name) == ["flooder", "bob", "carol"])
        #expect(relay.core.statistics.rateLimitEpisodes > 0)
    }

    /// Over TCP the relay stops decoding (and the host stops reading) the flooder's stream.
    /// Specs/chat-protocol.md, section 4.3 step 10: A sender over its rate is pushed back (nothing dropped or
    /// refused), told once with rateLimited; HEARTBEAT is not counted.
    @Test func aTCPFlooderIsReadAtItsRateAndNothingIsLost() {
        var relay = RelayHarness(configuration: Self.rateLimited(messagesPerSecond: 20, burstSeconds: 2))
        let flooder = relay.joinTCP("flooder", port: 4001)
        let bob = relay.joinTCP("bob", port: 4002)
        _ = relay.take(flooder)
        var bytes: [UInt8] = []
        var flood: [String] = []
        for line in 1...200 {
            flood.append("flood \(line)")
            bytes += Framing.frame(ClientMessage.say(room: "#lobby", messageID: UInt64(line), flags: [], text: "flood \(line)").encoded())
        }
        relay.core.handleStreamBytes(bytes, from: flooder, at: relay.now)
        relay.collect()
        #expect(relay.core.isHeldBack(flooder), "the host stops reading its stream")
        #expect(relay.core.statistics.messagesRouted == 40, "the burst of 40 (HELLO took one), and the one that ran it dry")
        let told = relay.take(flooder).compactMap(\.notice)
        #expect(told == [Notice(kind: .rateLimited, detail: "over 20 messages or 1000000 bytes per second")])

        relay.run(for: .seconds(1))
        #expect(relay.core.statistics.messagesRouted == 60, "20 more in one second")
        // bob keeps chatting meanwhile and is never held back by the flooder.
        relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "hello"), from: bob)
        #expect(!relay.core.isHeldBack(bob))
        #expect(relay.take(flooder).contains(.message(room: "#lobby", from: "bob", sender: RelayHarness.sender(4002),
                                                      messageID: 1, flags: [], text: "hello")))
        // 140 left at 20/s take 7 s; in 8 s more, during which the flooder's heartbeats wait in its stream.
        relay.run(for: .seconds(8))
        #expect(Self.lines(from: relay.take(bob), sender: "flooder") == flood)
        #expect(relay.core.users.map(\.name) == ["flooder", "bob"], "a pushed-back sender is not timed out")
        #expect(!relay.core.isHeldBack(flooder))
        #expect(!relay.core.hasCongestion)
    }

    /// Specs/chat-protocol.md, section 4.3 step 10: A sender over its rate is pushed back (nothing dropped or
    /// refused), told once with rateLimited; HEARTBEAT is not counted.
    @Test func aSenderUnderItsRateIsNeverPushedBack() {
        var relay = RelayHarness(configuration: Self.rateLimited(messagesPerSecond: 5, burstSeconds: 4))
        let alice = relay.joinTCP("alice", port: 4001)
        let bob = relay.joinTCP("bob", port: 4002)
        for line in 1...100 {
            relay.advance(by: .milliseconds(250))
            relay.send(.say(room: "#lobby", messageID: UInt64(line), flags: [], text: "line \(line)"), from: alice)
            relay.send(.heartbeat(timestamp: UInt64(line), roundTripTime: nil), from: bob)
            relay.timeout()
        }
        #expect(relay.core.statistics.rateLimitEpisodes == 0)
        #expect(Self.lines(from: relay.take(bob), sender: "alice").count == 100)
        #expect(!relay.take(alice).contains { $0.notice?.kind == .rateLimited })
    }
}
