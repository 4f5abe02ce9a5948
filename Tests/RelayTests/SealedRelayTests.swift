import Chat
import Datagram
import LibCrypto
import Noise
@testable import Relay
import Testing

// Issue 10 (transport half), Specs/chat-protocol.md section 4.9 and Specs/wire-format.md section 9:
// the relay completes Noise XX handshakes for UDP peers, knows each peer by its static key, and
// admits plaintext sessions only with `allowsPlaintext`.

private enum Keys {
    static let crypto = LibCryptoNoise()
    static let relay = try! crypto.keyPair(privateKey: Array(0x40...0x5F))
    static let alice = try! crypto.keyPair(privateKey: Array(0x00...0x1F))
    static let bob = try! crypto.keyPair(privateKey: Array(0x20...0x3F))

    static func sealing(_ pair: NoiseKeyPair) -> Sealing { Sealing(crypto: crypto, staticKeyPair: pair) }
}

private func sealedRelay(allowsPlaintext: Bool = false) -> RelayHarness {
    var configuration = RelayConfiguration()
    configuration.connection.sealing = Keys.sealing(Keys.relay)
    configuration.allowsPlaintext = allowsPlaintext
    return RelayHarness(configuration: configuration)
}

extension RelayHarness {
    /// A client whose connection seals with `pair`, connected at `port` with the handshake run.
    @discardableResult
    mutating func connectSealedUDP(port: UInt16, pair: NoiseKeyPair) -> Endpoint {
        let endpoint = Self.udp(port)
        var configuration = Connection.Configuration()
        configuration.sealing = Keys.sealing(pair)
        udp.connections[endpoint] = Connection(role: .client, id: ConnectionID(rawValue: UInt32(port)),
                                               configuration: configuration, now: now)
        pump()
        return endpoint
    }

    @discardableResult
    mutating func joinSealedUDP(_ name: String, port: UInt16, pair: NoiseKeyPair) -> Endpoint {
        let endpoint = connectSealedUDP(port: port, pair: pair)
        sendUDP(.hello(Hello(sessionSecret: SessionSecret(rawValue: UInt64(port)), name: name)), from: endpoint)
        _ = takeUDP(endpoint)
        return endpoint
    }
}

/// Specs/chat-protocol.md, section 4.9: the relay reads FINISH, knows the peer by its static key
/// (`Peer.identityKey`), and sealed peers chat as before.
@Test func aSealedPeerIsKnownByItsStaticKeyAndChats() {
    var relay = sealedRelay()
    let alice = relay.joinSealedUDP("alice", port: 5001, pair: Keys.alice)
    let bob = relay.joinSealedUDP("bob", port: 5002, pair: Keys.bob)
    #expect(relay.core.statistics.handshakesCompleted == 2)
    #expect(relay.core.peers[alice]?.identityKey?.bytes == Keys.alice.publicKey)
    #expect(relay.core.peers[bob]?.identityKey?.bytes == Keys.bob.publicKey)
    #expect(relay.udp.connections[alice]?.remoteStaticKey == Keys.relay.publicKey)
    _ = relay.takeUDP(alice)
    relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "sealed hello"), from: alice)
    #expect(relay.takeUDP(bob) == [.message(room: "#lobby", from: "alice", sender: RelayHarness.sender(5001),
                                            messageID: 1, flags: [], text: "sealed hello")])
}

/// Specs/chat-protocol.md, section 4.9: no datagram the relay sends after the handshake carries the
/// chat text in clear.
@Test func noSealedDatagramCarriesTheChatText() {
    var relay = sealedRelay()
    let alice = relay.joinSealedUDP("alice", port: 5001, pair: Keys.alice)
    _ = relay.joinSealedUDP("bob", port: 5002, pair: Keys.bob)
    _ = relay.takeUDP(alice)
    let text = "the secret is 4242"
    _ = try? relay.udp.connections[alice]?.send(ClientMessage.say(room: "#lobby", messageID: 1, flags: [], text: text).encoded(), at: relay.now)
    let sent = relay.pump()
    let needle = Array(text.utf8)
    #expect(!sent.isEmpty)
    for (bytes, _) in sent {
        #expect(!(0...max(0, bytes.count - needle.count)).contains { bytes.count >= needle.count && Array(bytes[$0..<($0 + needle.count)]) == needle })
    }
}

/// Specs/chat-protocol.md, section 4.9: a plaintext HELLO (no Noise message 1) is refused with CLOSE
/// `refused` unless the relay allows plaintext; it is counted.
@Test func aPlaintextSessionIsRefusedUnlessAllowed() {
    var relay = sealedRelay()
    let plain = relay.connectUDP(port: 5003)
    #expect(relay.udp.closeReasons[plain] == .peer(code: .refused))
    #expect(relay.core.statistics.plaintextRefused == 1)
    #expect(relay.core.statistics.peers == 0)
}

/// Specs/chat-protocol.md, section 4.9: with `allowsPlaintext` (`relay --allow-plaintext`) a
/// plaintext peer and a sealed peer share a room; only the sealed one has an identity key.
@Test func anAllowedPlaintextPeerChatsWithASealedPeer() {
    var relay = sealedRelay(allowsPlaintext: true)
    let alice = relay.joinSealedUDP("alice", port: 5001, pair: Keys.alice)
    let carol = relay.joinUDP("carol", port: 5004)
    #expect(relay.core.peers[carol]?.identityKey == nil)
    #expect(relay.core.peers[alice]?.identityKey != nil)
    _ = relay.takeUDP(alice)
    relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "in clear"), from: carol)
    #expect(relay.takeUDP(alice) == [.message(room: "#lobby", from: "carol", sender: RelayHarness.sender(5004),
                                              messageID: 1, flags: [], text: "in clear")])
}

/// Specs/chat-protocol.md, section 4.9: a sealed client meeting a relay without sealing stops with a
/// reason that names the way out (`--plaintext`).
@Test func aSealedClientStopsAtAPlaintextRelay() {
    var relay = RelayHarness()
    let alice = relay.connectSealedUDP(port: 5001, pair: Keys.alice)
    guard case .handshakeFailed(let reason)? = relay.udp.closeReasons[alice] else {
        Issue.record("expected a handshake failure, got \(String(describing: relay.udp.closeReasons[alice]))")
        return
    }
    #expect(reason.contains("--plaintext"))
}

/// Specs/chat-protocol.md, section 4.9: a sealed packet replayed from another address changes
/// nothing: the peer stays where it is, with its identity, and gets nothing it did not ask for.
@Test func aSealedPacketFromASpoofedAddressChangesNothing() {
    var relay = sealedRelay()
    let alice = relay.joinSealedUDP("alice", port: 5001, pair: Keys.alice)
    _ = relay.takeUDP(alice)
    _ = try? relay.udp.connections[alice]?.send(ClientMessage.say(room: "#lobby", messageID: 1, flags: [], text: "x").encoded(), at: relay.now)
    let datagram = relay.udp.connections[alice]!.pollTransmit(at: relay.now)!
    let before = relay.core.statistics.peers
    relay.core.handleDatagram(datagram, from: RelayHarness.udp(6666), at: relay.now)
    #expect(relay.core.statistics.peers == before)
    #expect(relay.core.peers[RelayHarness.udp(6666)] == nil)
    #expect(relay.core.peers[alice]?.identityKey?.bytes == Keys.alice.publicKey)
}
