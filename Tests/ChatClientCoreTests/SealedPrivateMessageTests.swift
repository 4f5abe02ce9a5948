import Chat
@testable import ChatClientCore
import Datagram
import LibCrypto
import LinkSimulator
import Noise
@testable import Relay
import Testing

// Issue 10, end-to-end private messages (Specs/noise.md section 6.1, Specs/chat-protocol.md section
// 4.10): client cores and a real RelayCore over UDP in scripted time. The relay's knowledge of each
// peer's key (which the Noise transport gives it) is set directly.

private let crypto = LibCryptoNoise()
private func keyPair(_ first: UInt8) -> NoiseKeyPair { try! crypto.keyPair(privateKey: (0..<32).map { first &+ UInt8($0) }) }
private let keys: [String: NoiseKeyPair] = ["alice": keyPair(0x00), "bob": keyPair(0x40), "eve": keyPair(0xA0), "bob2": keyPair(0xC0)]
private func key(_ name: String) -> IdentityKey { IdentityKey(bytes: keys[name]!.publicKey)! }

/// Several client cores and one relay, over UDP datagrams in memory.
private struct ChatRoom {
    struct Member {
        var core: ChatClientCore
        let endpoint: Endpoint
        /// The key the relay believes this peer proved (nil: plaintext session).
        var relayKnownKey: IdentityKey?
        var events: [ChatSessionEvent] = []
    }

    var relay: RelayCore
    var members: [String: Member] = [:]
    var now = Timestamp.milliseconds(1_000)
    var relayBytes: [[UInt8]] = []

    init() {
        relay = RelayCore(configuration: RelayConfiguration(), cookieSecret: (1, 2),
                          senderIDs: { SenderID(deriving: $0, sha256: SHA256.hash) }, at: now)
    }

    /// Adds a client named `name`, port `port`, with `identity` (nil: plaintext) and pinned `contacts`;
    /// the relay believes it proved `relayKey` (default: its identity's key).
    mutating func add(_ name: String, port: UInt16, identity: NoiseKeyPair?, relayKey: IdentityKey?? = .none,
                      contacts: KnownKeys = KnownKeys(kind: .contacts)) {
        var configuration = ChatClientConfiguration(name: name, transport: .udp, sessionSecret: SessionSecret(rawValue: UInt64(port)))
        configuration.identity = identity.map { ClientIdentity(keyPair: $0, crypto: crypto, contacts: contacts, pinDate: "2026-11-30") }
        configuration.rejoinGrace = .zero
        let known: IdentityKey? = relayKey ?? identity.flatMap { IdentityKey(bytes: $0.publicKey) }
        members[name] = Member(core: ChatClientCore(configuration: configuration, random: SplitMix64(seed: UInt64(port))),
                               endpoint: Endpoint(transport: .udp, address: [127, 0, 0, 1], port: port), relayKnownKey: known)
        members[name]!.core.start(at: now)
        exchange()
    }

    mutating func exchange() {
        var isBusy = true
        while isBusy {
            isBusy = false
            for name in members.keys.sorted() {
                while let action = members[name]!.core.pollAction() {
                    switch action {
                    case .sendDatagram(let bytes):
                        relay.setIdentityKey(members[name]!.relayKnownKey, for: members[name]!.endpoint)
                        relay.handleDatagram(bytes, from: members[name]!.endpoint, at: now)
                        isBusy = true
                    case .event(let event): members[name]!.events.append(event)
                    default: break
                    }
                }
            }
            while let action = relay.pollAction() {
                switch action {
                case let .sendDatagram(bytes, to):
                    relayBytes.append(bytes)
                    guard let name = members.first(where: { $0.value.endpoint == to })?.key else { continue }
                    members[name]!.core.handleDatagram(bytes, at: now)
                    isBusy = true
                case let .log(_, line): relayBytes.append(Array(line.utf8))
                default: break
                }
            }
        }
    }

    mutating func run(for duration: Duration) {
        let end = now + duration
        exchange()
        while let next = ([relay.nextDeadline] + members.values.map(\.core.nextDeadline)).compactMap({ $0 }).min(), next <= end {
            now = max(now, next)
            relay.handleTimeout(at: now)
            for name in members.keys.sorted() { members[name]!.core.handleTimeout(at: now) }
            exchange()
        }
        now = end
    }

