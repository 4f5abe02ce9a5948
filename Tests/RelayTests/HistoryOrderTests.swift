import Chat
import Datagram
import Relay
import Testing

// Specs/chat-protocol.md, section 4.11, "Order across restarts": a user who joins (or rejoins after a
// relay restart) gets the history the join asked for before any line said after the join, even when
// the join and those lines reach the relay in the same input (one recvmmsg batch), where the host
// reads the history only after the whole input. Found by tools/kill-soak.sh (seed 24): bob got
// alice's lines as [6 ... 19, 1 ... 5, 20 ...].

private let wallClock: Int64 = 1_790_000_000_000

private extension RelayHarness {
    static func restarted(on store: MemoryRelayStorage, configuration: RelayConfiguration = RelayConfiguration()) -> RelayHarness {
        var relay = RelayHarness(configuration: configuration)
        relay.core.attachStorage(try! store.load(clock: StorageClock(now: relay.now, unixMilliseconds: wallClock)), at: relay.now)
        return relay
    }

    /// What the host does at the end of every input: saves its batch, then answers its history reads.
    mutating func endOfInput(_ store: MemoryRelayStorage) {
        let batch = core.takeStorageActions()
        if !batch.isEmpty { try! store.perform(batch, clock: StorageClock(now: now, unixMilliseconds: wallClock)) }
        for query in core.takeHistoryQueries() {
            core.handleHistory(try! store.history(room: query.room, limit: query.limit, since: query.since), for: query, at: now)
        }
        collect()
    }

    mutating func hello(_ name: String, port: UInt16, session: UInt64, rooms: [String] = []) -> Endpoint {
        let endpoint = RelayHarness.tcp(port)
        open(endpoint)
        send(.hello(Hello(sessionSecret: SessionSecret(rawValue: session), name: name, rooms: rooms)), from: endpoint)
        return endpoint
    }
}

/// The lines a user was shown, in order, as its client shows them: live or from history (a history
/// line already shown is hidden), as "<text>".
private func shown(_ messages: [RelayMessage]) -> [String] {
    var seen: Set<String> = []
    var lines: [String] = []
    for message in messages {
        switch message {
        case let .message(_, _, sender, id, _, text), let .privateMessage(_, sender, id, _, text):
            if seen.insert("\(sender)/\(id)").inserted { lines.append(text) }
        case let .history(line):
            if seen.insert("\(line.sender)/\(line.messageID)").inserted { lines.append(line.text) }
        default:
            break
        }
    }
    return lines
}

/// Specs/chat-protocol.md, section 4.11.
/// The relay saved alice's lines 1-3 and was killed before bob's copies left. After the restart,
/// bob's HELLO (rejoining #class) and alice's next lines 4 and 5 arrive in the same input: bob sees
/// 1, 2, 3 (history) before 4, 5 (live), each once.
@Test func aRejoinerSeesTheHistoryItMissedBeforeLinesSaidInTheSameInput() {
    let store = MemoryRelayStorage()
    do {
        var relay = RelayHarness.restarted(on: store)
        let alice = relay.hello("alice", port: 5001, session: 0xA, rooms: ["#class"])
        relay.endOfInput(store)
        _ = relay.hello("bob", port: 5002, session: 0xB, rooms: ["#class"])
        relay.endOfInput(store)
        for id in 1...3 { relay.send(.say(room: "#class", messageID: UInt64(id), flags: [], text: "\(id)"), from: alice) }
        relay.endOfInput(store)
        // Killed here, before bob's copies of 1-3 left.
    }
    var relay = RelayHarness.restarted(on: store)
    let alice = relay.hello("alice", port: 5011, session: 0xA, rooms: ["#class"])
    relay.endOfInput(store)
    #expect(relay.take(alice).first == .storedUpTo(3))
    // One input: bob's HELLO, then alice's lines 4 and 5.
    let bob = relay.hello("bob", port: 5012, session: 0xB, rooms: ["#class"])
    relay.send(.say(room: "#class", messageID: 4, flags: [], text: "4"), from: alice)
    relay.send(.say(room: "#class", messageID: 5, flags: [], text: "5"), from: alice)
    relay.endOfInput(store)
    let received = relay.take(bob)
    #expect(shown(received) == ["1", "2", "3", "4", "5"])
    // 4 and 5 come once, live; the history answer holds only what was said before bob joined.
    let history = received.compactMap { message -> String? in if case let .history(line) = message { line.text } else { nil } }
    #expect(history == ["1", "2", "3"])
}

