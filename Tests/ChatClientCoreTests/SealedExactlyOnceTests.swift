import Chat
@testable import ChatClientCore
import Datagram
import LibCrypto
import Noise
import Testing

// Issue 10/11, the client's side of "Sealed private messages" (Specs/chat-protocol.md section 4.11):
// a SEALED_PRIVATE is kept for the resend after a relay restart exactly like a PRIVATE (dropped on
// STORED_UP_TO at or above its id, sent again unchanged otherwise), and a SEALED_PAST_MESSAGE the
// recipient already showed is hidden; one it missed is shown with its time, without RECEIPT.

private let crypto = LibCryptoNoise()
private func keyPair(_ first: UInt8) -> NoiseKeyPair { try! crypto.keyPair(privateKey: (0..<32).map { first &+ UInt8($0) }) }
private let aliceKeys = keyPair(0x00), bobKeys = keyPair(0x40)
private let bobKey = IdentityKey(bytes: bobKeys.publicKey)!
private let aliceSender = SenderID(rawValue: 0xA11CE)

private func client(_ name: String, keys: NoiseKeyPair) -> ScriptedClient {
    var client = ScriptedClient { configuration in
        configuration.name = name
        configuration.identity = ClientIdentity(keyPair: keys, crypto: crypto, pinDate: "2026-11-30")
        configuration.rejoinGrace = .zero
    }
    client.startAndConnect()
    client.welcome()
    _ = client.takeSent()
    client.events = []
    return client
}

private extension ScriptedClient {
    /// The SEALED_PRIVATEs sent since the last call: id and bytes.
    mutating func takeSealed() -> [(id: UInt64, sealed: [UInt8])] {
        takeSent().compactMap { if case let .sealedPrivate(_, id, sealed) = $0 { (id, sealed) } else { nil } }
    }

    /// The identity events since the last call.
    mutating func takeIdentityEvents() -> [IdentityEvent] {
        defer { events = [] }
        return events.compactMap { if case .identity(let event) = $0 { event } else { nil } }
    }
}

/// Specs/chat-protocol.md, section 4.11, "Sealed private messages": alice seals three messages to bob;
/// the relay acknowledges two and is killed. Told STORED_UP_TO 2 on the new link, her client sends
/// exactly the third again, with its id and its sealed bytes unchanged (so bob's filter knows it).
/// Told STORED_UP_TO 3, it sends nothing again.
@Test func aSealedPrivateMessageIsResentExactlyAfterWhatTheRelayHolds() throws {
    for (stored, expected) in [(UInt64(2), [UInt64(3)]), (3, [])] {
        var alice = client("alice", keys: aliceKeys)
        for text in ["one", "two", "three"] { _ = try alice.core.sendSealedPrivate(text, to: "bob", at: alice.now) }
        alice.drain()
        #expect(alice.takeSent() == [.whois(name: "bob")], "one lookup for the three")
        alice.relay(.whoisReply(WhoisEntry(asked: "bob", name: "bob", transport: .tcp, key: bobKey)))
        let first = alice.takeSealed()
        #expect(first.map(\.id) == [1, 2, 3])
        alice.relay(.received(upTo: 2))
        #expect(!alice.core.isAllAcknowledged, "the third waits for the relay")
        alice.streamEnds()
        alice.advance(by: .seconds(1))
        alice.connect()
        alice.relay(.storedUpTo(stored))
        alice.welcome()
        alice.advance(by: .seconds(1))
        let again = alice.takeSealed()
        #expect(again.map(\.id) == expected)
        #expect(again.map(\.sealed) == first.filter { expected.contains($0.id) }.map(\.sealed), "the same bytes, sealed once")
        alice.relay(.received(upTo: 3))
        #expect(alice.core.isAllAcknowledged)
    }
}

/// Specs/chat-protocol.md, section 4.11: without a data directory (no STORED_UP_TO) the recently
/// acknowledged sealed messages go again too, as plain ones do; bob's filter hides the doubles.
@Test func withoutStoredUpToRecentSealedMessagesGoAgainAndTheRecipientHidesTheDoubles() throws {
    var alice = client("alice", keys: aliceKeys)
    var bob = client("bob", keys: bobKeys)
    _ = try alice.core.sendSealedPrivate("one", to: "bob", at: alice.now)
    alice.drain()
    alice.relay(.whoisReply(WhoisEntry(asked: "bob", name: "bob", transport: .tcp, key: bobKey)))
    let sent = alice.takeSealed()
    alice.relay(.received(upTo: 1))
    for (id, sealed) in sent { bob.relay(.sealedPrivateMessage(from: "alice", sender: aliceSender, messageID: id, sealed: sealed)) }
    alice.streamEnds()
    alice.advance(by: .seconds(1))
    alice.connect()
    alice.welcome()
    alice.advance(by: .seconds(1))
    let again = alice.takeSealed()
    #expect(again.map(\.id) == [1])
    for (id, sealed) in again { bob.relay(.sealedPrivateMessage(from: "alice", sender: aliceSender, messageID: id, sealed: sealed)) }
    let shown = bob.takeIdentityEvents().filter { if case .privateMessage = $0 { true } else { false } }
    #expect(shown == [.privateMessage(from: "alice", text: "one")], "shown once")
    #expect(bob.core.statistics.duplicatesSuppressed == 1)
}

