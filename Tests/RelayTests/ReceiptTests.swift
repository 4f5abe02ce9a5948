import Chat
import Datagram
import Relay
import Testing

// Issue 11, receipts (Specs/chat-protocol.md, section 4.11): a RECEIPT from the recipient of a
// PRIVATE reaches its sender as DELIVERED; anything else is counted and dropped.

private extension RelayHarness {
    @discardableResult
    mutating func joinAs(_ name: String, port: UInt16, session: UInt64) -> Endpoint {
        let endpoint = RelayHarness.tcp(port)
        open(endpoint)
        send(.hello(Hello(sessionSecret: SessionSecret(rawValue: session), name: name)), from: endpoint)
        _ = take(endpoint)
        return endpoint
    }
}

/// Specs/chat-protocol.md, section 4.11.
@Test func aReceiptForAPrivateMessageReachesItsSenderAsDelivered() {
    var relay = RelayHarness()
    let alice = relay.joinAs("alice", port: 5001, session: 0xA)
    let bob = relay.joinAs("bob", port: 5002, session: 0xB)
    _ = relay.take(alice)
    relay.send(.privateMessage(to: "bob", messageID: 1, flags: [], text: "psst"), from: alice)
    #expect(relay.take(alice) == [.received(upTo: 1)])
    #expect(relay.take(bob) == [.privateMessage(from: "alice", sender: RelayHarness.sender(0xA), messageID: 1, flags: [], text: "psst")])
    relay.send(.receipt(sender: RelayHarness.sender(0xA), messageID: 1), from: bob)
    #expect(relay.take(alice) == [.delivered(to: "bob", messageID: 1)])
    #expect(relay.core.statistics.receiptsDelivered == 1)
}

/// Specs/chat-protocol.md, section 4.11.
/// A receipt twice (a client's resend after reconnecting), a forged one (for a message never sent to
/// this user), and one whose sender has left: counted and dropped, nobody told.
@Test func receiptsThatMatchNothingAreCountedAndDropped() {
    var relay = RelayHarness()
    let alice = relay.joinAs("alice", port: 5001, session: 0xA)
    let bob = relay.joinAs("bob", port: 5002, session: 0xB)
    let carol = relay.joinAs("carol", port: 5003, session: 0xC)
    relay.send(.privateMessage(to: "bob", messageID: 1, flags: [], text: "one"), from: alice)
    relay.send(.privateMessage(to: "bob", messageID: 2, flags: [], text: "two"), from: alice)
    relay.send(.receipt(sender: RelayHarness.sender(0xA), messageID: 1), from: bob)
    relay.send(.receipt(sender: RelayHarness.sender(0xA), messageID: 1), from: bob)
    relay.send(.receipt(sender: RelayHarness.sender(0xA), messageID: 2), from: carol)
    _ = relay.take(carol)
    #expect(relay.take(alice).filter { if case .delivered = $0 { true } else { false } } == [.delivered(to: "bob", messageID: 1)])
    relay.send(.quit(reason: "bye"), from: alice)
    _ = relay.take(carol)
    relay.send(.receipt(sender: RelayHarness.sender(0xA), messageID: 2), from: bob)
    #expect(relay.core.statistics.receiptsDelivered == 1)
    #expect(relay.core.statistics.receiptsDropped == 3)
    #expect(relay.take(carol).isEmpty)
}

/// Specs/chat-protocol.md, sections 4.3 and 4.11. The relay finds a receipt's sender through an index
/// by sender id: after the sender resumed its session from another endpoint (same secret, the old
/// endpoint replaced), the DELIVERED goes to the new one, and the joined count stays right.
@Test func aReceiptFindsItsSenderAfterTheSenderResumedElsewhere() {
    var relay = RelayHarness()
    let alice = relay.joinAs("alice", port: 5001, session: 0xA)
    let bob = relay.joinAs("bob", port: 5002, session: 0xB)
    relay.send(.privateMessage(to: "bob", messageID: 1, flags: [], text: "psst"), from: alice)
    _ = relay.take(bob)
    #expect(relay.core.statistics.joinedPeers == 2)
    let aliceAgain = relay.joinAs("alice", port: 5003, session: 0xA)
    #expect(relay.core.statistics.joinedPeers == 2)
    relay.send(.receipt(sender: RelayHarness.sender(0xA), messageID: 1), from: bob)
    #expect(relay.take(aliceAgain) == [.delivered(to: "bob", messageID: 1)])
    #expect(relay.core.statistics.receiptsDelivered == 1)
    relay.send(.quit(reason: "bye"), from: aliceAgain)
    #expect(relay.core.statistics.joinedPeers == 1)
}
