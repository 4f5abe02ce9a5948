import Foundation
import Testing

// Issue 11, accounts and offline private messages end to end, with the real `relay` and `chat`
// executables (line mode, loopback) and a data directory kept across a relay restart. Each keyed
// client gets its own configuration directory (XDG_CONFIG_HOME), so its own identity key.
extension ThreeClientScenarios {
    /// Waits up to 10 s for `condition` to hold for a process's standard output and error together.
    static func waitForEither(_ process: ChildProcess, _ what: String, _ condition: (String) -> Bool) {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if condition(process.standardOutput + process.standardError) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("\(process.name): \(what) not seen.\n--- stdout:\n\(process.standardOutput)\n--- stderr:\n\(process.standardError)")
    }

    /// Specs/chat-protocol.md, section 4.11.5: with the real executables.
    /// alice registers her name; after a relay restart on the same data directory the name is still
    /// protected from another key; a private message to alice while she is away is stored (its
    /// sender is told) and delivered, marked with its time, when she logs in again with her key.
    @Test(.timeLimit(.minutes(2)))
    func aRegisteredNameOutlivesARestartAndAnOfflineMessageIsDeliveredAtLogin() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let aliceHome = directory + "/alice-home", eveHome = directory + "/eve-home", carolHome = directory + "/carol-home"
        for home in [aliceHome, eveHome, carolHome] { try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true) }
        let arguments = ["--data", directory + "/relay", "--allow-plaintext"]
        try FileManager.default.createDirectory(atPath: directory + "/relay", withIntermediateDirectories: true)
        var (relay, port) = try startRelay(arguments: arguments)

        let alice = try ChildProcess("chat", ["--name", "alice", "--relay", "127.0.0.1:\(port)"], name: "alice",
                                     environment: ["XDG_CONFIG_HOME": aliceHome])
        alice.waitForOutput("joining", timeout: 15) { $0.contains("You are now in #lobby") }
        alice.send(["/register sesame-42"])
        Self.waitForEither(alice, "the registration") { $0.contains("Account alice: registered") }
        alice.closeInput()
        #expect(alice.waitForExit(timeout: 15) == 0)
        relay.terminate()
        #expect(relay.waitForExit(timeout: 10) == 0)
        #expect(!relay.standardOutput.contains("sesame-42") && !relay.standardError.contains("sesame-42"), "never logged")

        (relay, port) = try startRelay(port: port, arguments: arguments)
        defer { relay.terminate() }
        let eve = try ChildProcess("chat", ["--name", "alice", "--relay", "127.0.0.1:\(port)"], name: "eve",
                                   environment: ["XDG_CONFIG_HOME": eveHome])
        Self.waitForEither(eve, "the refusal") { $0.contains("is registered") && $0.contains("/identify alice PASSWORD") }
        eve.terminate()
        _ = eve.waitForExit(timeout: 10)

        let bob = try startClient("bob", port: port, arguments: ["--plaintext"])
        bob.send(["/msg alice while you were away"])
        Self.waitForEither(bob, "the stored notice") { $0.contains("alice is offline: your message was stored") }
        // carol has a key: her message is sealed to alice's key and stored as ciphertext.
        let carol = try ChildProcess("chat", ["--name", "carol", "--relay", "127.0.0.1:\(port)"], name: "carol",
                                     environment: ["XDG_CONFIG_HOME": carolHome])
        carol.waitForOutput("joining", timeout: 15) { $0.contains("You are now in #lobby") }
        carol.send(["/msg alice sealed while away"])
        Self.waitForEither(carol, "the stored notice") { $0.contains("alice is offline: your message was stored") }
        #expect(!relay.standardOutput.contains("sealed while away") && !relay.standardError.contains("sealed while away"))

        let back = try ChildProcess("chat", ["--name", "alice", "--relay", "127.0.0.1:\(port)"], name: "alice again",
                                    environment: ["XDG_CONFIG_HOME": aliceHome])
        back.waitForOutput("the offline messages", timeout: 15) { $0.contains("while you were away") && $0.contains("sealed while away") }
        let line = back.standardOutput.split(separator: "\n").first { $0.contains("while you were away") } ?? ""
        #expect(line.contains("[20") && line.contains("bob"), "marked with its time and sender: \(line)")
        back.closeInput()
        bob.closeInput()
        carol.closeInput()
        #expect(carol.waitForExit(timeout: 15) == 0)
        #expect(back.waitForExit(timeout: 15) == 0)
        #expect(bob.waitForExit(timeout: 15) == 0)
    }
}