/// Specs/chat-protocol.md, section 4.11: after a relay restart bob gets his kept sealed messages again
/// as SEALED_PAST_MESSAGE. The one he showed live is hidden. The one he missed (the relay was killed
/// before it left) is shown once, with the time the relay took it in, and answered with no RECEIPT.
@Test func aSealedPastMessageAlreadyShownIsHiddenAndAMissedOneIsShownWithItsTime() throws {
    var alice = client("alice", keys: aliceKeys)
    var bob = client("bob", keys: bobKeys)
    for text in ["seen", "missed"] { _ = try alice.core.sendSealedPrivate(text, to: "bob", at: alice.now) }
    alice.drain()
    alice.relay(.whoisReply(WhoisEntry(asked: "bob", name: "bob", transport: .tcp, key: bobKey)))
    let sent = alice.takeSealed()
    #expect(sent.count == 2)
    bob.relay(.sealedPrivateMessage(from: "alice", sender: aliceSender, messageID: sent[0].id, sealed: sent[0].sealed))
    #expect(bob.takeSent() == [.receipt(sender: aliceSender, messageID: 1)])
    _ = bob.takeIdentityEvents()
    // The relay restarts; bob's client reconnects and gets both kept messages after WELCOME.
    bob.streamEnds()
    bob.advance(by: .seconds(1))
    bob.connect()
    bob.relay(.storedUpTo(0))
    bob.welcome()
    for (index, (id, sealed)) in sent.enumerated() {
        bob.relay(.sealedPastMessage(from: "alice", sender: aliceSender, messageID: id, time: 1_790_000_000_000 + UInt64(index), sealed: sealed))
    }
    let shown = bob.takeIdentityEvents().filter { if case .pastPrivateMessage = $0 { true } else { false } }
    #expect(shown == [.pastPrivateMessage(from: "alice", text: "missed", time: 1_790_000_000_001)])
    #expect(!bob.takeSent().contains { if case .receipt = $0 { true } else { false } })
    #expect(bob.core.statistics.duplicatesSuppressed == 1)
}

/// Specs/chat-protocol.md, section 4.10: a relay killed after taking in a WHOIS and before answering
/// it loses nothing. Over TCP nothing acknowledges a WHOIS, so the client used to wait forever for the
/// key, with the message never sent. After the reconnection the client asks again, once, and the
/// message goes sealed.
@Test func aLookupLostWithTheRelayIsAskedAgainAfterTheReconnection() throws {
    var alice = client("alice", keys: aliceKeys)
    _ = try alice.core.sendSealedPrivate("are you there?", to: "bob", at: alice.now)
    alice.drain()
    #expect(alice.takeSent() == [.whois(name: "bob")])
    alice.streamEnds()
    alice.advance(by: .seconds(1))
    alice.connect()
    alice.relay(.storedUpTo(0))
    alice.welcome()
    alice.advance(by: .seconds(1))
    #expect(alice.takeSent().filter { if case .whois = $0 { true } else { false } } == [.whois(name: "bob")], "asked again, once")
    alice.relay(.whoisReply(WhoisEntry(asked: "bob", name: "bob", transport: .tcp, key: bobKey)))
    #expect(alice.takeSealed().map(\.id) == [1])
}

/// Specs/chat-protocol.md, section 4.10: right after a relay restart the recipient may not be back
/// yet. For 20 s after the reconnection an answer "nobody" to the repeated WHOIS keeps the message
/// waiting, and the name is asked again every second; once bob is back, the message goes sealed. After
/// the window "nobody" is final, and the message is reported as not sent.
@Test func aRecipientNotBackYetAfterARestartIsAskedForAgainWithinTheWindow() throws {
    var alice = client("alice", keys: aliceKeys)
    _ = try alice.core.sendSealedPrivate("are you there?", to: "bob", at: alice.now)
    alice.drain()
    _ = alice.takeSent()
    alice.streamEnds()
    alice.advance(by: .seconds(1))
    alice.connect()
    alice.welcome()
    alice.advance(by: .milliseconds(10))
    #expect(alice.takeSent().filter { if case .whois = $0 { true } else { false } } == [.whois(name: "bob")])
    let nobody = WhoisEntry(asked: "bob", name: "", transport: .udp, key: nil)
    alice.relay(.whoisReply(nobody))
    #expect(alice.takeIdentityEvents().isEmpty, "not reported: bob may not be back yet")
    alice.advance(by: .seconds(1))
    #expect(alice.takeSent() == [.whois(name: "bob")], "asked again a second later")
    alice.relay(.whoisReply(WhoisEntry(asked: "bob", name: "bob", transport: .tcp, key: bobKey)))
    #expect(alice.takeSealed().map(\.id) == [1])
    alice.relay(.received(upTo: 1))

    // Another message to someone who never comes back: reported once the window has passed.
    _ = try alice.core.sendSealedPrivate("hello?", to: "carol", at: alice.now)
    alice.drain()
    _ = alice.takeSent()
    alice.streamEnds()
    alice.advance(by: .seconds(1))
    alice.connect()
    alice.relay(.storedUpTo(1))
    alice.welcome()
    var asked = 0
    for _ in 0..<25 {
        alice.advance(by: .seconds(1))
        let lookups = alice.takeSent().filter { if case .whois = $0 { true } else { false } }.count
        asked += lookups
        if lookups > 0 { alice.relay(.whoisReply(WhoisEntry(asked: "carol", name: "", transport: .udp, key: nil))) }
    }
    #expect((19...22).contains(asked), "asked about every second for 20 s, then no more: \(asked)")
    #expect(alice.takeIdentityEvents().contains(.notSent(to: "carol", count: 1, reason: "no such user")))
    #expect(alice.core.isAllAcknowledged, "\(alice.core.pendingMessages)")
}
