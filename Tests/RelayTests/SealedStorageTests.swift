import Chat
import Datagram
@testable import Relay
import Testing

// Issue 10/11, the sealed half of "exactly once across crashes" (Specs/chat-protocol.md section 4.11,
// "Sealed private messages"): a SEALED_PRIVATE counts toward the session's saved id like a PRIVATE,
// a resend at or below it is acknowledged and routed to nobody, and a routed one is kept under the
// recipient's session and sent again after a restart as SEALED_PAST_MESSAGE, with its time.

private let kept = IdentityKey(bytes: [UInt8](repeating: 0xA1, count: 32))!
private let other = IdentityKey(bytes: [UInt8](repeating: 0xB0, count: 32))!
private let sealedOne = [UInt8](repeating: 0x51, count: SealedPrivateFormat.minimumLength + 5)
private let sealedTwo = [UInt8](repeating: 0x52, count: SealedPrivateFormat.minimumLength + 6)

private extension RelayHarness {
    /// A relay started on `store` (as the executable does at start).
    static func restarted(on store: MemoryRelayStorage, wallClock: Int64 = 1_790_000_000_000) -> RelayHarness {
        var relay = RelayHarness()
        relay.core.attachStorage(try! store.load(clock: StorageClock(now: relay.now, unixMilliseconds: wallClock)), at: relay.now)
        return relay
    }

    /// What the host does after every input: saves the batch, answers the history reads.
    mutating func commit(to store: MemoryRelayStorage, wallClock: Int64 = 1_790_000_000_000) {
        let batch = core.takeStorageActions()
        if !batch.isEmpty { try! store.perform(batch, clock: StorageClock(now: now, unixMilliseconds: wallClock)) }
        for query in core.takeHistoryQueries() {
            core.handleHistory(try! store.history(room: query.room, limit: query.limit, since: query.since), for: query, at: now)
        }
    }

    /// A sealed session over TCP (its handshake proved `key`) saying HELLO with session `secret`.
    mutating func sealedHello(_ name: String, port: UInt16, key: IdentityKey, secret: UInt64) -> Endpoint {
        let endpoint = Self.tcp(port)
        open(endpoint)
        core.setIdentityKey(key, for: endpoint)
        send(.hello(Hello(sessionSecret: SessionSecret(rawValue: secret), name: name)), from: endpoint)
        return endpoint
    }
}

private func sealedIDs(_ messages: [RelayMessage]) -> [UInt64] {
    messages.compactMap { message in
        switch message {
        case let .sealedPrivateMessage(_, _, id, _), let .sealedPastMessage(_, _, id, _, _): id
        default: nil
        }
    }
}

/// Specs/chat-protocol.md, section 4.11, "Sealed private messages": the relay is killed after saving
/// alice's SEALED_PRIVATE and before bob's copy left. After the restart bob gets it again right after
/// WELCOME as SEALED_PAST_MESSAGE, bytes unchanged, with the time the relay took it in. Alice hears
/// STORED_UP_TO 1, and her resend of it (had her client resent it) is acknowledged and routed to nobody.
/// Her next one goes through as usual.
@Test func aSealedPrivateMessageIsKeptForItsRecipientAndHandledOnceAcrossARestart() {
    let store = MemoryRelayStorage()
    do {
        var relay = RelayHarness.restarted(on: store)
        let alice = relay.sealedHello("alice", port: 5001, key: kept, secret: 0xA)
        _ = relay.sealedHello("bob", port: 5002, key: other, secret: 0xB)
        relay.commit(to: store)
        relay.send(.sealedPrivate(to: "bob", messageID: 1, sealed: sealedOne), from: alice)
        relay.commit(to: store, wallClock: 1_790_000_005_000)
        #expect(relay.take(alice).contains(.received(upTo: 1)))
        // Killed here: bob's copy never left.
    }
    #expect(store.lastMessageIDs[RelayHarness.sender(0xA)] == 1, "the sealed message's id is saved like a PRIVATE's")

    var relay = RelayHarness.restarted(on: store)
    let bob = relay.sealedHello("bob", port: 5012, key: other, secret: 0xB)
    relay.commit(to: store)
    let again = relay.take(bob)
    #expect(again.contains(.sealedPastMessage(from: "alice", sender: RelayHarness.sender(0xA), messageID: 1,
                                              time: 1_790_000_005_000, sealed: sealedOne)))
    #expect(!again.contains { if case .history = $0 { true } else { false } }, "a sealed message is never shown as a plain line")

    let alice = relay.sealedHello("alice", port: 5011, key: kept, secret: 0xA)
    relay.commit(to: store)
    #expect(relay.take(alice).first == .storedUpTo(1))
    relay.send(.sealedPrivate(to: "bob", messageID: 1, sealed: sealedOne), from: alice)
    relay.send(.sealedPrivate(to: "bob", messageID: 2, sealed: sealedTwo), from: alice)
    relay.commit(to: store)
    #expect(relay.take(alice) == [.received(upTo: 1), .received(upTo: 2)])
    #expect(sealedIDs(relay.take(bob)) == [2], "the resend of 1 is routed to nobody")
    #expect(relay.core.statistics.resendsDropped == 1)
    #expect(store.lastMessageIDs[RelayHarness.sender(0xA)] == 2)
}

/// Specs/chat-protocol.md, section 4.11: ids are one sequence per session, whatever carries them: a
/// sealed message after a plain one, and a plain one after a sealed one, each move the saved id, and a
/// resend of either below it is dropped.
@Test func plainAndSealedPrivateMessagesShareOneSavedIdPerSession() {
    let store = MemoryRelayStorage()
    var relay = RelayHarness.restarted(on: store)
    let alice = relay.sealedHello("alice", port: 5001, key: kept, secret: 0xA)
    let bob = relay.sealedHello("bob", port: 5002, key: other, secret: 0xB)
    relay.commit(to: store)
    _ = relay.take(bob)
    relay.send(.privateMessage(to: "bob", messageID: 1, flags: [], text: "plain"), from: alice)
    relay.send(.sealedPrivate(to: "bob", messageID: 2, sealed: sealedOne), from: alice)
    relay.commit(to: store)
    #expect(store.lastMessageIDs[RelayHarness.sender(0xA)] == 2)
    relay.send(.sealedPrivate(to: "bob", messageID: 2, sealed: sealedOne), from: alice)
    relay.send(.privateMessage(to: "bob", messageID: 1, flags: [], text: "plain"), from: alice)
    relay.commit(to: store)
    #expect(relay.core.statistics.resendsDropped == 2)
    #expect(sealedIDs(relay.take(bob)) == [2])
}
