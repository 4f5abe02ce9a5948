import Foundation
import Testing

/// The scenarios with three clients run one after the other: each starts four processes, and their
/// timing (reconnection, the rejoin grace) should not depend on how busy the others keep the machine.
@Suite(.serialized)
struct ThreeClientScenarios {
    /// The real executables on loopback: one relay, two UDP clients with 30 % simulated loss each way,
    /// one TCP client, 300 messages in all. Every message must arrive exactly once, in order, at both
    /// other clients, and every client must leave with status 0 (all it sent was acknowledged).
    @Test(.timeLimit(.minutes(2)))
    func threeClientsExchangeThreeHundredMessagesUnderLoss() throws {
        let (relay, port) = try startRelay()
        defer { relay.terminate() }
        let clients = [
            try startClient("alice", port: port, arguments: ["--mode", "udp", "--loss", "30", "--seed", "1"]),
            try startClient("bob", port: port, arguments: ["--mode", "udp", "--loss", "30", "--seed", "2"]),
            try startClient("carol", port: port, arguments: ["--mode", "tcp"]),
        ]
        let perSender = 100
        for round in stride(from: 1, through: perSender, by: 10) {
            for client in clients {
                client.send((round..<round + 10).map { "m \(client.name) \($0)" })
            }
        }
        expectDelivery(among: clients, upTo: perSender, timeout: 50)
        clients[0].send(["/stats"])
        clients[0].waitForOutput("/stats", timeout: 10) { $0.contains("packets lost") }
        let losses = clients[0].standardOutput.split(separator: "\n").first { $0.contains("packets lost") } ?? ""
        let lost = losses.split(separator: " ").firstIndex(of: "packets").map { Int(losses.split(separator: " ")[$0 - 1]) ?? 0 } ?? 0
        #expect(lost > 0, "the simulated loss should have cost alice some packets: \(losses)")
        for client in clients { client.closeInput() }
        for client in clients {
            #expect(client.waitForExit(timeout: 15) == 0, "\(client.name) did not leave cleanly: \(client.standardError)")
        }
    }

    /// The relay is stopped with SIGTERM in the middle and started again on the same port. Messages
    /// typed while it is away wait in the clients, go out after they reconnect and rejoin, and arrive
    /// exactly once, in order, at everyone.
    @Test(.timeLimit(.minutes(2)))
    func aRelayRestartLosesNothingAndDoublesNothing() throws {
        var (relay, port) = try startRelay()
        let clients = [
            try startClient("alice", port: port, arguments: ["--mode", "udp", "--loss", "10", "--seed", "3"]),
            try startClient("bob", port: port, arguments: ["--mode", "udp"]),
            try startClient("carol", port: port, arguments: ["--mode", "tcp"]),
        ]
        for client in clients { client.send((1...20).map { "m \(client.name) \($0)" }) }
        expectDelivery(among: clients, upTo: 20, timeout: 30)

        relay.terminate()
        #expect(relay.waitForExit(timeout: 10) == 0, "the relay should drain and exit 0 on SIGTERM")
        for client in clients { client.send((21...40).map { "m \(client.name) \($0)" }) }
        (relay, port) = try startRelay(port: port)
        defer { relay.terminate() }

        expectDelivery(among: clients, upTo: 40, timeout: 40)
        for client in clients { client.closeInput() }
        for client in clients {
            #expect(client.waitForExit(timeout: 15) == 0, "\(client.name) did not leave cleanly: \(client.standardError)")
        }
    }

    /// SIGTERM reaches the relay while messages are still on their way. What the relay had routed
    /// before it stopped is not shown twice; what it had not acknowledged is resent after the restart.
    @Test(.timeLimit(.minutes(2)))
    func aRelayRestartWithMessagesInFlight() throws {
        var (relay, port) = try startRelay()
        let clients = [
            try startClient("alice", port: port, arguments: ["--mode", "udp", "--loss", "20", "--seed", "4"]),
            try startClient("bob", port: port, arguments: ["--mode", "udp", "--loss", "20", "--seed", "5"]),
            try startClient("carol", port: port, arguments: ["--mode", "tcp"]),
        ]
        for client in clients { client.send((1...30).map { "m \(client.name) \($0)" }) }
        relay.terminate()
        #expect(relay.waitForExit(timeout: 10) == 0, "the relay did not stop cleanly: \(relay.standardError)")
        (relay, port) = try startRelay(port: port)
        defer { relay.terminate() }
        for client in clients { client.send((31...40).map { "m \(client.name) \($0)" }) }
        expectDelivery(among: clients, upTo: 40, timeout: 20)
        if ProcessInfo.processInfo.environment["E2E_VERBOSE"] != nil { print("=== relay\n\(relay.standardError)") }
        for client in clients { client.closeInput() }
        for client in clients {
            #expect(client.waitForExit(timeout: 15) == 0, "\(client.name) did not leave cleanly: \(client.standardError)")
        }
    }
}

