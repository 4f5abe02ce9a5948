import Chat
import Datagram
import Relay
import Testing

/// Specs/wire-format.md, section 7: CLOSE codes: 0 normal, 1 idle timeout, 2 protocol error, 3 shutting down, 4
/// refused.
/// Specs/chat-protocol.md, section 4.3 step 5: Shutdown: serverShutdown to all, nothing new taken in (UDP DATA
/// refused unacknowledged), TCP closed after the notice, UDP CLOSE 3 once drained or after 2 s; newcomers get
/// serverShutdown (TCP) or COOKIE then CLOSE 3 (UDP).
@Test func shutdownTellsEveryoneThenClosesOnceDrained() {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.takeUDP(alice)
    relay.core.beginShutdown(reason: "restart", at: relay.now)
    let notice = RelayMessage.notice(Notice(kind: .serverShutdown, detail: "restart"))
    #expect(relay.take(bob) == [notice])
    #expect(relay.closedStreams == [bob])
    #expect(relay.takeUDP(alice) == [notice])
    relay.run(for: .milliseconds(100))
    #expect(relay.udp.closeReasons[alice] == .peer(code: .shuttingDown))
    #expect(relay.core.isFinished)
    #expect(relay.core.nextDeadline == nil)
}

/// Specs/chat-protocol.md, section 4.3 step 5: Shutdown: serverShutdown to all, nothing new taken in (UDP DATA
/// refused unacknowledged), TCP closed after the notice, UDP CLOSE 3 once drained or after 2 s; newcomers get
/// serverShutdown (TCP) or COOKIE then CLOSE 3 (UDP).
@Test func shutdownGivesUpOnAnUnresponsiveUDPPeerAfterTheDrainTimeout() {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    relay.udp.silenced.insert(alice)
    let start = relay.now
    relay.core.beginShutdown(at: relay.now)
    relay.run(for: .seconds(2) - .milliseconds(1))
    #expect(!relay.core.isFinished)
    relay.run(for: .milliseconds(1))
    #expect(relay.now == start + .seconds(2))
    #expect(relay.core.isFinished)
}

/// Specs/chat-protocol.md, section 4.3 step 5: Shutdown: serverShutdown to all, nothing new taken in (UDP DATA
/// refused unacknowledged), TCP closed after the notice, UDP CLOSE 3 once drained or after 2 s; newcomers get
/// serverShutdown (TCP) or COOKIE then CLOSE 3 (UDP).
@Test func newConnectionsAreRefusedDuringShutdown() {
    var relay = RelayHarness()
    relay.joinUDP("alice", port: 5001)
    relay.core.beginShutdown(at: relay.now)
    let late = RelayHarness.tcp(4009)
    relay.open(late)
    #expect(relay.take(late) == [.notice(Notice(kind: .serverShutdown))])
    #expect(relay.closedStreams == [late])
    let udpLate = relay.connectUDP(port: 5009)
    #expect(relay.udp.closeReasons[udpLate] == .peer(code: .shuttingDown))
}

/// Chat protocol 4.3 step 5: during the drain no new chat message is taken in, so nothing the relay
/// acknowledges can be lost to a user it is closing; the sender's client keeps what was refused.
/// Specs/chat-protocol.md, section 4.3 step 5: Shutdown: serverShutdown to all, nothing new taken in (UDP DATA
/// refused unacknowledged), TCP closed after the notice, UDP CLOSE 3 once drained or after 2 s; newcomers get
/// serverShutdown (TCP) or COOKIE then CLOSE 3 (UDP).
@Test func whatAUDPUserSaysDuringTheDrainIsLeftUnacknowledgedForItsClientToResend() {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    let bob = relay.joinUDP("bob", port: 5002)
    _ = relay.takeUDP(alice)
    relay.udp.silenced = [alice, bob]
    relay.core.beginShutdown(at: relay.now)
    relay.udp.silenced = [alice]
    relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "one more"), from: bob)
    relay.udp.silenced = []
    relay.run(for: .seconds(2))
    #expect(relay.takeUDP(alice) == [.notice(Notice(kind: .serverShutdown))])
    #expect(relay.core.statistics.messagesRouted == 0)
    #expect(relay.core.statistics.dataHeldBack > 0)
    #expect(relay.core.isFinished)
    #expect(relay.udp.closeReasons[alice] == .peer(code: .shuttingDown))
    #expect(relay.udp.closeReasons[bob] == .peer(code: .shuttingDown))
    let kept = relay.udp.connections[bob]?.takeUnacknowledgedMessages() ?? []
    #expect(kept == [ClientMessage.say(room: "#lobby", messageID: 1, flags: [], text: "one more").encoded()],
            "bob's client still holds the line, to send again after reconnecting")
}
