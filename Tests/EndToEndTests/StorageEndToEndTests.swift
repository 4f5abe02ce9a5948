import Foundation
import Testing
import Transport

/// Issue 11 end to end: a relay with a data directory (`--data DIR`), restarted on the same
/// directory, with real clients. In the serialized suite of the three-client scenarios, so that these
/// process-heavy tests never run beside each other or beside those.
extension ThreeClientScenarios {
    /// A fresh temporary data directory.
    static func dataDirectory() -> String {
        let path = NSTemporaryDirectory() + "relay-data-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Waits up to 10 s for `condition` to hold for a client's standard error (its status lines).
    static func waitForStatus(_ client: ChildProcess, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if condition(client.standardError) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("\(client.name): status not seen.\n--- stderr:\n\(client.standardError)")
        return false
    }

    /// Kills the relay with SIGKILL (no drain, no goodbye) and waits until it is gone.
    static func kill(_ relay: ChildProcess) {
        Spawner.kill(relay.processID)
        _ = relay.waitForExit(timeout: 10)
    }

    /// Specs/chat-protocol.md, section 4.11.
    /// History on joining and `/history`: a late joiner gets the room's last lines marked with when
    /// they were said, after a relay restart too; `/history 1` asks for the last one again.
    @Test(.timeLimit(.minutes(1)))
    func aLateJoinerSeesTheHistoryAcrossARestartAndAsksForMore() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var (relay, port) = try startRelay(arguments: ["--data", directory, "--history-lines", "3"])
        #expect(relay.standardOutput.contains("data directory: \(directory)"))
        let alice = try startClient("alice", port: port, arguments: ["--mode", "udp"])
        alice.send((1...5).map { "m alice \($0)" })
        alice.closeInput()
        #expect(alice.waitForExit(timeout: 15) == 0, "alice: \(alice.standardError)")
        relay.terminate()
        #expect(relay.waitForExit(timeout: 10) == 0)

        (relay, port) = try startRelay(port: port, arguments: ["--data", directory, "--history-lines", "3"])
        defer { relay.terminate() }
        let bob = try startClient("bob", port: port, arguments: ["--mode", "tcp"])
        bob.waitForOutput("the last three lines", timeout: 10) { sequence(from: "alice", in: $0) == [3, 4, 5] }
        let line = bob.standardOutput.split(separator: "\n").first { $0.contains("<alice> m alice 3") } ?? ""
        #expect(line.contains("[20"), "a history line shows when it was said: \(line)")
        bob.send(["/history 1", "/history 0"])
        bob.waitForOutput("/history 1", timeout: 10) { sequence(from: "alice", in: $0) == [3, 4, 5, 5] }
        bob.waitForOutput("the refusal of /history 0", timeout: 10) { $0.contains("expected a number of lines from 1 to 1000") }
        bob.closeInput()
        #expect(bob.waitForExit(timeout: 15) == 0)
    }

    /// Specs/chat-protocol.md, section 4.11.
    /// Issue 14: a room ban and a topic outlive a relay restart on the same data directory.
    @Test(.timeLimit(.minutes(1)))
    func aBanAndATopicOutliveARestart() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var (relay, port) = try startRelay(arguments: ["--data", directory])
        let alice = try startClient("alice", port: port, arguments: ["--mode", "tcp"])
        alice.send(["/join #class", "/topic networks", "/ban 10.9.0.0/16 1d flood"])
        alice.waitForOutput("the ban", timeout: 10) { $0.contains("banned 10.9.0.0/16") }
        alice.closeInput()
        #expect(alice.waitForExit(timeout: 15) == 0)
        relay.terminate()
        #expect(relay.waitForExit(timeout: 10) == 0)

