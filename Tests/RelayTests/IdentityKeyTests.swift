import Chat
import Datagram
import LibCrypto
import Noise
@testable import Relay
import Testing

// Issue 10, identities, and Specs/chat-protocol.md section 4.10: the relay knows a peer by the static
// key it proved (`Peer.identityKey`, set here directly through the transport's hook, since the Noise
// handshake is the transport's), refuses a name held by another key, answers WHOIS, and forwards
// sealed private messages without being able to read them.

private let crypto = LibCryptoNoise()
private func keyPair(_ first: UInt8) -> NoiseKeyPair { try! crypto.keyPair(privateKey: (0..<32).map { first &+ UInt8($0) }) }
private let aliceKeys = keyPair(0x00), bobKeys = keyPair(0x40), eveKeys = keyPair(0xA0)
private let aliceKey = IdentityKey(bytes: aliceKeys.publicKey)!, bobKey = IdentityKey(bytes: bobKeys.publicKey)!
private let eveKey = IdentityKey(bytes: eveKeys.publicKey)!

extension RelayHarness {
    /// Opens a TCP stream whose handshake proved `key`, and joins as `name`.
    @discardableResult
    mutating func joinTCP(_ name: String, port: UInt16, key: IdentityKey?, session: UInt64? = nil) -> Endpoint {
        let endpoint = Self.tcp(port)
        open(endpoint)
        core.setIdentityKey(key, for: endpoint)
        send(.hello(Hello(sessionSecret: SessionSecret(rawValue: session ?? UInt64(port)), name: name)), from: endpoint)
        return endpoint
    }
}

/// Seals `text` from `sender` to `recipient` as a client does (Specs/noise.md section 6.1).
private func seal(_ text: String, id: UInt64, from sender: NoiseKeyPair, to recipient: IdentityKey) -> [UInt8] {
    var state = try! HandshakeState(pattern: .x, role: .initiator, prologue: SealedPrivateFormat.prologue,
                                    localStatic: sender, remoteStatic: recipient.bytes, crypto: crypto)
    return try! state.writeMessage(SealedPrivateFormat.payload(sealedID: id, text: text))
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard haystack.count >= needle.count else { return false }
    return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
}

/// Specs/chat-protocol.md, section 4.10: a HELLO for a name held by a session with another identity key is refused with
/// ERROR nameKeyMismatch, and the holder keeps its name and connection.
@Test func aClientPresentingAnothersNameWithADifferentKeyGetsAClearError() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001, key: aliceKey)
    _ = relay.take(alice)
    let eve = relay.joinTCP("alice", port: 4002, key: eveKey)
    let answer = relay.take(eve)
    #expect(answer.map(\.errorCode) == [.nameKeyMismatch])
    if case let .error(_, _, text) = answer.first { #expect(text.contains("held by another identity key")) }
    #expect(relay.take(alice).isEmpty, "the holder is not told, not moved, not closed")
    #expect(relay.closedStreams.isEmpty)
}

/// Specs/chat-protocol.md, section 4.10: the holder's session secret does not resume the session from another key (no takeover).
@Test func theHoldersSecretFromAnotherKeyDoesNotResumeTheSession() {
    var relay = RelayHarness()
    let alice = relay.joinTCP("alice", port: 4001, key: aliceKey, session: 0xA11CE)
    _ = relay.take(alice)
    let eve = relay.joinTCP("alice", port: 4002, key: eveKey, session: 0xA11CE)
    #expect(relay.take(eve).map(\.errorCode) == [.nameKeyMismatch])
    #expect(relay.take(alice).isEmpty)
}

/// Specs/chat-protocol.md, section 4.10: a plaintext session (no key) cannot take a name a keyed session holds.
@Test func aSessionWithoutAKeyCannotTakeANameHeldByAKeyedSession() {
    var relay = RelayHarness()
    _ = relay.joinTCP("alice", port: 4001, key: aliceKey, session: 0xA11CE)
    let stranger = relay.joinTCP("alice", port: 4002, key: nil, session: 0xA11CE)
    #expect(relay.take(stranger).map(\.errorCode) == [.nameKeyMismatch])
}

