import Chat
import Datagram
import Relay
import Testing

// Issue 11 and 14, Specs/chat-protocol.md, section 4.11: with a data directory attached, the relay
// emits what to save (bans, room settings, room history) as storage actions, and loads it again at
// start. Every transcript runs on scripted time against the in-memory store.

private extension RelayHarness {
    /// A relay with storage attached, loaded from `store` (as the relay executable does at start).
    static func stored(_ store: MemoryRelayStorage, configuration: RelayConfiguration = RelayConfiguration(),
                       wallClock: Int64 = 1_790_000_000_000) -> RelayHarness {
        var relay = RelayHarness(configuration: configuration)
        let state = try! store.load(clock: StorageClock(now: relay.now, unixMilliseconds: wallClock))
        relay.core.attachStorage(state, at: relay.now)
        return relay
    }

    /// What the host does after every input: performs the batch in the store; returns it.
    @discardableResult
    mutating func save(to store: MemoryRelayStorage, wallClock: Int64 = 1_790_000_000_000) -> [StorageAction] {
        let batch = core.takeStorageActions()
        if !batch.isEmpty { try! store.perform(batch, clock: StorageClock(now: now, unixMilliseconds: wallClock)) }
        for query in core.takeHistoryQueries() {
            core.handleHistory(try! store.history(room: query.room, limit: query.limit, since: query.since), for: query, at: now)
        }
        return batch
    }

    @discardableResult
    mutating func joinStream(_ name: String, port: UInt16, session: UInt64, rooms: [String] = []) -> Endpoint {
        let endpoint = RelayHarness.tcp(port)
        open(endpoint)
        send(.hello(Hello(sessionSecret: SessionSecret(rawValue: session), name: name, rooms: rooms)), from: endpoint)
        _ = take(endpoint)
        return endpoint
    }
}

/// Specs/chat-protocol.md, section 4.11.
/// Issue 14: Bans and room settings persist across relay restarts when the relay has a data
/// directory: saved on change, loaded at start.
@Test func bansAndRoomSettingsAreSavedOnChangeAndLoadedAfterARestart() {
    let store = MemoryRelayStorage()
    var configuration = RelayConfiguration()
    configuration.administrators = ["teacher"]
    do {
        var relay = RelayHarness.stored(store, configuration: configuration)
        let alice = relay.joinStream("alice", port: 5001, session: 0xA, rooms: ["#class"])
        relay.joinStream("bob", port: 5002, session: 0xB, rooms: ["#class"])
        relay.joinStream("carol", port: 5003, session: 0xC, rooms: ["#class"])
        let teacher = relay.joinStream("teacher", port: 5009, session: 0x7)
        relay.send(.moderate(Moderation(.topic, room: "#class", text: "exam on friday")), from: alice)
        relay.send(.moderate(Moderation(.mode, room: "#class", target: "+m")), from: alice)
        relay.send(.moderate(Moderation(.ban, room: "#class", target: "bob", text: "spam")), from: alice)
        relay.send(.moderate(Moderation(.ban, target: "carol", durationSeconds: 3600, text: "cheating")), from: teacher)
        relay.save(to: store)
    }
    // The relay restarts ten minutes later (wall clock) on a fresh monotonic clock.
    var relay = RelayHarness.stored(store, configuration: configuration, wallClock: 1_790_000_000_000 + 600_000)
    #expect(relay.core.roomSettings["#class"]?.topic == "exam on friday")
    #expect(relay.core.roomSettings["#class"]?.isModerated == true)
    #expect(relay.core.relayBans.first?.expires == relay.now + .seconds(3000))

    let carol = relay.tcpEndpoint(5013)
    relay.open(carol)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0xC), name: "caroline")), from: carol)
    #expect(relay.take(carol).map(\.errorCode) == [.banned])

    let bob = relay.joinStream("bob", port: 5012, session: 0xB)
    relay.send(.joinRoom("#class"), from: bob)
    relay.save(to: store)
    #expect(relay.take(bob).compactMap(\.errorCode) == [.banned])

    // The creator is still the room's operator after the restart, and the topic is shown on joining.
    let alice = relay.joinStream("alice", port: 5011, session: 0xA)
    relay.send(.joinRoom("#class"), from: alice)
    relay.save(to: store)
    #expect(relay.take(alice).contains { $0.notice?.kind == .topic || $0.notice?.detail == "exam on friday" })
    relay.send(.moderate(Moderation(.mode, room: "#class", target: "-m")), from: alice)
    #expect(relay.take(alice).compactMap(\.errorCode).isEmpty)
}