/// Waits until every client has printed messages 1...count of each other client, then checks that
/// each arrived exactly once and in order. `E2E_VERBOSE=1` prints every client's output.
func expectDelivery(among clients: [ChildProcess], upTo count: Int, timeout: Double) {
    for receiver in clients {
        let senders = clients.filter { $0 !== receiver }.map(\.name)
        receiver.waitForOutput("all \(count) messages of \(senders)", timeout: timeout) { output in
            senders.allSatisfy { sequence(from: $0, in: output).last == count }
        }
        if ProcessInfo.processInfo.environment["E2E_VERBOSE"] != nil {
            print("=== \(receiver.name)\n\(receiver.standardOutput)\n\(receiver.standardError)")
        }
        for sender in senders {
            let received = sequence(from: sender, in: receiver.standardOutput)
            #expect(received == Array(1...count), "\(receiver.name) got \(sender)'s messages as \(received)")
        }
    }
}

@Test func usageErrorsExitWith64AndAHint() throws {
    for (tool, arguments) in [("relay", ["--prot", "1"]), ("chat", ["--name", "a", "--mode", "sctp"]), ("chat", [])] {
        let child = try ChildProcess(tool, arguments)
        #expect(child.waitForExit(timeout: 10) == 64)
        let errors = child.standardError
        #expect(errors.hasPrefix("Error: "), "\(tool) \(arguments): \(errors)")
        #expect(errors.contains("Usage: \(tool) "))
        #expect(errors.contains("See '\(tool) --help'"))
        #expect(child.standardOutput.isEmpty)
    }
}

@Test func helpGoesToStandardOutputWithStatus0() throws {
    for tool in ["relay", "chat"] {
        let child = try ChildProcess(tool, ["--help"])
        #expect(child.waitForExit(timeout: 10) == 0)
        #expect(child.standardOutput.hasPrefix("OVERVIEW: "))
        #expect(child.standardOutput.contains("Usage: \(tool) "))
        #expect(child.standardError.isEmpty)
    }
}

/// A name held by another session (compared case-insensitively) ends a line-mode client with
/// status 1 and a clear error.
@Test(.timeLimit(.minutes(1)))
func aTakenNameEndsALineModeClientWithStatus1() throws {
    let (relay, port) = try startRelay()
    defer { relay.terminate() }
    let first = try startClient("dave", port: port, arguments: ["--mode", "tcp"])
    let second = try ChildProcess("chat", ["--name", "DAVE", "--relay", "127.0.0.1:\(port)"], name: "DAVE")
    #expect(second.waitForExit(timeout: 15) == 1)
    #expect(second.standardError.contains("Error: the relay refused the name 'DAVE'"))
    first.closeInput()
    #expect(first.waitForExit(timeout: 10) == 0)
}

/// With no relay to acknowledge anything, a line-mode client gives up after `--drain-timeout`,
/// names what was not delivered and exits with status 1.
@Test(.timeLimit(.minutes(1)))
func undeliveredMessagesAreNamedAndExitWithStatus1() throws {
    let client = try ChildProcess("chat", ["--name", "lonely", "--relay", "127.0.0.1:9", "--drain-timeout", "1"])
    client.send(["hello", "/me waves"])
    client.closeInput()
    #expect(client.waitForExit(timeout: 15) == 1)
    #expect(client.standardError.contains("2 messages were not acknowledged"))
    #expect(client.standardError.contains("#1 SAY #lobby \"hello\""))
    #expect(client.standardError.contains("#2 SAY #lobby \"waves\""))
}
