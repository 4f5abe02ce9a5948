import Chat
import ChatClientCore
import Foundation
import Testing
import DatagramRuntime
import Transport

/// What one session reported, for waiting on from the test's thread.
private final class Inbox: @unchecked Sendable { // `events` guarded by `condition`
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

private func isJoined(_ events: [ChatSessionEvent]) -> Bool {
    events.contains { if case .connection(.joined) = $0 { true } else { false } }
}

/// The API the `compare` tool uses: a `RelayHost` and two `ChatSession`s (UDP with simulated loss,
/// TCP) in one process, on loopback.
@Test(.timeLimit(.minutes(1)))
func relayHostAndChatSessionsInOneProcess() throws {
    let quiet = Logger(label: "relay", level: .error) { _ in }
    let relay = try RelayHost(bindingTo: .loopbackIPv4(port: 0), logger: quiet)
    relay.start()
    #expect(relay.localAddress.port != 0)

    var udpConfiguration = ChatSessionConfiguration(name: "ursula", relay: relay.localAddress, transport: .udp)
    udpConfiguration.linkSeed = 42
    let udp = ChatSession(configuration: udpConfiguration)
    let tcp = ChatSession(configuration: ChatSessionConfiguration(name: "tom", relay: relay.localAddress, transport: .tcp))
    let (udpInbox, tcpInbox) = (Inbox(), Inbox())
    try udp.start { udpInbox.append($0) }
    try tcp.start { tcpInbox.append($0) }
    #expect(udpInbox.wait(timeout: 10, until: isJoined))
    #expect(tcpInbox.wait(timeout: 10, until: isJoined))
    #expect(udp.setLoss(percent: 25))
    #expect(!tcp.setLoss(percent: 25), "TCP cannot simulate loss")

    for number in 1...20 { try udp.say("from udp \(number)", in: "#lobby") }
    for number in 1...20 { try tcp.say("from tcp \(number)", in: "#lobby") }
    #expect(tcpInbox.wait(timeout: 20) { Inbox.texts(in: $0).count >= 20 })
    #expect(udpInbox.wait(timeout: 20) { Inbox.texts(in: $0).count >= 20 })
    #expect(tcpInbox.texts == (1...20).map { "from udp \($0)" })
    #expect(udpInbox.texts == (1...20).map { "from tcp \($0)" })
    #expect(udpInbox.wait(timeout: 10) { _ in udp.isAllAcknowledged })
    #expect(tcpInbox.wait(timeout: 10) { _ in tcp.isAllAcknowledged })
    #expect(relay.users.map(\.name).sorted() == ["tom", "ursula"])
    #expect(udp.statistics.connection?.packetsSent ?? 0 > 0)

    let stopped = DispatchSemaphore(value: 0)
    udp.close()
    tcp.close()
    relay.shutDown(reason: "test over") { stopped.signal() }
    #expect(stopped.wait(timeout: .now() + 5) == .success, "the relay should finish its shutdown within its drain time")
}
