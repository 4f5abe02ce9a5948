import Chat
import Datagram
import Relay
import Testing

/// Issue 9 item 2 (Specs/chat-protocol.md, section 4.3, "Keepalive"): each side sends something at
/// least every third of the peer timeout WELCOME announces (and at least every 2 s), so an idle but
/// alive peer is never timed out, even at `--peer-timeout 2`.
@Suite("Keepalive follows the announced peer timeout")
struct KeepaliveRuleTests {
    static func relay(peerTimeout: Duration) -> RelayHarness {
        var configuration = RelayConfiguration()
        configuration.peerTimeout = peerTimeout
        return RelayHarness(configuration: configuration)
    }

    /// Specs/reliability.md, "Staying alive and noticing death": Chat's keepalive interval is the smaller of 2 s and
    /// a third of WELCOME's peer timeout, on both sides.
    /// Specs/chat-protocol.md, section 4.3 "Keepalive": The relay's keepalive interval is the smaller of 2 s and a
    /// third of the peer timeout in WELCOME.
    @Test func theRuleIsAThirdOfThePeerTimeoutAndAtMostTwoSeconds() {
        #expect(RelayCore.keepaliveInterval(.seconds(2), peerTimeout: .seconds(10)) == .seconds(2))
        #expect(RelayCore.keepaliveInterval(.seconds(2), peerTimeout: .seconds(3)) == .seconds(1))
        #expect(RelayCore.keepaliveInterval(.seconds(2), peerTimeout: .seconds(2)) == .seconds(2) / 3)
    }

    /// The relay used to ping every 2 s whatever the timeout: at `--peer-timeout 2` its PING left at
    /// the instant the peer was removed. A client that never pings on its own is now kept alive by
    /// answering the relay's PINGs.
    /// Specs/reliability.md, "Staying alive and noticing death": Chat's keepalive interval is the smaller of 2 s and
    /// a third of WELCOME's peer timeout, on both sides.
    /// Specs/chat-protocol.md, section 4.3 "Keepalive": The relay's keepalive interval is the smaller of 2 s and a
    /// third of the peer timeout in WELCOME.
    @Test func anIdleUDPUserIsKeptAliveByTheRelaysPingsAtPeerTimeoutTwo() {
        var relay = Self.relay(peerTimeout: .seconds(2))
        let endpoint = RelayHarness.udp(5001)
        var quiet = Connection.Configuration()
        quiet.keepaliveInterval = .seconds(60)
        quiet.idleTimeout = .seconds(60)
        relay.udp.connections[endpoint] = Connection(role: .client, id: ConnectionID(rawValue: 5001), configuration: quiet, now: relay.now)
        relay.pump()
        relay.sendUDP(.hello(Hello(sessionSecret: SessionSecret(rawValue: 1), name: "alice")), from: endpoint)
        relay.run(for: .seconds(30))
        #expect(relay.core.users.map(\.name) == ["alice"])
        #expect(relay.core.statistics.peersTimedOut == 0)
        #expect(relay.udp.closeReasons[endpoint] == nil)
    }

    /// Both sides following the rule: the client derives its keepalive from WELCOME's timeout.
    /// Specs/reliability.md, "Staying alive and noticing death": Chat's keepalive interval is the smaller of 2 s and
    /// a third of WELCOME's peer timeout, on both sides.
    /// Specs/chat-protocol.md, section 4.3 "Keepalive": The relay's keepalive interval is the smaller of 2 s and a
    /// third of the peer timeout in WELCOME.
    @Test func aClientFollowingTheRuleAndTheRelayNeverTimeEachOtherOut() {
        var relay = Self.relay(peerTimeout: .seconds(2))
        let endpoint = RelayHarness.udp(5001)
        var client = Connection.Configuration()
        client.keepaliveInterval = RelayCore.keepaliveInterval(client.keepaliveInterval, peerTimeout: .seconds(2))
        client.idleTimeout = .seconds(2)
        relay.udp.connections[endpoint] = Connection(role: .client, id: ConnectionID(rawValue: 5001), configuration: client, now: relay.now)
        relay.pump()
        relay.sendUDP(.hello(Hello(sessionSecret: SessionSecret(rawValue: 1), name: "alice")), from: endpoint)
        #expect(relay.takeUDP(endpoint).first == .welcome(name: "alice", defaultRoom: "#lobby", peerTimeout: .seconds(2)))
        relay.run(for: .seconds(60))
        #expect(relay.core.users.map(\.name) == ["alice"])
        #expect(relay.udp.closeReasons[endpoint] == nil, "the relay's own keepalives reach the client in time too")
    }

    /// Specs/chat-protocol.md, section 4.3 "Keepalive": The relay's keepalive interval is the smaller of 2 s and a
    /// third of the peer timeout in WELCOME.
    /// Specs/chat-protocol.md, section 5: A TCP client sends HEARTBEAT at least every keepalive interval.
    @Test func aTCPUserHeartbeatingAtAThirdOfPeerTimeoutTwoStays() {
        var relay = Self.relay(peerTimeout: .seconds(2))
        let alice = relay.joinTCP("alice", port: 4001)
        let interval = RelayCore.keepaliveInterval(.seconds(2), peerTimeout: .seconds(2))
        for beat in 1...45 {
            relay.advance(by: interval)
            relay.timeout()
            relay.send(.heartbeat(timestamp: UInt64(beat), roundTripTime: nil), from: alice)
        }
        #expect(relay.core.users.map(\.name) == ["alice"])
        #expect(relay.core.statistics.peersTimedOut == 0)
    }
}