    /// The identity events `name` saw since the last call.
    mutating func identityEvents(_ name: String) -> [IdentityEvent] {
        defer { members[name]!.events.removeAll() }
        return members[name]!.events.compactMap { if case .identity(let event) = $0 { event } else { nil } }
    }

    /// Plain PRIVATE_MESSAGEs `name` received since the last call of `identityEvents`.
    func plainPrivates(_ name: String) -> [String] {
        members[name]!.events.compactMap {
            if case .received(.privateMessage(_, _, _, _, let text)) = $0 { text } else { nil }
        }
    }
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard haystack.count >= needle.count else { return false }
    return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
}

/// Specs/chat-protocol.md, section 4.10 (Specs/noise.md 6.1): /msg looks the key up (WHOIS), pins it on first use, seals, and the recipient
/// opens it, pins the sender on first use and shows it; the relay carried only ciphertext.
@Test func aPrivateMessageIsSealedToTheRecipientsKeyAndOpenedByIt() throws {
    var room = ChatRoom()
    room.add("alice", port: 5001, identity: keys["alice"])
    room.add("bob", port: 5002, identity: keys["bob"])
    room.run(for: .seconds(1))
    _ = room.identityEvents("alice"); _ = room.identityEvents("bob")
    let id = try room.members["alice"]!.core.sendSealedPrivate("meet me at noon", to: "bob", at: room.now)
    #expect(id == nil, "it waits for bob's key")
    room.run(for: .seconds(1))
    #expect(room.identityEvents("alice") == [.contactPinned(name: "bob", key: key("bob")),
                                           .sealedSent(id: 1, to: "bob", text: "meet me at noon")])
    #expect(room.plainPrivates("bob").isEmpty)
    #expect(room.identityEvents("bob") == [.contactPinned(name: "alice", key: key("alice")),
                                           .privateMessage(from: "alice", text: "meet me at noon")])
    #expect(room.members["alice"]!.core.contacts?.pin(for: "bob")?.key == key("bob"))
    #expect(room.members["alice"]!.core.isAllAcknowledged)
    #expect(room.members["alice"]!.core.statistics.sealedSent == 1)
    #expect(!room.relayBytes.contains { contains($0, Array("meet me".utf8)) }, "nothing the relay sent or logged holds the text")
}

/// Specs/chat-protocol.md, section 4.10: a contact whose key changed gets a loud warning and nothing sealed until /trust.
@Test func aChangedContactKeyIsWarnedAboutAndNothingIsSentUntilTrusted() throws {
    var room = ChatRoom()
    let pinned = KnownKeys(kind: .contacts).pinning("bob", key: key("bob"), date: "2026-11-01")
    room.add("alice", port: 5001, identity: keys["alice"], contacts: pinned)
    room.add("bob", port: 5002, identity: keys["bob2"])          // bob has a new key
    room.run(for: .seconds(1))
    _ = room.identityEvents("alice"); _ = room.identityEvents("bob")
    _ = try room.members["alice"]!.core.sendSealedPrivate("are you there?", to: "bob", at: room.now)
    room.run(for: .seconds(1))
    #expect(room.identityEvents("alice") == [
        .contactKeyChanged(name: "bob", expected: key("bob"), got: key("bob2")),
        .notSent(to: "bob", count: 1, reason: "the key changed; they wait until you type /trust bob"),
    ])
    #expect(room.identityEvents("bob").isEmpty, "nothing reached bob")
    #expect(!room.members["alice"]!.core.isAllAcknowledged, "the message waits, and end of input reports it")
    #expect(room.members["alice"]!.core.pendingMessages.map(\.summary) == ["PRIVATE to bob \"are you there?\" (waiting for the key)"])
    let trusted = room.members["alice"]!.core.trust("bob", at: room.now)
    #expect(trusted)
    room.run(for: .seconds(1))
    #expect(room.identityEvents("alice") == [.trusted(name: "bob", key: key("bob2")),
                                           .sealedSent(id: 1, to: "bob", text: "are you there?")])
    #expect(room.identityEvents("bob").last == .privateMessage(from: "alice", text: "are you there?"))
    #expect(room.members["alice"]!.core.contacts?.pin(for: "bob")?.key == key("bob2"))
    let again = room.members["alice"]!.core.trust("bob", at: room.now)
    #expect(!again, "nothing left to trust")
}