        (relay, port) = try startRelay(port: port, arguments: ["--data", directory])
        defer { relay.terminate() }
        #expect(relay.standardOutput.contains("(1 rooms' settings, 0 relay-wide bans)"), "\(relay.standardOutput)")
        let bob = try startClient("bob", port: port, arguments: ["--mode", "udp"])
        bob.send(["/join #class", "/bans"])
        bob.waitForOutput("the topic and the ban", timeout: 10) { $0.contains("networks") && $0.contains("10.9.0.0/16") }
        bob.closeInput()
        #expect(bob.waitForExit(timeout: 15) == 0)
    }

    /// Specs/chat-protocol.md, section 4.11.
    /// Receipts: alice's private message to bob shows `✓` once the relay has it and `✓✓` once bob's
    /// client showed it; with `/receipts off`, bob sends none and alice sees no second tick.
    @Test(.timeLimit(.minutes(1)))
    func aPrivateMessageShowsOneTickWhenTheRelayHasItAndTwoWhenDelivered() throws {
        let (relay, port) = try startRelay()
        defer { relay.terminate() }
        let alice = try ChildProcess("chat", ["--name", "alice", "--relay", "127.0.0.1:\(port)", "--mode", "udp"], name: "alice",
                                     environment: ["LANG": "C.UTF-8"])
        alice.waitForOutput("joining", timeout: 15) { $0.contains("You are now in #lobby") }
        let bob = try startClient("bob", port: port, arguments: ["--mode", "tcp"])
        alice.send(["/msg bob psst"])
        bob.waitForOutput("the private message", timeout: 10) { $0.contains("*alice* psst") }
        // Status lines go to standard error in line mode.
        #expect(Self.waitForStatus(alice) { $0.contains("✓ bob \"psst\": the relay has it") && $0.contains("✓✓ bob \"psst\": delivered") })
        bob.send(["/receipts off"])
        #expect(Self.waitForStatus(bob) { $0.contains("Receipts off") })
        alice.send(["/msg bob again"])
        bob.waitForOutput("the second private message", timeout: 10) { $0.contains("*alice* again") }
        #expect(Self.waitForStatus(alice) { $0.contains("✓ bob \"again\": the relay has it") })
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!alice.standardError.contains("✓✓ bob \"again\""))
        for client in [alice, bob] { client.closeInput() }
        for client in [alice, bob] { #expect(client.waitForExit(timeout: 15) == 0, "\(client.name): \(client.standardError)") }
    }

    /// Specs/chat-protocol.md, section 4.11.
    /// A damaged database: the relay refuses to start and says what to do.
    @Test(.timeLimit(.minutes(1)))
    func aDamagedDatabaseStopsTheRelayWithWhatToDo() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(FileManager.default.createFile(atPath: directory + "/relay.sqlite3",
                                               contents: Data(repeating: 0x5A, count: 4_096)))
        let relay = try ChildProcess("relay", ["--port", "0", "--data", directory])
        #expect(relay.waitForExit(timeout: 10) == 1)
        #expect(relay.standardError.contains("is damaged or not a database"), "\(relay.standardError)")
        #expect(relay.standardError.contains("move it aside"))
    }

    /// Specs/chat-protocol.md, section 4.11.
    /// The kill test, short: the relay is killed with SIGKILL at random moments of a conversation
    /// between two UDP clients (one with 20 % simulated loss) and a TCP client, and started again on
    /// the same data directory, three times. Every message arrives exactly once, in order, at
    /// everyone else (tools/kill-soak.sh runs this many times).
    @Test(.timeLimit(.minutes(3)))
    func aRelayKilledMidConversationLosesNothingAndDoublesNothing() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let seed = UInt64(ProcessInfo.processInfo.environment["KILL_SEED"] ?? "") ?? UInt64.random(in: 1...1_000_000)
        var random = SplitMix(seed)
        let kills = Int(ProcessInfo.processInfo.environment["KILL_ROUNDS"] ?? "") ?? 3
        var (relay, port) = try startRelay(arguments: ["--data", directory])
        // The clients pin the relay's key in their own configuration directory: in the shared one, an
        // earlier relay with another key on the same ephemeral port would refuse the run (known_relays).
        let home = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        func client(_ name: String, _ arguments: [String]) throws -> ChildProcess {
            let client = try ChildProcess("chat", ["--name", name, "--relay", "127.0.0.1:\(port)"] + arguments, name: name,
                                          environment: ["XDG_CONFIG_HOME": home + "/" + name])
            client.waitForOutput("joining #lobby", timeout: 15) { $0.contains("You are now in #lobby") }
            return client
        }
        let clients = [
            try client("alice", ["--mode", "udp", "--loss", "20", "--seed", "\(seed % 1000)"]),
            try client("bob", ["--mode", "udp"]),
            try client("carol", ["--mode", "tcp"]),
        ]
        let perRound = 10
        for round in 0..<kills {
            for client in clients {
                client.send((1...perRound).map { "m \(client.name) \(round * perRound + $0)" })
            }
            Thread.sleep(forTimeInterval: Double(random.next() % 400) / 1_000)
            Self.kill(relay)
            (relay, port) = try startRelay(port: port, arguments: ["--data", directory])
        }
        defer { relay.terminate() }
        let total = (kills + 1) * perRound
        for client in clients { client.send((kills * perRound + 1...total).map { "m \(client.name) \($0)" }) }
        expectDelivery(among: clients, upTo: total, timeout: 60)
        print("kill test (seed \(seed)): \(kills) kills, \(clients.count) clients, \(total) messages each, "
              + "\(total * clients.count * (clients.count - 1)) deliveries checked")
        for client in clients { client.closeInput() }
        for client in clients {
            #expect(client.waitForExit(timeout: 20) == 0, "\(client.name) did not leave cleanly: \(client.standardError)")
        }
    }
}

/// A small seeded generator for the kill moments.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
