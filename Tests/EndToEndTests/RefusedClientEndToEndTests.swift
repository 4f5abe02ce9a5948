import Foundation
import Testing

/// Issue 10, with the real executables (Specs/chat-protocol.md, section 4.9): `chat --plaintext`
/// against a relay without `--allow-plaintext` is refused for good. Over UDP and over TCP the client
/// stops at once, says what happened and what to do, and exits with status 3 (`chat --help`), even
/// while its input is still open: it does not retry.
@Test(.timeLimit(.minutes(1)))
func aPlaintextClientAtAnEncryptedOnlyRelayStopsWithStatus3AndSaysWhatToDo() throws {
    let (relay, port) = try startRelay()
    defer { relay.terminate() }
    for mode in ["udp", "tcp"] {
        let client = try ChildProcess("chat", ["--name", "plain\(mode)", "--relay", "127.0.0.1:\(port)", "--mode", mode, "--plaintext"],
                                      name: "plain-\(mode)")
        client.send(["hello"])
        #expect(client.waitForExit(timeout: 15) == 3, "\(mode): \(client.standardError)")
        let errors = client.standardError
        #expect(errors.contains("refused this client: the relay accepts encrypted sessions only"), "\(mode): \(errors)")
        #expect(errors.contains("drop --plaintext, or run the relay with --allow-plaintext"), "\(mode): \(errors)")
        #expect(errors.contains("Not reconnecting."), "\(mode): \(errors)")
    }
    let help = try ChildProcess("chat", ["--help"])
    #expect(help.waitForExit(timeout: 10) == 0)
    #expect(help.standardOutput.contains("3   the relay refused this client for good"))
}