/// Specs/chat-protocol.md, section 4.10: a sealed message whose key inside is not the one pinned for the claimed sender is
/// dropped, counted and not shown (someone else's key under alice's name).
@Test func aSealedMessageFromAKeyOtherThanTheSendersPinIsDroppedAndCounted() throws {
    var room = ChatRoom()
    let pinned = KnownKeys(kind: .contacts).pinning("alice", key: key("alice"), date: "2026-11-01")
    room.add("bob", port: 5002, identity: keys["bob"], contacts: pinned)
    // The relay believes this "alice" proved alice's key, but the client seals with eve's (a forgery
    // the relay cannot detect).
    room.add("alice", port: 5001, identity: keys["eve"], relayKey: key("alice"))
    room.run(for: .seconds(1))
    _ = room.identityEvents("alice"); _ = room.identityEvents("bob")
    _ = try room.members["alice"]!.core.sendSealedPrivate("send money", to: "bob", at: room.now)
    room.run(for: .seconds(1))
    let events = room.identityEvents("bob")
    #expect(events.contains(.contactKeyChanged(name: "alice", expected: key("alice"), got: key("eve"))))
    #expect(events.contains(.sealedRejected(from: "alice", reason: "it is sealed with a key other than the one pinned for alice")))
    #expect(!events.contains { if case .privateMessage = $0 { true } else { false } })
    #expect(room.members["bob"]!.core.statistics.sealedRejected == 1)
}

/// Specs/chat-protocol.md, section 4.10: forged bytes (not a Noise X message to bob) are dropped, counted, not shown; a replay
/// of a genuine message is dropped as a duplicate.
@Test func aForgedOrReplayedSealedMessageIsDroppedAndCounted() throws {
    var room = ChatRoom()
    room.add("bob", port: 5002, identity: keys["bob"])
    room.add("alice", port: 5001, identity: keys["alice"])
    room.run(for: .seconds(1))
    _ = room.identityEvents("bob")
    // A relay (or anyone in its place) hands bob forged and replayed sealed messages.
    var sealer = try HandshakeState(pattern: .x, role: .initiator, prologue: SealedPrivateFormat.prologue,
                                    localStatic: keys["alice"]!, remoteStatic: key("bob").bytes, crypto: crypto)
    let genuine = try sealer.writeMessage(SealedPrivateFormat.payload(sealedID: 0x1234_0000_0001, text: "hello bob"))
    var tampered = genuine
    tampered[tampered.count - 1] ^= 1
    let garbage = [UInt8](repeating: 0x42, count: 120)
    for sealed in [tampered, garbage, genuine, genuine] {
        let message = RelayMessage.sealedPrivateMessage(from: "alice", sender: SenderID(rawValue: 9), messageID: 1, sealed: sealed)
        room.members["bob"]!.core.handleRelayBytes(message.encoded(), at: room.now)
    }
    room.exchange()
    let events = room.identityEvents("bob")
    #expect(events.filter { if case .sealedRejected = $0 { true } else { false } }.count == 2)
    #expect(events.filter { if case .privateMessage = $0 { true } else { false } } == [.privateMessage(from: "alice", text: "hello bob")])
    #expect(room.members["bob"]!.core.statistics.sealedRejected == 2)
    #expect(room.members["bob"]!.core.statistics.duplicatesSuppressed == 1)
}

/// Specs/chat-protocol.md, section 4.10: when the recipient has no key (a plaintext session) the message goes plain, and the
/// sender is told so; the same when the sender has none.
@Test func withoutAKeyOnEitherSideTheMessageGoesPlainAndTheSenderIsTold() throws {
    var room = ChatRoom()
    room.add("alice", port: 5001, identity: keys["alice"])
    room.add("plain", port: 5003, identity: nil)
    room.run(for: .seconds(1))
    _ = room.identityEvents("alice"); _ = room.identityEvents("plain")
    _ = try room.members["alice"]!.core.sendSealedPrivate("hi plain", to: "plain", at: room.now)
    room.run(for: .seconds(1))
    #expect(room.identityEvents("alice") == [.sentInPlainText(to: "plain", count: 1, reason: "plain has no identity key (plaintext session)")])
    #expect(room.plainPrivates("plain") == ["hi plain"])
    _ = room.identityEvents("plain")
    let id = try room.members["plain"]!.core.sendSealedPrivate("hi alice", to: "alice", at: room.now)
    #expect(id != nil, "sent at once")
    room.run(for: .seconds(1))
    #expect(room.identityEvents("plain") == [.sentInPlainText(to: "alice", count: 1, reason: "this session has no identity key (plaintext)")])
    #expect(room.plainPrivates("alice") == ["hi alice"])
}

