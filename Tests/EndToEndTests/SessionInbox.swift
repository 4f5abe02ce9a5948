import ChatClientCore
import Foundation

// Shared by the in-process end-to-end tests (InProcessTests, RoamingEndToEndTests).

/// What one session reported, for waiting on from the test's thread.
final class SessionInbox: @unchecked Sendable { // `events` guarded by `condition`
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

/// Whether the session has joined.
func isJoined(_ events: [ChatSessionEvent]) -> Bool {
    events.contains { if case .connection(.joined) = $0 { true } else { false } }
}