/// Specs/chat-protocol.md, section 4.11.
/// A relay-wide ban that lapsed while the relay was down is gone after the restart.
@Test func aBanThatLapsedWhileTheRelayWasDownIsDroppedAtStart() {
    let store = MemoryRelayStorage()
    var configuration = RelayConfiguration()
    configuration.administrators = ["teacher"]
    do {
        var relay = RelayHarness.stored(store, configuration: configuration)
        relay.joinStream("carol", port: 5003, session: 0xC)
        let teacher = relay.joinStream("teacher", port: 5009, session: 0x7)
        relay.send(.moderate(Moderation(.ban, target: "carol", durationSeconds: 60, text: "a minute")), from: teacher)
        relay.save(to: store)
    }
    let relay = RelayHarness.stored(store, configuration: configuration, wallClock: 1_790_000_000_000 + 61_000)
    #expect(relay.core.relayBans.isEmpty)
}

/// Specs/chat-protocol.md, section 4.11.
/// Without storage attached the relay emits nothing to save (and keeps nothing queued for it).
@Test func aRelayWithoutStorageEmitsNoStorageActions() {
    var relay = RelayHarness()
    let alice = relay.joinStream("alice", port: 5001, session: 0xA, rooms: ["#class"])
    relay.send(.moderate(Moderation(.topic, room: "#class", text: "t")), from: alice)
    relay.send(.say(room: "#class", messageID: 1, flags: [], text: "hello"), from: alice)
    #expect(!relay.core.hasStorage)
    #expect(relay.core.takeStorageActions().isEmpty)
}

/// Specs/chat-protocol.md, section 4.11.
/// Every line said in a room is appended to its history; only the rooms whose settings changed are
/// saved, and the actions of one input come out as one batch.
@Test func linesSaidInARoomAreAppendedToItsHistoryAndOnlyChangedRoomsAreSaved() {
    let store = MemoryRelayStorage()
    var relay = RelayHarness.stored(store)
    let alice = relay.joinStream("alice", port: 5001, session: 0xA, rooms: ["#Class", "#other"])
    relay.joinStream("bob", port: 5002, session: 0xB, rooms: ["#class"])
    relay.save(to: store)
    relay.send(.say(room: "#class", messageID: 1, flags: [], text: "hello"), from: alice)
    relay.send(.say(room: "#class", messageID: 2, flags: .action, text: "waves"), from: alice)
    relay.send(.moderate(Moderation(.topic, room: "#class", text: "networks")), from: alice)
    let batch = relay.save(to: store)
    #expect(batch.count == 4)
    #expect(batch.last == .recordMessageID(RelayHarness.sender(0xA), 2))
    #expect(batch.filter { if case .saveRoomSettings = $0 { true } else { false } }.count == 1)
    let lines = (try? store.history(room: "#class", limit: 10)) ?? []
    #expect(lines.map(\.text) == ["hello", "waves"])
    #expect(lines.map(\.from) == ["alice", "alice"])
    #expect(lines.map(\.room) == ["#Class", "#Class"])
    #expect(lines.last?.flags == .action)
    #expect(lines.allSatisfy { $0.sender == RelayHarness.sender(0xA) && $0.unixMilliseconds == 1_790_000_000_000 })
    // A refused line (not in the room) is not history (but its id was handled).
    let bob = relay.tcpEndpoint(5002)
    relay.send(.say(room: "#other", messageID: 1, flags: [], text: "not a member"), from: bob)
    #expect(relay.save(to: store) == [.recordMessageID(RelayHarness.sender(0xB), 1)])
}

private extension RelayHarness {
    func tcpEndpoint(_ port: UInt16) -> Endpoint { RelayHarness.tcp(port) }
}

private func past(_ text: String, id: UInt64, from: String = "alice", session: UInt64 = 0xA, room: String = "#class",
                  time: UInt64 = 1_790_000_000_000, asked: Bool = false) -> RelayMessage {
    .history(PastMessage(room: room, from: from, sender: RelayHarness.sender(session), messageID: id, flags: [], text: text, time: time,
                         isAsked: asked))
}

