import Chat
import ChatClientCore
import Datagram
import DatagramRuntime
import Foundation
import Measurement
import Transport

/// Two real chat sessions that keep talking while an attack runs: alice over UDP, carol over TCP.
///
/// Each says numbered lines (`alice 17`) in #lobby at a steady rate; each checks that the other's
/// lines arrive exactly once and in order. A line the session pushes back (`queueFull`) is not counted
/// as sent and is tried again on the next tick: push-back is allowed, loss is not.
// @unchecked Sendable: every stored property is guarded by `condition`.
final class LegitimatePair: @unchecked Sendable {
    static let room = "#lobby"

    struct Tally: Codable {
        var sent = 0
        var delivered = 0
        var duplicates = 0
        var outOfOrder = 0
        var pushedBack = 0
        var disconnects = 0
        /// Why each disconnect happened, as the session reported it.
        var disconnectReasons: [String] = []
        /// The longest time, in seconds, between two of this user's lines arriving while the attack ran.
        var longestStall = 0.0
    }

    let alice: ChatSession
    let carol: ChatSession
    private let condition = NSCondition()
    private var tallies = ["alice": Tally(), "carol": Tally()]
    private var joined: Set<String> = []
    /// When each user's last line arrived; nil outside the attack, when stalls are not measured.
    private var lastArrival: [String: Date]?
    /// Non-chat messages each user received (ROOM_LIST, WHO_LIST, ERROR), for scenario checks.
    private var replies: [String: [RelayMessage]] = ["alice": [], "carol": []]

    init(relay: SocketAddress) throws {
        var udp = ChatSessionConfiguration(name: "alice", relay: relay, transport: .udp)
        udp.software = "bench attack"
        var tcp = ChatSessionConfiguration(name: "carol", relay: relay, transport: .tcp)
        tcp.software = "bench attack"
        alice = ChatSession(configuration: udp)
        carol = ChatSession(configuration: tcp)
        try alice.start { [weak self] event in self?.handle(event, of: "alice") }
        try carol.start { [weak self] event in self?.handle(event, of: "carol") }
    }

    private func other(_ name: String) -> String { name == "alice" ? "carol" : "alice" }

    private func handle(_ event: ChatSessionEvent, of name: String) {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        switch event {
        case .connection(.joined):
            joined.insert(name)
        case let .connection(.lost(reason)):
            tallies[name]?.disconnects += 1
            tallies[name]?.disconnectReasons.append(reason)
        case let .received(.message(_, from, _, _, _, text)) where from == other(name):
            let fields = text.split(separator: " ")
            guard fields.count == 2, fields[0] == from, let number = Int(fields[1]) else { return }
            // The sender's tally counts what its lines did at the receiver.
            let expected = tallies[from]!.delivered
            if let last = lastArrival?[from] {
                tallies[from]!.longestStall = max(tallies[from]!.longestStall, Date().timeIntervalSince(last))
                lastArrival?[from] = Date()
            }
            if number == expected {
                tallies[from]!.delivered += 1
            } else if number < expected {
                tallies[from]!.duplicates += 1
            } else {
                tallies[from]!.outOfOrder += 1
                tallies[from]!.delivered = number + 1
            }
        case let .received(message):
            switch message {
            case .message, .privateMessage, .notice, .heartbeatEcho, .received, .welcome: break
            default: replies[name]?.append(message)
            }
        default:
            break
        }
    }

    /// Waits until both have joined; false after `timeout`.
    func waitUntilJoined(timeout: TimeInterval) -> Bool {
        wait(timeout: timeout) { $0.joined.count == 2 }
    }

    /// Starts (true) or stops (false) measuring how long lines stop arriving.
    func measureStalls(_ isOn: Bool) {
        condition.lock()
        defer { condition.unlock() }
        if isOn {
            lastArrival = ["alice": Date(), "carol": Date()]
        } else if let last = lastArrival {
            for (name, time) in last { tallies[name]!.longestStall = max(tallies[name]!.longestStall, Date().timeIntervalSince(time)) }
            lastArrival = nil
        }
    }

    /// Says the next numbered line from both users (one tick of the conversation).
    func tick() {
        for (name, session) in [("alice", alice), ("carol", carol)] {
            condition.lock()
            let number = tallies[name]!.sent
            condition.unlock()
            do {
                _ = try session.say("\(name) \(number)", in: Self.room)
                condition.lock()
                tallies[name]!.sent += 1
                condition.unlock()
            } catch {
                condition.lock()
                tallies[name]!.pushedBack += 1
                condition.unlock()
            }
        }
    }

    /// Waits until every line said was delivered (or `timeout` passes), then returns both tallies.
    func finish(timeout: TimeInterval) -> [String: Tally] {
        _ = wait(timeout: timeout) { pair in
            pair.tallies.values.allSatisfy { $0.delivered >= $0.sent }
        }
        condition.lock()
        defer { condition.unlock() }
        return tallies
    }

    /// The replies `name` received so far that are not chat lines.
    func replies(of name: String) -> [RelayMessage] {
        condition.lock()
        defer { condition.unlock() }
        return replies[name] ?? []
    }

    /// Waits until `name` received a reply matching `predicate`; false after `timeout`.
    func waitForReply(of name: String, timeout: TimeInterval, _ predicate: @escaping (RelayMessage) -> Bool) -> Bool {
        wait(timeout: timeout) { $0.replies[name, default: []].contains(where: predicate) }
    }

    func close() {
        alice.close()
        carol.close()
    }

    private func wait(timeout: TimeInterval, until isSatisfied: (LegitimatePair) -> Bool) -> Bool {
        let limit = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !isSatisfied(self) {
            guard condition.wait(until: limit) else { return isSatisfied(self) }
        }
        return true
    }
}
