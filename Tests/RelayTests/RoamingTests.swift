import Chat
import Datagram
import LibCrypto
import Noise
@testable import Relay
import Testing

// Roaming (issue 10; Specs/wire-format.md section 10.8, Specs/chat-protocol.md section 4.9): a sealed
// packet from a new address starts a path check; only the answer from that address moves the peer.

private let crypto = LibCryptoNoise()
private let relayKey = try! crypto.keyPair(privateKey: Array(0x40...0x5F))

private func relayWithTwoSealedUsers() -> (RelayHarness, alice: Endpoint, bob: Endpoint) {
    var configuration = RelayConfiguration()
    configuration.connection.sealing = Sealing(crypto: crypto, staticKeyPair: relayKey)
    var relay = RelayHarness(configuration: configuration)
    let alice = relay.joinSealedUDP("alice", port: 5001, pair: try! crypto.keyPair(privateKey: Array(0x00...0x1F)))
    let bob = relay.joinSealedUDP("bob", port: 5002, pair: try! crypto.keyPair(privateKey: Array(0x20...0x3F)))
    _ = relay.takeUDP(alice)
    return (relay, alice, bob)
}

/// Specs/wire-format.md, section 10.8: a client that moves to a new port keeps its session after the
/// path check: same name, same rooms, no notices, and its message arrives.
@Test func aSealedClientThatMovesKeepsItsSessionAfterThePathCheck() {
    var (relay, alice, bob) = relayWithTwoSealedUsers()
    let moved = RelayHarness.udp(6001)
    relay.udp.connections[moved] = relay.udp.connections.removeValue(forKey: alice)
    relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "from my new port"), from: moved)
    relay.run(for: .seconds(1))
    #expect(relay.core.statistics.pathChallengesSent >= 1)
    #expect(relay.core.statistics.peersMigrated == 1)
    #expect(relay.core.peers[alice] == nil)
    #expect(relay.core.peers[moved]?.name == "alice")
    #expect(relay.core.names.values.contains(moved) && !relay.core.names.values.contains(alice))
    #expect(relay.takeUDP(bob) == [.message(room: "#lobby", from: "alice", sender: RelayHarness.sender(5001),
                                            messageID: 1, flags: [], text: "from my new port")])
    relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "welcome back"), from: bob)
    relay.run(for: .milliseconds(100))
    #expect(relay.takeUDP(moved).contains { if case .message(_, _, _, _, _, "welcome back") = $0 { true } else { false } })
}

/// Specs/wire-format.md, section 10.8: a replayed or tampered sealed packet from another address
/// changes nothing and draws no challenge.
@Test func aReplayedOrTamperedPacketFromAnotherAddressChangesNothing() {
    var (relay, alice, _) = relayWithTwoSealedUsers()
    _ = try? relay.udp.connections[alice]?.send(ClientMessage.say(room: "#lobby", messageID: 1, flags: [], text: "hi").encoded(), at: relay.now)
    let datagram = relay.udp.connections[alice]!.pollTransmit(at: relay.now)!
    relay.core.handleDatagram(datagram, from: alice, at: relay.now)
    let spoofer = RelayHarness.udp(6666)
    relay.core.handleDatagram(datagram, from: spoofer, at: relay.now)
    var tampered = datagram
    tampered[40] ^= 1
    Packet.sealChecksumForTests(&tampered)
    relay.core.handleDatagram(tampered, from: spoofer, at: relay.now)
    #expect(relay.core.statistics.pathChallengesSent == 0)
    #expect(relay.core.statistics.roamingDropped == 2)
    #expect(relay.core.peers[alice]?.name == "alice")
    #expect(relay.core.peers[spoofer] == nil)
}

/// Specs/wire-format.md, section 10.8: an authentic packet redirected by an on-path attacker draws a
/// challenge to the attacker's address, but an answer from the old address does not move the peer.
@Test func aRedirectedPacketDoesNotMoveThePeerWithoutAnAnswerFromTheNewAddress() {
    var (relay, alice, _) = relayWithTwoSealedUsers()
    _ = try? relay.udp.connections[alice]?.send(ClientMessage.say(room: "#lobby", messageID: 1, flags: [], text: "hi").encoded(), at: relay.now)
    let datagram = relay.udp.connections[alice]!.pollTransmit(at: relay.now)!
    let attacker = RelayHarness.udp(6666)
    relay.core.handleDatagram(datagram, from: attacker, at: relay.now)
    relay.collect()
    let challenges = relay.datagrams.filter { $0.to == attacker }
    #expect(challenges.count == 1)
    relay.datagrams.removeAll { $0.to == attacker }
    // The attacker hands the challenge to alice; she answers from her real address.
    relay.udp.connections[alice]?.handleDatagram(challenges[0].bytes, at: relay.now)
    relay.pump()
    relay.run(for: .milliseconds(200))
    #expect(relay.core.statistics.peersMigrated == 0)
    #expect(relay.core.peers[alice]?.name == "alice")
    #expect(relay.core.peers[attacker] == nil)
}

/// Specs/wire-format.md, section 10.8: a client that keeps sending from its new address while the
/// first challenge is on its way draws no flood of new challenges, and its answer to the first one
/// still moves it (a challenge drawn per packet used to make every answer stale: a client that talked
/// continuously never moved).
@Test func aClientThatKeepsTalkingWhileTheChallengeIsInFlightStillMoves() {
    var (relay, alice, bob) = relayWithTwoSealedUsers()
    let moved = RelayHarness.udp(6001)
    relay.udp.connections[moved] = relay.udp.connections.removeValue(forKey: alice)
    for number in 1...3 {
        let say = ClientMessage.say(room: "#lobby", messageID: UInt64(number), flags: [], text: "moving \(number)")
        _ = try? relay.udp.connections[moved]?.send(say.encoded(), at: relay.now)
        while let datagram = relay.udp.connections[moved]?.pollTransmit(at: relay.now) {
            relay.core.handleDatagram(datagram, from: moved, at: relay.now)
        }
    }
    relay.collect()
    let challenges = relay.datagrams.filter { $0.to == moved }
    #expect(challenges.count == 1, "one challenge while it is in flight, not one per packet")
    #expect(relay.core.statistics.peersMigrated == 0)
    relay.run(for: .seconds(1))
    #expect(relay.core.statistics.peersMigrated == 1)
    #expect(relay.core.peers[moved]?.name == "alice")
    let texts = relay.takeUDP(bob).compactMap { message -> String? in
        if case let .message(_, _, _, _, _, text) = message { text } else { nil }
    }
    #expect(texts == ["moving 1", "moving 2", "moving 3"])
}