/// Specs/chat-protocol.md, section 4.11.
/// The same for private messages: the PRIVATE the relay saved for bob before it was killed reaches
/// bob (right after WELCOME) before a PRIVATE alice sends in the same input as bob's HELLO.
@Test func aPrivateMessageSavedBeforeARestartComesBeforeOneSentInTheSameInputAsTheHello() {
    let store = MemoryRelayStorage()
    do {
        var relay = RelayHarness.restarted(on: store)
        let alice = relay.hello("alice", port: 5001, session: 0xA)
        _ = relay.hello("bob", port: 5002, session: 0xB)
        relay.endOfInput(store)
        relay.send(.privateMessage(to: "bob", messageID: 1, flags: [], text: "first"), from: alice)
        relay.endOfInput(store)
    }
    var relay = RelayHarness.restarted(on: store)
    let alice = relay.hello("alice", port: 5011, session: 0xA)
    relay.endOfInput(store)
    let bob = relay.hello("bob", port: 5012, session: 0xB)
    relay.send(.privateMessage(to: "bob", messageID: 2, flags: [], text: "second"), from: alice)
    relay.endOfInput(store)
    #expect(shown(relay.take(bob)) == ["first", "second"])
}

/// Specs/chat-protocol.md, section 4.11.
/// An answer to HISTORY holds the lines said before the request; a line said after it in the same
/// input follows the answer, live, and is not in it.
@Test func aHistoryAnswerHoldsTheLinesSaidBeforeTheRequestAndTheNextLineFollowsItLive() {
    let store = MemoryRelayStorage()
    var configuration = RelayConfiguration()
    configuration.historyLinesOnJoin = 0
    var relay = RelayHarness.restarted(on: store, configuration: configuration)
    let alice = relay.hello("alice", port: 5001, session: 0xA, rooms: ["#class"])
    let bob = relay.hello("bob", port: 5002, session: 0xB, rooms: ["#class"])
    relay.endOfInput(store)
    for id in 1...2 { relay.send(.say(room: "#class", messageID: UInt64(id), flags: [], text: "\(id)"), from: alice) }
    relay.endOfInput(store)
    _ = relay.take(bob)
    relay.send(.history(room: "#class", count: 5, since: 0), from: bob)
    relay.send(.say(room: "#class", messageID: 3, flags: [], text: "3"), from: alice)
    relay.endOfInput(store)
    let received = relay.take(bob)
    #expect(received.map { message -> String in
        switch message {
        case let .history(line): "history \(line.text)"
        case let .message(_, _, _, _, _, text): "live \(text)"
        default: "\(message)"
        }
    } == ["history 1", "history 2", "live 3"])
}

/// Specs/chat-protocol.md, section 4.11.
/// A history read that fails is answered with ERROR `badRequest` in its place; what waited behind it
/// follows, nothing lost.
@Test func aFailedHistoryReadIsAnsweredWithAnErrorInItsPlaceAndWhatWaitedFollows() {
    let store = MemoryRelayStorage()
    var configuration = RelayConfiguration()
    configuration.historyLinesOnJoin = 0
    var relay = RelayHarness.restarted(on: store, configuration: configuration)
    let alice = relay.hello("alice", port: 5001, session: 0xA, rooms: ["#class"])
    let bob = relay.hello("bob", port: 5002, session: 0xB, rooms: ["#class"])
    relay.endOfInput(store)
    _ = relay.take(bob)
    relay.send(.history(room: "#class", count: 5, since: 0), from: bob)
    relay.send(.say(room: "#class", messageID: 1, flags: [], text: "after"), from: alice)
    #expect(relay.take(bob).isEmpty, "the line waits behind the read")
    _ = relay.core.takeStorageActions()
    for query in relay.core.takeHistoryQueries() {
        relay.core.handleHistory(nil, error: StorageError(.corrupt, "damaged"), for: query, at: relay.now)
    }
    let received = relay.take(bob)
    #expect(received.count == 2)
    #expect(received.first?.errorCode == .badRequest)
    if case let .message(_, _, _, _, _, text) = received.last { #expect(text == "after") } else { Issue.record("\(received)") }
}

/// Specs/chat-protocol.md, section 4.11.
/// What waits behind a history read counts against the user's send queue limit (here a TCP user's
/// stream limit): a user for whom one input holds more is disconnected (send queue overflow), as a
/// full send queue would be; the relay's memory stays bounded whatever arrives in one input.
@Test func outputHeldBehindAHistoryReadIsBoundedByTheSendQueueLimit() {
    let store = MemoryRelayStorage()
    var configuration = RelayConfiguration()
    configuration.streamSendQueueLimit = 4_000
    var relay = RelayHarness.restarted(on: store, configuration: configuration)
    let alice = relay.hello("alice", port: 5001, session: 0xA, rooms: ["#class"])
    relay.endOfInput(store)
    let bob = relay.hello("bob", port: 5002, session: 0xB, rooms: ["#class"])
    let line = String(repeating: "x", count: 200)
    for id in 1...30 { relay.send(.say(room: "#class", messageID: UInt64(id), flags: [], text: line), from: alice) }
    relay.endOfInput(store)
    #expect(relay.closedStreams.contains(bob))
    #expect(relay.core.statistics.sendQueueOverflows == 1)
    #expect(relay.core.users.map(\.name) == ["alice"])
}
