import Chat
import Datagram
import LibCrypto
import Noise
@testable import Relay
import Testing

// Roaming (issue 10; Specs/wire-format.md section 10.8): a PATH_CHALLENGE is sent again on a timer,
// every probe timeout, a bounded number of times, so that a client that falls silent right after
// rebinding still moves once it answers; after that the check is given up and counted.

private let crypto = LibCryptoNoise()
private let relayKey = try! crypto.keyPair(privateKey: Array(0x40...0x5F))

/// Two sealed users; alice's client then rebinds to port 6001, sends one SAY from there (its first
/// challenge is lost) and falls silent: nothing it sends arrives and nothing reaches it.
private func aliceRebindsAndFallsSilent() -> (RelayHarness, alice: Endpoint, moved: Endpoint, bob: Endpoint) {
    var configuration = RelayConfiguration()
    configuration.connection.sealing = Sealing(crypto: crypto, staticKeyPair: relayKey)
    var relay = RelayHarness(configuration: configuration)
    let alice = relay.joinSealedUDP("alice", port: 5001, pair: try! crypto.keyPair(privateKey: Array(0x00...0x1F)))
    let bob = relay.joinSealedUDP("bob", port: 5002, pair: try! crypto.keyPair(privateKey: Array(0x20...0x3F)))
    _ = relay.takeUDP(alice)
    let moved = RelayHarness.udp(6001)
    relay.udp.connections[moved] = relay.udp.connections.removeValue(forKey: alice)
    _ = try? relay.udp.connections[moved]?.send(ClientMessage.say(room: "#lobby", messageID: 1, flags: [], text: "rebound").encoded(),
                                                at: relay.now)
    while let datagram = relay.udp.connections[moved]?.pollTransmit(at: relay.now) {
        relay.core.handleDatagram(datagram, from: moved, at: relay.now)
    }
    relay.collect()
    #expect(relay.datagrams.filter { $0.to == moved }.count == 1, "the first challenge")
    relay.datagrams.removeAll { $0.to == moved }
    relay.udp.silenced.insert(moved)
    return (relay, alice, moved, bob)
}

/// Specs/wire-format.md, section 10.8: while the new address is silent the relay sends the challenge
/// again on its timer (a probe timeout, at least 250 ms apart), not only when packets arrive; the
/// client answers the first one that reaches it and moves, with its SAY delivered once.
@Test func aClientThatFallsSilentAfterRebindingMovesOnceItAnswersAChallengeSentOnTheTimer() {
    var (relay, alice, moved, bob) = aliceRebindsAndFallsSilent()
    relay.run(for: .milliseconds(600))
    #expect(relay.core.statistics.pathChallengesSent == 3, "the first, then two on the timer in 600 ms")
    #expect(relay.core.statistics.peersMigrated == 0)
    // The client can be reached again, and stays silent on its own: only the relay's timer runs (the
    // client's connection never fires its own retransmission), so what moves it is the answer to a
    // challenge the timer sent.
    relay.udp.silenced.remove(moved)
    let until = relay.now + .milliseconds(400)
    while relay.core.statistics.peersMigrated == 0, let next = relay.core.nextDeadline, next <= until {
        relay.now = max(relay.now, next)
        relay.core.handleTimeout(at: relay.now)
        relay.pump()
    }
    #expect(relay.core.statistics.pathChallengesSent == 4)
    #expect(relay.core.statistics.peersMigrated == 1)
    #expect(relay.core.peers[moved]?.name == "alice")
    #expect(relay.core.peers[alice] == nil)
    #expect(relay.core.statistics.pathChecksAbandoned == 0)
    #expect(relay.takeUDP(bob).filter { if case .message(_, _, _, _, _, "rebound") = $0 { true } else { false } }.count == 1)
}

/// Specs/wire-format.md, section 10.8: a new address that never answers gets the challenge again at
/// most 5 times; then the check is given up, counted and logged, the peer stays where it was, and its
/// timer stops. A packet from the new address later starts a fresh check, which moves it.
@Test func aPathCheckThatIsNeverAnsweredIsGivenUpAfterFiveTimedChallenges() {
    var (relay, alice, moved, _) = aliceRebindsAndFallsSilent()
    relay.run(for: .seconds(3))
    #expect(relay.core.statistics.pathChallengesSent == 1 + PathCheck.maximumTimedResends)
    #expect(relay.core.statistics.pathChecksAbandoned == 1)
    #expect(relay.core.pathChecks.isEmpty)
    #expect(relay.core.peers[alice]?.name == "alice", "still at its old address")
    #expect(relay.logs.contains { $0.contains("path check of \(moved) given up") })
    relay.run(for: .seconds(2))
    #expect(relay.core.statistics.pathChallengesSent == 1 + PathCheck.maximumTimedResends, "no timer left")
    // Alice's client speaks again from the new address: a fresh check, answered, moves her.
    relay.udp.silenced.remove(moved)
    relay.run(for: .seconds(1))
    #expect(relay.core.statistics.peersMigrated == 1)
    #expect(relay.core.peers[moved]?.name == "alice")
}
