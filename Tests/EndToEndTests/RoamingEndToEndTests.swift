import Chat
import ChatClientCore
import Datagram
import DatagramRuntime
import Foundation
import Testing
import Transport

/// Specs/wire-format.md, section 10.8: roaming end to end (issue 10): a sealed UDP client whose socket
/// moves to a new port in the middle of a conversation, under 20 % simulated loss, keeps its session:
/// the relay moves it after the path check, nothing is lost, nothing doubled, and nobody sees it leave.
@Test(.timeLimit(.minutes(1)))
func aSealedClientRebindsToANewPortMidConversationUnderLossAndLosesNothing() throws {
    let quiet = Logger(label: "relay", level: .error) { _ in }
    let relay = try RelayHost(bindingTo: .loopbackIPv4(port: 0), logger: quiet)
    relay.start()
    var aliceConfiguration = ChatSessionConfiguration(name: "alice", relay: relay.localAddress, transport: .udp)
    aliceConfiguration.linkSeed = 7
    let alice = ChatSession(configuration: aliceConfiguration)
    let bob = ChatSession(configuration: ChatSessionConfiguration(name: "bob", relay: relay.localAddress, transport: .udp))
    let (aliceInbox, bobInbox) = (RoamingInbox(), RoamingInbox())
    try alice.start { aliceInbox.append($0) }
    try bob.start { bobInbox.append($0) }
    #expect(aliceInbox.wait(timeout: 10, until: isRoamingJoined))
    #expect(bobInbox.wait(timeout: 10, until: isRoamingJoined))
    #expect(alice.setLoss(percent: 20))

    for number in 1...15 { try alice.say("before \(number)", in: "#lobby") }
    #expect(bobInbox.wait(timeout: 20) { RoamingInbox.texts(in: $0).count >= 5 })
    let port = try alice.rebindSocketForTesting()
    #expect(port != nil)
    for number in 1...15 { try alice.say("after \(number)", in: "#lobby") }
    #expect(bobInbox.wait(timeout: 20) { RoamingInbox.texts(in: $0).count >= 30 })
    #expect(bobInbox.texts == (1...15).map { "before \($0)" } + (1...15).map { "after \($0)" })
    #expect(aliceInbox.wait(timeout: 10) { _ in alice.isAllAcknowledged })
    #expect(relay.statistics.peersMigrated == 1)
    #expect(relay.statistics.handshakesCompleted == 2)
    #expect(relay.users.map(\.name).sorted() == ["alice", "bob"])

    let stopped = DispatchSemaphore(value: 0)
    alice.close()
    bob.close()
    relay.shutDown(reason: "test over") { stopped.signal() }
    #expect(stopped.wait(timeout: .now() + 5) == .success)
}

/// What one session reported, for waiting on from the test's thread.
private final class RoamingInbox: @unchecked Sendable { // `events` guarded by `condition`
    private let condition = NSCondition()
    private var events: [ChatSessionEvent] = []

    func append(_ event: ChatSessionEvent) {
        condition.lock()
        events.append(event)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits up to `timeout` seconds for `predicate` to hold over the events so far.
    func wait(timeout: Double, until predicate: ([ChatSessionEvent]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(events) {
            guard condition.wait(until: deadline) else { return predicate(events) }
        }
        return true
    }

    /// The texts of MESSAGEs received, in order.
    var texts: [String] {
        condition.lock()
        defer { condition.unlock() }
        return Self.texts(in: events)
    }

    /// The texts of the MESSAGEs among `events` (for predicates, which run under the lock).
    static func texts(in events: [ChatSessionEvent]) -> [String] {
        events.compactMap { event in
            if case let .received(.message(_, _, _, _, _, text)) = event { return text }
            return nil
        }
    }
}

private func isRoamingJoined(_ events: [ChatSessionEvent]) -> Bool {
    events.contains { if case .connection(.joined) = $0 { true } else { false } }
}

