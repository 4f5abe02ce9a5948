import Chat
import Datagram
import Relay
import Testing

// Inputs found by the libFuzzer targets in Fuzz/ (tools/fuzz.sh), replayed through the public API.
// A test whose crash is not fixed yet is `.disabled` (a trap cannot be caught by `withKnownIssue`: it
// would end the whole test run). Remove the trait in the commit that lands the fix.

/// The attack of issue 8, item 1, against the relay: after a normal cookie handshake, two DATA
/// packets for one message with different fragment counts (fragment 1 of 2, then fragment 2 of 3).
/// The relay trapped in `PartialMessage.contains` (via `ReorderBuffer.admission`). Found by the
/// `connection` fuzz target (Fuzz/reproducers/connection/reorder-fragment-count-mismatch).
@Test func twoDataPacketsWithDifferentFragmentCountsDoNotTakeTheRelayDown() {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.takeUDP(alice)
    let attacker = relay.connectUDP(port: 5009)
    let next = UInt32(relay.udp.connections[attacker]!.statistics.packetsSent)
    func data(_ packetNumber: UInt32, index: UInt16, count: UInt16) -> [UInt8] {
        let fragment = FragmentHeader(channel: .reliableOrdered, messageNumber: 1, fragmentIndex: index, fragmentCount: count)
        let size = index == count - 1 ? 45 : Limits.maximumFragmentPayload
        return Packet(header: PacketHeader(connectionID: ConnectionID(rawValue: 5009), packetNumber: packetNumber),
                      body: .data(fragment, payload: [UInt8](repeating: 0x41, count: size)[...])).emit()
    }
    relay.core.handleDatagram(data(next, index: 1, count: 2), from: attacker, at: relay.now)
    relay.core.handleDatagram(data(next + 1, index: 2, count: 3), from: attacker, at: relay.now)
    relay.collect()

    relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "still here"), from: alice)
    #expect(relay.take(bob).last == .message(room: "#lobby", from: "alice", sender: RelayHarness.sender(5001), messageID: 1,
                                            flags: [], text: "still here"))
}

/// Issue 8, item 8: a client's `software` field reaches the relay's log raw. Found by the `relay`
/// target with FUZZ_RELAY_LOGS=1 (Fuzz/reproducers/relay/log-line-control-character: a HELLO whose
/// software is the single byte 0x01). Every log line must be safe to print on a terminal.
@Test func logLinesHoldNoControlCharactersWhateverAClientSends() {
    var relay = RelayHarness()
    let endpoint = relay.connectUDP(port: 5001)
    relay.sendUDP(.hello(Hello(sessionSecret: SessionSecret(rawValue: 1), name: "alice", software: "\u{01}\u{1B}]0;pwned\u{07}\u{1B}[2J")),
                  from: endpoint)
    relay.collect()
    for line in relay.logs {
        #expect(!line.unicodeScalars.contains(where: SafeText.isForbidden), "\(line.debugDescription)")
    }
}

/// While a UDP peer drains after `beginShutdown`, its wake time still includes its silence timeout
/// (`lastHeard + peerTimeout`), which `handleTimeout` ignores for a draining peer: once that instant
/// passes, `nextDeadline` stays at it, so a driver re-arms its timer in the past and spins until the
/// drain deadline. Found by the `relay` target (its shutdown check never finished in virtual time;
/// Fuzz/reproducers/relay/shutdown-drain-deadline-in-the-past, before the target stepped time on).
@Test func nextDeadlineMovesOnWhileASilentPeerDrains() {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    relay.udp.silenced.insert(alice)
    relay.run(for: .seconds(9))
    relay.core.beginShutdown(at: relay.now)
    relay.collect()
    var stuckAt: Timestamp?
    for _ in 0..<5_000 {
        guard let deadline = relay.core.nextDeadline else { break }
        relay.now = max(relay.now, deadline)
        relay.core.handleTimeout(at: relay.now)
        relay.collect()
        if let next = relay.core.nextDeadline, next <= relay.now {
            stuckAt = relay.now
            relay.now = relay.now + .milliseconds(1)     // what a real clock does while the driver spins
        }
    }
    #expect(relay.core.isFinished, "not finished after the drain timeout")
    #expect(stuckAt == nil, "nextDeadline stayed at \(String(describing: stuckAt)) after handleTimeout")
}