/// Specs/chat-protocol.md, section 4.11.
/// Issue 11: a user joining a room gets its last `historyLinesOnJoin` lines as HISTORY, oldest first,
/// each with the time it was said, after ROOM_JOINED; the lines survive a relay restart.
@Test func aLateJoinerGetsTheRoomsLastLinesWithTheirTimeEvenAfterARestart() {
    let store = MemoryRelayStorage()
    var configuration = RelayConfiguration()
    configuration.historyLinesOnJoin = 2
    do {
        var relay = RelayHarness.stored(store, configuration: configuration)
        let alice = relay.joinStream("alice", port: 5001, session: 0xA, rooms: ["#class"])
        for (id, text) in ["one", "two", "three"].enumerated() {
            relay.send(.say(room: "#class", messageID: UInt64(id + 1), flags: [], text: text), from: alice)
            relay.save(to: store, wallClock: 1_790_000_000_000 + Int64(id) * 1_000)
        }
    }
    var relay = RelayHarness.stored(store, configuration: configuration)
    let bob = RelayHarness.tcp(5002)
    relay.open(bob)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0xB), name: "bob", rooms: ["#class"])), from: bob)
    relay.save(to: store)
    let received = relay.take(bob)
    #expect(Array(received.suffix(3)) == [.notice(Notice(kind: .roomJoined, room: "#class")),
                                          past("two", id: 2, time: 1_790_000_001_000), past("three", id: 3, time: 1_790_000_002_000)])
}

/// Specs/chat-protocol.md, section 4.11.
/// Issue 11: HISTORY asks for the last N lines of a room one is in, or those since a time; refused
/// with a clear ERROR outside the room, for a count of 0 or over 1000, and on a relay without storage.
@Test func historyRequestsAreAnsweredOrRefusedWithAClearError() {
    let store = MemoryRelayStorage()
    var configuration = RelayConfiguration()
    configuration.historyLinesOnJoin = 0
    var relay = RelayHarness.stored(store, configuration: configuration)
    let alice = relay.joinStream("alice", port: 5001, session: 0xA, rooms: ["#class"])
    for id in 1...3 {
        relay.send(.say(room: "#class", messageID: UInt64(id), flags: [], text: "line \(id)"), from: alice)
        relay.save(to: store, wallClock: 1_790_000_000_000 + Int64(id) * 60_000)
    }
    _ = relay.take(alice)
    relay.send(.history(room: "#Class", count: 1, since: 0), from: alice)
    relay.save(to: store)
    #expect(relay.take(alice) == [past("line 3", id: 3, time: 1_790_000_180_000, asked: true)])
    relay.send(.history(room: "#class", count: 1_000, since: 1_790_000_120_000), from: alice)
    relay.save(to: store)
    #expect(relay.take(alice).map(\.history?.text) == ["line 2", "line 3"])

    relay.send(.history(room: "#elsewhere", count: 5, since: 0), from: alice)
    relay.send(.history(room: "#class", count: 0, since: 0), from: alice)
    relay.send(.history(room: "#class", count: 1_001, since: 0), from: alice)
    relay.save(to: store)
    #expect(relay.take(alice).map(\.errorCode) == [.notInRoom, .badRequest, .badRequest])

    var plain = RelayHarness()
    let bob = plain.joinStream("bob", port: 5002, session: 0xB, rooms: ["#class"])
    plain.send(.history(room: "#class", count: 5, since: 0), from: bob)
    let refusal = plain.take(bob)
    #expect(refusal.map(\.errorCode) == [.badRequest])
    #expect(refusal.first?.errorText?.contains("keeps no history") == true)
}

private extension RelayMessage {
    var history: PastMessage? {
        if case let .history(line) = self { line } else { nil }
    }

    var errorText: String? {
        if case let .error(_, _, text) = self { text } else { nil }
    }
}

/// Specs/chat-protocol.md, section 4.11.
/// Issue 11, exactly once across crashes: with storage, the relay announces STORED_UP_TO (the
/// session's highest handled id, 0 at first) right before WELCOME; after a restart, a resent SAY at
/// or below it is acknowledged again (RECEIVED) and routed to nobody; the next one goes through.
@Test func aResendOfAMessageSavedBeforeARestartIsAcknowledgedButNotRoutedAgain() {
    let store = MemoryRelayStorage()
    do {
        var relay = RelayHarness.stored(store)
        let alice = RelayHarness.tcp(5001)
        relay.open(alice)
        relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0xA), name: "alice", rooms: ["#class"])), from: alice)
        #expect(Array(relay.take(alice).prefix(2)) == [.storedUpTo(0), .welcome(name: "alice", defaultRoom: "#lobby", peerTimeout: .seconds(10))])
        relay.joinStream("bob", port: 5002, session: 0xB, rooms: ["#class"])
        for id in 1...3 { relay.send(.say(room: "#class", messageID: UInt64(id), flags: [], text: "line \(id)"), from: alice) }
        relay.save(to: store)
        // Killed here: bob may not have received line 3.
    }
    var configuration = RelayConfiguration()
    configuration.historyLinesOnJoin = 0
    var relay = RelayHarness.stored(store, configuration: configuration)
    let bob = relay.joinStream("bob", port: 5012, session: 0xB, rooms: ["#class"])
    let alice = RelayHarness.tcp(5011)
    relay.open(alice)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0xA), name: "alice", rooms: ["#class"])), from: alice)
    #expect(relay.take(alice).first == .storedUpTo(3))
    relay.send(.say(room: "#class", messageID: 3, flags: [], text: "line 3"), from: alice)
    relay.send(.say(room: "#class", messageID: 4, flags: [], text: "line 4"), from: alice)
    #expect(relay.take(alice) == [.received(upTo: 3), .received(upTo: 4)])
    #expect(relay.take(bob).compactMap { message -> UInt64? in if case let .message(_, _, _, id, _, _) = message { id } else { nil } } == [4])
    #expect(relay.core.statistics.resendsDropped == 1)
    relay.save(to: store)
    #expect(store.lastMessageIDs[RelayHarness.sender(0xA)] == 4)
}