/// Specs/chat-protocol.md, section 4.10: /whois shows the key with the pin decision; /msg to nobody says it was not sent.
@Test func whoisShowsTheKeyAndAMessageToNobodyIsReported() throws {
    var room = ChatRoom()
    room.add("alice", port: 5001, identity: keys["alice"])
    room.add("bob", port: 5002, identity: keys["bob"])
    room.run(for: .seconds(1))
    _ = room.identityEvents("alice")
    room.members["alice"]!.core.whois("bob", at: room.now)
    room.run(for: .seconds(1))
    #expect(room.identityEvents("alice") == [
        .contactPinned(name: "bob", key: key("bob")),
        .whois(WhoisEntry(asked: "bob", name: "bob", transport: .udp, key: key("bob")), decision: .firstContact),
    ])
    room.members["alice"]!.core.whois("bob", at: room.now)
    _ = try room.members["alice"]!.core.sendSealedPrivate("hello?", to: "carol", at: room.now)
    room.run(for: .seconds(1))
    #expect(room.identityEvents("alice") == [
        .whois(WhoisEntry(asked: "bob", name: "bob", transport: .udp, key: key("bob")), decision: .match),
        .notSent(to: "carol", count: 1, reason: "no such user"),
    ])
    #expect(room.members["alice"]!.core.isAllAcknowledged)
}

/// Specs/chat-protocol.md, section 4.10, sender-side ledger: a sealed message is numbered with the session's SAY and PRIVATE ids, in order,
/// and acknowledged like them.
@Test func sealedMessagesShareTheSessionsMessageIdsAndAcknowledgements() throws {
    var room = ChatRoom()
    room.add("alice", port: 5001, identity: keys["alice"])
    room.add("bob", port: 5002, identity: keys["bob"])
    room.run(for: .seconds(1))
    let first = try room.members["alice"]!.core.say("hello room", in: "#lobby", at: room.now)
    _ = try room.members["alice"]!.core.sendSealedPrivate("psst", to: "bob", at: room.now)
    room.run(for: .seconds(1))
    let second = try room.members["alice"]!.core.say("bye room", in: "#lobby", at: room.now)
    room.run(for: .seconds(1))
    #expect(first == 1 && second == 3, "the sealed message took id 2 when it was sent")
    let acknowledged = room.members["alice"]!.events.compactMap { if case .acknowledged(let id) = $0 { id } else { nil } }
    #expect(acknowledged.sorted() == [1, 2, 3])
    #expect(room.members["alice"]!.core.isAllAcknowledged)
}

/// Specs/noise.md section 7.9 (and Specs/chat-protocol.md, section 4.10): the client's sealing, with the vector's fixed
/// ephemeral key, gives the spec's bytes, and opening them gives the sender's key and the payload back.
@Test func sealingReproducesTheSpecsSealedPrivateMessageVector() throws {
    let vector = "493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d0f4d83dfab3c69390a4f70c41d2d09b7"
        + "40273f9c8af2f70caa0d382297239e4ca0aa43e6dc08bd60f13b4cd50b51f7bb2c2808dd027c020958ce020f93e19680"
        + "1e8e6867dd9425c42f2d9c298205d441562d5a3db841fc"
    let ephemeral = try crypto.keyPair(privateKey: (0..<32).map { 0x80 + UInt8($0) })
    let sealed = try PrivateMessageSealing.seal("meet me at noon", sealedID: 1, from: keys["alice"]!, to: key("bob"),
                                                crypto: crypto, ephemeral: ephemeral)
    #expect(HexText.text(sealed) == vector)
    let opened = try PrivateMessageSealing.open(sealed, recipient: keys["bob"]!, crypto: crypto)
    #expect(opened.sender == key("alice"))
    #expect(SealedPrivateFormat.parse(payload: opened.payload)?.text == "meet me at noon")
    #expect(throws: NoiseError.self) { try PrivateMessageSealing.open(sealed, recipient: keys["eve"]!, crypto: crypto) }
}