/// Specs/chat-protocol.md, section 4.10: the same key with the same secret resumes the session, as in section 4.3.
@Test func theSameKeyAndSecretResumeTheSession() {
    var relay = RelayHarness()
    let first = relay.joinTCP("alice", port: 4001, key: aliceKey, session: 0xA11CE)
    _ = relay.take(first)
    let second = relay.joinTCP("alice", port: 4002, key: aliceKey, session: 0xA11CE)
    #expect(relay.take(second).first.map { if case .welcome = $0 { true } else { false } } == true)
    #expect(relay.take(first).compactMap(\.notice).map(\.kind) == [.sessionResumed])
}

/// Specs/chat-protocol.md, section 4.10: the same key with another secret is another session: the name is taken (section 4.3).
@Test func theSameKeyWithAnotherSecretFindsTheNameTaken() {
    var relay = RelayHarness()
    _ = relay.joinTCP("alice", port: 4001, key: aliceKey, session: 1)
    let second = relay.joinTCP("alice", port: 4002, key: aliceKey, session: 2)
    #expect(relay.take(second).map(\.errorCode) == [.nameTaken])
}

/// Specs/chat-protocol.md, section 4.10: NICK to a name held by another key is refused the same way.
@Test func nickToANameHeldByAnotherKeyIsRefused() {
    var relay = RelayHarness()
    _ = relay.joinTCP("alice", port: 4001, key: aliceKey)
    let eve = relay.joinTCP("eve", port: 4002, key: eveKey)
    _ = relay.take(eve)
    relay.send(.nick("alice"), from: eve)
    #expect(relay.take(eve).map(\.errorCode) == [.nameKeyMismatch])
}

/// Specs/chat-protocol.md, section 4.10: WHOIS answers the holder's name, transport and key; an unknown name gets an empty name.
@Test func whoisAnswersTheHoldersKeyOrNobody() {
    var relay = RelayHarness()
    _ = relay.joinTCP("Bob", port: 4002, key: bobKey)
    let alice = relay.joinTCP("alice", port: 4001, key: aliceKey)
    _ = relay.take(alice)
    relay.send(.whois(name: "bob"), from: alice)
    relay.send(.whois(name: "carol"), from: alice)
    #expect(relay.take(alice) == [
        .whoisReply(WhoisEntry(asked: "bob", name: "Bob", transport: .tcp, key: bobKey)),
        .whoisReply(WhoisEntry(asked: "carol", name: "", transport: .udp, key: nil)),
    ])
}

/// Specs/chat-protocol.md, section 4.10: a plaintext session's WHOIS row has no key.
@Test func whoisOfAPlaintextSessionHasNoKey() {
    var relay = RelayHarness()
    _ = relay.joinTCP("bob", port: 4002, key: nil)
    let alice = relay.joinTCP("alice", port: 4001, key: aliceKey)
    _ = relay.take(alice)
    relay.send(.whois(name: "bob"), from: alice)
    #expect(relay.take(alice) == [.whoisReply(WhoisEntry(asked: "bob", name: "bob", transport: .tcp, key: nil))])
}

