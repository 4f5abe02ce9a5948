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
/// `encryptionRequired` (5: refused for good, so the client stops) unless the relay allows
/// plaintext; it is counted.
@Test func aPlaintextSessionIsRefusedUnlessAllowed() {
    var relay = sealedRelay()
    let plain = relay.connectUDP(port: 5003)
    #expect(relay.udp.closeReasons[plain] == .peer(code: .encryptionRequired))
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

/// A sealed TCP client driven by hand against the relay core (the harness's `collect` reads frames
/// as plaintext, so these tests poll the core's actions themselves).
private struct SealedStream {
    let endpoint: Endpoint
    var session: NoiseSession?
    var decoder = FrameDecoder()
    var closed = false

    /// Frames the relay wrote to this stream since the last call (raw payloads).
    mutating func frames(from relay: inout RelayHarness) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        while let action = relay.core.pollAction() {
            switch action {
            case let .sendStream(bytes, to) where to == endpoint:
                decoder.append(bytes)
                while let frame = try! decoder.nextFrame() { frames.append(frame) }
            case let .closeStream(to) where to == endpoint:
                closed = true
            default:
                break
            }
        }
        return frames
    }

    static func connect(_ relay: inout RelayHarness, port: UInt16, pair: NoiseKeyPair) throws -> SealedStream {
        var stream = SealedStream(endpoint: RelayHarness.tcp(port))
        relay.core.handleStreamOpened(stream.endpoint, at: relay.now)
        var handshake = try HandshakeState(pattern: .xx, role: .initiator, prologue: Sealing.prologue(connectionID: nil),
                                           localStatic: pair, crypto: Keys.crypto)
        relay.core.handleStreamBytes(Framing.frame([0x00] + (try handshake.writeMessage())), from: stream.endpoint, at: relay.now)
        let second = stream.frames(from: &relay)
        #expect(second.count == 1 && second.first?.count == 96)
        _ = try handshake.readMessage(second[0])
        relay.core.handleStreamBytes(Framing.frame(try handshake.writeMessage()), from: stream.endpoint, at: relay.now)
        stream.session = try handshake.split()
        return stream
    }

    mutating func send(_ message: ClientMessage, to relay: inout RelayHarness) throws {
        let sealed = try session!.encrypt(message.encoded())
        relay.core.handleStreamBytes(Framing.frame(sealed), from: endpoint, at: relay.now)
    }

    mutating func receive(from relay: inout RelayHarness) throws -> [RelayMessage] {
        try frames(from: &relay).map { try RelayMessage(decoding: try session!.decrypt($0)) }
    }
}

/// Specs/chat-protocol.md, section 5.1: a sealed TCP stream: marker and message 1, message 2, message
/// 3, then sealed frames; the relay knows the peer by its static key.
@Test func aSealedStreamHandshakesInThreeFramesAndChats() throws {
    var relay = sealedRelay()
    var bob = try SealedStream.connect(&relay, port: 4002, pair: Keys.bob)
    #expect(relay.core.peers[bob.endpoint]?.identityKey?.bytes == Keys.bob.publicKey)
    try bob.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 2), name: "bob")), to: &relay)
    let answer = try bob.receive(from: &relay)
    #expect(answer.first == .welcome(name: "bob", defaultRoom: "#lobby", peerTimeout: .seconds(10)))
}

/// Specs/chat-protocol.md, section 5.1: a frame that does not open closes the stream, counted.
@Test func aStreamFrameThatDoesNotOpenClosesTheStream() throws {
    var relay = sealedRelay()
    var bob = try SealedStream.connect(&relay, port: 4002, pair: Keys.bob)
    var sealed = try bob.session!.encrypt(ClientMessage.hello(Hello(sessionSecret: SessionSecret(rawValue: 2), name: "bob")).encoded())
    sealed[3] ^= 0x01
    relay.core.handleStreamBytes(Framing.frame(sealed), from: bob.endpoint, at: relay.now)
    _ = bob.frames(from: &relay)
    #expect(bob.closed)
    #expect(relay.core.statistics.streamFramesUnopened == 1)
    #expect(relay.core.peers[bob.endpoint] == nil)
}