/// Specs/chat-protocol.md, section 4.11: saved settings are decoded with every length and count
/// checked: every truncation, every single-byte change and random bytes give back nil or settings,
/// never a crash; the encoding round-trips.
@Test func savedSettingsThatAreDamagedAreRefusedNeverTrusted() {
    let clock = StorageClock(now: .milliseconds(1_000), unixMilliseconds: 1_790_000_000_000)
    var settings = RoomSettings()
    settings.operators = [SenderID(rawValue: 1)]
    settings.admitted = [SenderID(rawValue: 1), SenderID(rawValue: 2)]
    settings.key = "k"
    settings.topic = "t"
    settings.bans = [Ban(mask: BanMask("10.0.0.0/8")!, setBy: "op", reason: "r", expires: .milliseconds(61_000))]
    let bytes = settings.storageBytes(clock: clock)
    #expect(RoomSettings(storageBytes: bytes, clock: clock) == settings)
    for length in 0..<bytes.count {
        #expect(RoomSettings(storageBytes: Array(bytes.prefix(length)), clock: clock) == nil, "cut at \(length)")
    }
    for index in bytes.indices {
        for value: UInt8 in [0x00, 0x7F, 0xFF] {
            var damaged = bytes
            damaged[index] = value
            _ = RoomSettings(storageBytes: damaged, clock: clock)
        }
    }
    var state: UInt64 = 0x1234
    for _ in 0..<2_000 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let count = Int(state >> 56)
        let random = (0..<count).map { UInt8(truncatingIfNeeded: (state >> UInt64($0 % 56)) &+ UInt64($0)) }
        _ = RoomSettings(storageBytes: [1] + random, clock: clock)
        _ = Ban.decodeList(storageBytes: [1] + random, clock: clock)
    }
    #expect(Ban.decodeList(storageBytes: Ban.encodeList(settings.bans, clock: clock), clock: clock) == settings.bans)
}

/// Specs/chat-protocol.md, section 4.11, "Private messages": a PRIVATE the relay routed is kept under
/// the recipient's session; after a restart, that session gets it again right after WELCOME, as a
/// HISTORY_LINE with an empty room (its client shows it only if it did not show it yet).
@Test func aPrivateMessageReachesItsRecipientAfterARestartAsHistory() {
    let store = MemoryRelayStorage()
    do {
        var relay = RelayHarness.stored(store)
        let alice = relay.joinStream("alice", port: 5001, session: 0xA)
        relay.joinStream("bob", port: 5002, session: 0xB)
        relay.send(.privateMessage(to: "bob", messageID: 1, flags: [], text: "psst"), from: alice)
        relay.save(to: store, wallClock: 1_790_000_005_000)
        // Killed before bob's copy left.
    }
    var relay = RelayHarness.stored(store)
    let bob = RelayHarness.tcp(5012)
    relay.open(bob)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0xB), name: "bob")), from: bob)
    relay.save(to: store)
    let received = relay.take(bob)
    #expect(received.contains(.history(PastMessage(room: "", from: "alice", sender: RelayHarness.sender(0xA), messageID: 1,
                                                   flags: [], text: "psst", time: 1_790_000_005_000))))
    // Someone else's session gets none of them, and cannot ask for them.
    let carol = RelayHarness.tcp(5013)
    relay.open(carol)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0xC), name: "carol")), from: carol)
    relay.send(.history(room: "@\(RelayHarness.sender(0xB))", count: 10, since: 0), from: carol)
    relay.save(to: store)
    #expect(!relay.take(carol).contains { if case .history = $0 { true } else { false } })
}