/// Specs/chat-protocol.md, section 4.10 and Specs/noise.md 6.1: the relay forwards the sealed bytes unchanged, and nothing it
/// sends to anyone (frames to both users, its log) holds the text.
@Test func theRelayForwardsOnlyCiphertextOfASealedPrivateMessage() {
    var relay = RelayHarness()
    let bob = relay.joinTCP("bob", port: 4002, key: bobKey)
    let alice = relay.joinTCP("alice", port: 4001, key: aliceKey, session: 0xA11CE)
    _ = relay.take(bob)
    _ = relay.take(alice)
    var everything: [[UInt8]] = []
    while let action = relay.core.pollAction() { _ = action }
    let secret = "meet me at noon"
    let sealed = seal(secret, id: 7, from: aliceKeys, to: bobKey)
    relay.core.handleStreamBytes(Framing.frame(ClientMessage.sealedPrivate(to: "bob", messageID: 7, sealed: sealed).encoded()),
                                 from: alice, at: relay.now)
    var frames: [Endpoint: FrameDecoder] = [:]
    var received: [RelayMessage] = []
    while let action = relay.core.pollAction() {
        switch action {
        case let .sendStream(bytes, to):
            everything.append(bytes)
            frames[to, default: FrameDecoder()].append(bytes)
            while let frame = try! frames[to]!.nextFrame() {
                if to == bob { received.append(try! RelayMessage(decoding: frame)) }
            }
        case let .sendDatagram(bytes, _): everything.append(bytes)
        case let .log(_, line): everything.append(Array(line.utf8))
        case .closeStream: break
        }
    }
    #expect(received == [.sealedPrivateMessage(from: "alice", sender: RelayHarness.sender(0xA11CE), messageID: 7, sealed: sealed)])
    #expect(!everything.contains { contains($0, Array(secret.utf8)) }, "the relay never has the text")
    #expect(!everything.contains { contains($0, Array("meet".utf8)) })
    // And bob can open it: the key inside is alice's.
    var open = try! HandshakeState(pattern: .x, role: .responder, prologue: SealedPrivateFormat.prologue, localStatic: bobKeys, crypto: crypto)
    let payload = try! open.readMessage(sealed)
    #expect(SealedPrivateFormat.parse(payload: payload)?.text == secret)
    #expect(open.remoteStaticKey == aliceKey.bytes)
}

/// Specs/chat-protocol.md, section 4.10: SEALED_PRIVATE to or from a session without a key is refused with noIdentityKey;
/// to nobody with noSuchUser; with an impossible length with messageTooLarge. Nothing is forwarded.
@Test func sealedPrivateMessagesNeedKeysOnBothSidesAndAPossibleLength() {
    var relay = RelayHarness()
    let plain = relay.joinTCP("plain", port: 4003, key: nil)
    let bob = relay.joinTCP("bob", port: 4002, key: bobKey)
    let alice = relay.joinTCP("alice", port: 4001, key: aliceKey)
    for endpoint in [plain, bob, alice] { _ = relay.take(endpoint) }
    let sealed = seal("hi", id: 1, from: aliceKeys, to: bobKey)
    relay.send(.sealedPrivate(to: "plain", messageID: 1, sealed: sealed), from: alice)
    relay.send(.sealedPrivate(to: "carol", messageID: 2, sealed: sealed), from: alice)
    relay.send(.sealedPrivate(to: "bob", messageID: 3, sealed: Array(sealed.prefix(50))), from: alice)
    relay.send(.sealedPrivate(to: "bob", messageID: 4, sealed: sealed + [UInt8](repeating: 0, count: 4100)), from: alice)
    relay.send(.sealedPrivate(to: "bob", messageID: 1, sealed: sealed), from: plain)
    let aliceGot = relay.take(alice).filter { if case .received = $0 { false } else { true } }
    #expect(aliceGot.map(\.errorCode) == [.noIdentityKey, .noSuchUser, .messageTooLarge, .messageTooLarge])
    #expect(relay.take(plain).filter { if case .received = $0 { false } else { true } }.map(\.errorCode) == [.noIdentityKey])
    #expect(relay.take(bob).isEmpty)
}

/// Specs/chat-protocol.md, section 4.10: without keys on either side, names stay first come, first served by secret (section 4.3).
@Test func withoutKeysTheSecretAloneDecidesAsBefore() {
    var relay = RelayHarness()
    _ = relay.joinTCP("alice", port: 4001, key: nil, session: 1)
    let other = relay.joinTCP("alice", port: 4002, key: nil, session: 2)
    #expect(relay.take(other).map(\.errorCode) == [.nameTaken])
}