/// Specs/chat-protocol.md, section 5.1: a plaintext stream is refused with ERROR `encryptionRequired`
/// that says why, unless the relay allows plaintext.
@Test func aPlaintextStreamIsRefusedUnlessAllowed() {
    var relay = sealedRelay()
    relay.open(RelayHarness.tcp(4003))
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 3), name: "carol")), from: RelayHarness.tcp(4003))
    let answer = relay.take(RelayHarness.tcp(4003))
    guard case let .error(code, _, text)? = answer.first else {
        Issue.record("expected an ERROR, got \(answer)")
        return
    }
    #expect(code == .encryptionRequired)
    #expect(text.contains("encrypted"))
    #expect(relay.closedStreams.contains(RelayHarness.tcp(4003)))

    var open = sealedRelay(allowsPlaintext: true)
    _ = open.joinTCP("carol", port: 4003)
    #expect(open.core.statistics.joinedPeers == 1)
}

/// Specs/chat-protocol.md, section 4.9: a sealed handshake from a spoofed address (a HELLO with Noise
/// message 1 and no valid cookie) costs the relay no state: it answers with a COOKIE no larger than
/// the HELLO, or drops a forged cookie.
@Test func aSealedHandshakeFromASpoofedAddressCostsNoState() {
    var relay = sealedRelay()
    let spoofed = RelayHarness.udp(7001)
    var configuration = Connection.Configuration()
    configuration.sealing = Keys.sealing(Keys.alice)
    var client = Connection(role: .client, id: ConnectionID(rawValue: 7001), configuration: configuration, now: relay.now)
    let first = client.pollTransmit(at: relay.now)!
    let fakeCookie = Packet(header: PacketHeader(connectionID: ConnectionID(rawValue: 7001), packetNumber: 0,
                                                 acknowledgement: Acknowledgement(largest: 0)),
                            body: .cookie(Array(repeating: 0x5A, count: 16))).emit()
    client.handleDatagram(fakeCookie, at: relay.now)
    let forged = client.pollTransmit(at: relay.now)!
    #expect(forged.count == 80)
    relay.core.handleDatagram(first, from: spoofed, at: relay.now)
    relay.core.handleDatagram(forged, from: spoofed, at: relay.now)
    relay.collect()
    #expect(relay.core.statistics.peers == 0)
    #expect(relay.core.peers[spoofed] == nil)
    #expect(relay.datagrams.allSatisfy { $0.bytes.count <= 48 })
    #expect(relay.core.statistics.statelessDropped == 1, "the forged cookie")
}

/// Specs/wire-format.md, section 10.4: with reset tokens on, the token is keyed with the relay's
/// static key: a restarted relay with the same key (and a new cookie secret) resets its old clients;
/// a RESET from a relay with another key is ignored.
@Test func resetTokensSurviveARestartWithTheSameKeyOnly() {
    var configuration = RelayConfiguration()
    configuration.connection.sealing = Keys.sealing(Keys.relay)
    configuration.announcesResetTokens = true
    var relay = RelayHarness(configuration: configuration)
    let alice = relay.connectSealedUDP(port: 5001, pair: Keys.alice)
    #expect(relay.udp.connections[alice]?.state == .established)
    let now = relay.now
    var client = relay.udp.connections[alice]!
    _ = try? client.send(ClientMessage.heartbeat(timestamp: 1, roundTripTime: nil).encoded(), at: now)
    let datagram = client.pollTransmit(at: now)!

    func reset(from key: NoiseKeyPair) -> [UInt8]? {
        var other = configuration
        other.connection.sealing = Keys.sealing(key)
        var core = RelayCore(configuration: other, cookieSecret: (0x9999, 0x8888), senderIDs: RelayHarness.senderIDs, at: now)
        core.handleDatagram(datagram, from: alice, at: now)
        while let action = core.pollAction() { if case let .sendDatagram(bytes, _) = action { return bytes } }
        return nil
    }
    let foreign = reset(from: Keys.bob)
    #expect(foreign?.count == 48)
    client.handleDatagram(foreign ?? [], at: now)
    #expect(client.state == .established, "another relay's RESET is ignored")
    let restarted = reset(from: Keys.relay)
    client.handleDatagram(restarted ?? [], at: now)
    #expect(client.state == .closed(.reset), "the same relay, restarted, resets")
}
