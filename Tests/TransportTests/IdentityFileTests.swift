import Chat
import DatagramRuntime
import Foundation
import Testing
import Transport

// Specs/chat-protocol.md section 4.10: identity key files on disk (created 0600 atomically, refused when
// others may read them or malformed), fingerprints with libcrypto's SHA-256, and the relay pin check on
// a real known_relays file.

private func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "identity-tests-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func mode(of path: String) -> Int {
    (try! FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
}

private let clientKeyText = """
    datagram-chat identity v1
    private 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
    public 8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f

    """

/// Specs/chat-protocol.md, section 4.10: a missing key file is created (and its directories) with mode 0600, and the
/// next run loads the same key.
@Test func anIdentityKeyIsCreatedOnFirstRunWithMode0600AndKept() throws {
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/config/datagram-chat/identity.key"
    let (first, created) = try LocalIdentity.loadOrCreate(at: path)
    #expect(created)
    #expect(mode(of: path) == 0o600)
    #expect(mode(of: directory + "/config/datagram-chat") == 0o700)
    let (second, createdAgain) = try LocalIdentity.loadOrCreate(at: path)
    #expect(!createdAgain)
    #expect(second.publicKey == first.publicKey)
    #expect(first.fingerprint.hasPrefix("SHA256:") && first.fingerprint.count == 50)
    #expect(!first.description.contains(HexText.text(first.keyPair.privateKey)), "the private key is never printed")
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory + "/config/datagram-chat")
    #expect(leftovers == ["identity.key"], "no temporary file is left behind")
}

/// Specs/chat-protocol.md, section 4.10: a key file group or others may read is refused with a clear error.
@Test func aKeyFileWithTheWrongModeIsRefused() throws {
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/identity.key"
    try clientKeyText.write(toFile: path, atomically: false, encoding: .utf8)
    for permissions in [0o644, 0o640, 0o604] {
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
        do throws(IdentityLoadError) {
            _ = try LocalIdentity.loadOrCreate(at: path)
            Issue.record("mode \(String(permissions, radix: 8)) was accepted")
        } catch {
            #expect(error.problem == .readableByOthers(mode: UInt32(permissions)))
            #expect(error.description.contains(path) && error.description.contains("chmod 600"), "\(error)")
        }
    }
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    #expect(try LocalIdentity.load(at: path).fingerprint == "SHA256:7t2IPaCpRRWT3Ao45YP7dw+ifbvtIJwgQE4HXmjE8Mk")
}

/// Specs/chat-protocol.md, section 4.10: a malformed key file, or one whose public line is not its private key's, is
/// refused (never replaced by a new key).
@Test func aMalformedKeyFileIsRefusedAndKept() throws {
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/identity.key"
    let wrongPublic = clientKeyText.replacingOccurrences(of: "public 8f40", with: "public 8f41")
    for (text, problem) in [("garbage\n", IdentityFileError.badHeader), (wrongPublic, .publicKeyMismatch)] {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        do throws(IdentityLoadError) {
            _ = try LocalIdentity.loadOrCreate(at: path)
            Issue.record("accepted")
        } catch {
            #expect(error.problem == problem)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text, "the file is left as it was")
    }
}

/// Specs/chat-protocol.md, section 4.10: fingerprints are SHA256: and the base64 of libcrypto's SHA-256 (the spec's vectors).
@Test func fingerprintsMatchTheSpecsVectors() {
    let client = IdentityKey(hex: "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f")!
    let relay = IdentityKey(hex: "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a")!
    #expect(IdentityFingerprints.of(client) == "SHA256:7t2IPaCpRRWT3Ao45YP7dw+ifbvtIJwgQE4HXmjE8Mk")
    #expect(IdentityFingerprints.of(relay) == "SHA256:Z8ov/W/p76s9duN8NJkKWjPtxSBi8Oy9CTisyRr3pCU")
}

/// Specs/chat-protocol.md, section 4.10: the relay pin check pins on first contact (writing known_relays), accepts the
/// same key, refuses a changed one with a message that says what happened and how to accept it, and
/// `--accept-new-relay-key` replaces the pin.
@Test func aChangedRelayKeyIsRefusedWithAClearMessage() throws {
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/known_relays"
    let original = IdentityKey(hex: "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a")!
    let replaced = IdentityKey(hex: "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f")!
    let check = PinFile.relayPinCheck(path: path)
    #expect(check("127.0.0.1:9000", original) == .firstContact)
    #expect(mode(of: path) == 0o600)
    #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("127.0.0.1:9000 \(original.hex) "))
    #expect(check("127.0.0.1:9000", original) == .match)
    let decision = check("127.0.0.1:9000", replaced)
    guard case let .mismatch(expected, got, line, _) = decision else {
        Issue.record("not refused: \(decision)")
        return
    }
    #expect(expected == original && got == replaced && line == 1)
    let message = PinFile.relayKeyChangedMessage(address: "127.0.0.1:9000", decision: decision, path: path) ?? ""
    for part in ["127.0.0.1:9000", IdentityFingerprints.of(original), IdentityFingerprints.of(replaced), path, "line 1",
                 "--accept-new-relay-key"] {
        #expect(message.contains(part), "\(part) in \(message)")
    }
    #expect(check("127.0.0.1:9000", replaced) != .match, "refusing changes nothing")
    let accepting = PinFile.relayPinCheck(path: path, acceptNew: true)
    #expect(accepting("127.0.0.1:9000", replaced) == .firstContact)
    #expect(check("127.0.0.1:9000", replaced) == .match)
    #expect(try PinFile(path: path, kind: .relays).keys.count == 1)
}