/// Issue 9 item 12 (Specs/chat-protocol.md, section 4.3, step 5): what each kind of peer sees when
/// the relay shuts down.
@Suite("Shutdown, case by case")
struct ShutdownCaseTests {
    /// Specs/chat-protocol.md, section 4.3 step 5: Shutdown: serverShutdown to all, nothing new taken in (UDP DATA
    /// refused unacknowledged), TCP closed after the notice, UDP CLOSE 3 once drained or after 2 s; newcomers get
    /// serverShutdown (TCP) or COOKIE then CLOSE 3 (UDP).
    @Test func aUDPUserWithNothingOutstandingIsToldAndClosedWithCode3() {
        var relay = RelayHarness()
        let alice = relay.joinUDP("alice", port: 5001)
        relay.core.beginShutdown(reason: "restart", at: relay.now)
        #expect(relay.takeUDP(alice) == [.notice(Notice(kind: .serverShutdown, detail: "restart"))])
        relay.run(for: .milliseconds(100))
        #expect(relay.udp.closeReasons[alice] == .peer(code: .shuttingDown))
    }

    /// Specs/chat-protocol.md, section 4.3 step 5: Shutdown: serverShutdown to all, nothing new taken in (UDP DATA
    /// refused unacknowledged), TCP closed after the notice, UDP CLOSE 3 once drained or after 2 s; newcomers get
    /// serverShutdown (TCP) or COOKIE then CLOSE 3 (UDP).
    @Test func aTCPUserIsToldAndItsStreamClosedAndWhatItSendsAfterIsNotHandled() {
        var relay = RelayHarness()
        let alice = relay.joinTCP("alice", port: 4001)
        let bob = relay.joinTCP("bob", port: 4002)
        _ = relay.take(alice)
        relay.core.beginShutdown(at: relay.now)
        #expect(relay.take(alice) == [.notice(Notice(kind: .serverShutdown))])
        #expect(Set(relay.closedStreams) == [alice, bob])
        relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "late"), from: alice)
        #expect(relay.take(alice).isEmpty, "no RECEIVED: the client keeps the line and sends it again after reconnecting")
        #expect(relay.core.statistics.messagesRouted == 0)
    }

    /// Specs/chat-protocol.md, section 4.3 step 5: Shutdown: serverShutdown to all, nothing new taken in (UDP DATA
    /// refused unacknowledged), TCP closed after the notice, UDP CLOSE 3 once drained or after 2 s; newcomers get
    /// serverShutdown (TCP) or COOKIE then CLOSE 3 (UDP).
    @Test func aNewTCPClientDuringTheDrainGetsTheShutdownNoticeThenTheStreamCloses() {
        var relay = RelayHarness()
        relay.joinUDP("alice", port: 5001)
        relay.udp.silenced = [RelayHarness.udp(5001)]
        relay.core.beginShutdown(reason: "restart", at: relay.now)
        let late = RelayHarness.tcp(4009)
        relay.open(late)
        #expect(relay.take(late) == [.notice(Notice(kind: .serverShutdown, detail: "restart"))])
        #expect(relay.closedStreams == [late])
        #expect(relay.core.statistics.peersRefused == 1)
    }

    /// Specs/chat-protocol.md, section 4.3 step 5: Shutdown: serverShutdown to all, nothing new taken in (UDP DATA
    /// refused unacknowledged), TCP closed after the notice, UDP CLOSE 3 once drained or after 2 s; newcomers get
    /// serverShutdown (TCP) or COOKIE then CLOSE 3 (UDP).
    @Test func aNewUDPClientDuringTheDrainGetsItsCookieThenClose3() {
        var relay = RelayHarness()
        relay.joinUDP("alice", port: 5001)
        relay.udp.silenced = [RelayHarness.udp(5001)]
        relay.core.beginShutdown(at: relay.now)
        let late = relay.connectUDP(port: 5009)
        #expect(relay.core.statistics.cookiesIssued == 2)
        #expect(relay.udp.closeReasons[late] == .peer(code: .shuttingDown), "code 3 says why, and that trying again later is right")
        #expect(relay.core.statistics.peersRefused == 1)
    }

    /// Specs/chat-protocol.md, section 4.3 step 5: Shutdown: serverShutdown to all, nothing new taken in (UDP DATA
    /// refused unacknowledged), TCP closed after the notice, UDP CLOSE 3 once drained or after 2 s; newcomers get
    /// serverShutdown (TCP) or COOKIE then CLOSE 3 (UDP).
    @Test func anUnjoinedUDPConnectionIsClosedWithCode3AndItsHelloIsNotTakenIn() {
        var relay = RelayHarness()
        let lurker = relay.connectUDP(port: 5001)
        relay.udp.silenced = [lurker]
        relay.core.beginShutdown(at: relay.now)
        relay.udp.silenced = []
        relay.sendUDP(.hello(Hello(sessionSecret: SessionSecret(rawValue: 1), name: "alice")), from: lurker)
        relay.run(for: .seconds(2))
        #expect(relay.core.statistics.joinsAccepted == 0)
        #expect(relay.udp.closeReasons[lurker] == .peer(code: .shuttingDown))
        #expect(relay.core.isFinished)
    }
}
