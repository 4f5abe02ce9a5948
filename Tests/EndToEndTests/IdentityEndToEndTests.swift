import Foundation
import Testing

// Issue 10, identities, end to end with the real `relay` and `chat` executables (line mode, loopback).
// Each client gets its own configuration directory (XDG_CONFIG_HOME), so its own identity key.

private func temporaryDirectory(_ label: String) -> URL {
    let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("identity-e2e-\(label)-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Starts a client whose configuration directory is `home`.
private func startClient(_ name: String, port: Int, home: URL, arguments: [String] = []) throws -> ChildProcess {
    let client = try ChildProcess("chat", ["--name", name, "--relay", "127.0.0.1:\(port)"] + arguments, name: name,
                                  environment: ["XDG_CONFIG_HOME": home.path])
    client.waitForOutput("joining #lobby", timeout: 15) { $0.contains("You are now in #lobby") }
    return client
}

/// Specs/chat-protocol.md, section 4.10: with the real executables.
/// The relay creates its key and prints its fingerprint; each client creates its key (mode 0600) on
/// first run; /whois answers; a /msg reaches its recipient, sealed when both sides have keys (the
/// relay's log then never holds the text), or in plain text with the sender told so when the relay
/// knows no keys (a session without the Noise transport).
@Test(.timeLimit(.minutes(2)))
func twoClientsExchangeAPrivateMessageAndLookEachOtherUp() throws {
    let directory = temporaryDirectory("pair")
    defer { try? FileManager.default.removeItem(at: directory) }
    let relayKey = directory.appendingPathComponent("relay/identity.key").path
    let (relay, port) = try startRelay(arguments: ["--key", relayKey])
    defer { relay.terminate() }
    relay.waitForOutput("the fingerprint", timeout: 10) { $0.contains("relay identity SHA256:") && $0.contains(relayKey) }
    #expect((try FileManager.default.attributesOfItem(atPath: relayKey)[.posixPermissions] as? NSNumber)?.intValue == 0o600)

    let aliceHome = directory.appendingPathComponent("alice"), bobHome = directory.appendingPathComponent("bob")
    let alice = try startClient("alice", port: port, home: aliceHome)
    let bob = try startClient("bob", port: port, home: bobHome)
    for (client, home) in [(alice, aliceHome), (bob, bobHome)] {
        let key = home.appendingPathComponent("datagram-chat/identity.key").path
        #expect(client.standardError.contains("Created your identity key SHA256:"), "\(client.name): \(client.standardError)")
        #expect((try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    alice.send(["/whois bob", "/msg bob meet me at noon"])
    bob.waitForOutput("the private message", timeout: 15) { $0.contains("*alice* meet me at noon") }
    let aliceSays = alice.standardError + alice.standardOutput
    let isPlain = aliceSays.contains("PLAIN TEXT")
    if isPlain {
        // The relay knows no keys yet (no Noise transport): the sender is told, and why.
        #expect(aliceSays.contains("bob (udp): no identity key (plaintext session)"), "\(aliceSays)")
        #expect(aliceSays.contains("to bob in PLAIN TEXT, readable by the relay: bob has no identity key"), "\(aliceSays)")
    } else {
        #expect(aliceSays.contains("bob (udp): identity SHA256:"), "\(aliceSays)")
        #expect(!relay.standardError.contains("meet me at noon"), "the relay never had the text")
    }
    for client in [alice, bob] { client.closeInput() }
    for client in [alice, bob] { #expect(client.waitForExit(timeout: 20) == 0, "\(client.name): \(client.standardError)") }
}

/// Specs/chat-protocol.md, section 4.10: with the real executables.
/// A key file that others may read is refused: the client says which file and what to do, and exits 1
/// without connecting.
@Test(.timeLimit(.minutes(1)))
func aKeyFileReadableByOthersStopsTheClient() throws {
    let directory = temporaryDirectory("mode")
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("identity.key").path
    try """
        datagram-chat identity v1
        private 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
        public 8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f

        """.write(toFile: file, atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
    let client = try ChildProcess("chat", ["--name", "alice", "--relay", "127.0.0.1:9", "--identity", file],
                                  environment: ["XDG_CONFIG_HOME": directory.path])
    #expect(client.waitForExit(timeout: 10) == 1)
    #expect(client.standardError.contains("identity key file \(file): its mode is 644"), "\(client.standardError)")
    #expect(client.standardError.contains("chmod 600"))
}
