import Chat
import Testing

// Specs/chat-protocol.md section 4.10: the text formats of identity key files and pin files, the
// fingerprint's base64, and the sealed private message's payload.

private let clientPublic = IdentityKey(hex: "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f")!
private let relayPublic = IdentityKey(hex: "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a")!
private let clientPrivate: [UInt8] = Array(0..<32)

/// Specs/chat-protocol.md, section 4.10: the key file's three lines, as the spec shows them, parse and print back.
@Test func anIdentityKeyFileParsesAndPrintsAsTheSpecShowsIt() throws {
    let text = """
        datagram-chat identity v1
        private 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
        public 8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f

        """
    let file = try IdentityKeyFile(parsing: text)
    #expect(file.privateKey == clientPrivate)
    #expect(file.publicKey == clientPublic)
    #expect(file.text == text)
    #expect(try IdentityKeyFile(parsing: text.uppercased().replacingOccurrences("DATAGRAM-CHAT IDENTITY V1", "datagram-chat identity v1")
        .replacingOccurrences("PRIVATE", "private").replacingOccurrences("PUBLIC", "public")) == file, "hex in either case")
}

/// Specs/chat-protocol.md, section 4.10: a malformed key file is refused with what is wrong and on which line.
@Test func aMalformedIdentityKeyFileIsRefusedWithTheProblem() {
    let good = IdentityKeyFile(privateKey: clientPrivate, publicKey: clientPublic).text
    #expect(throws: IdentityFileError.badHeader) { try IdentityKeyFile(parsing: "ssh-ed25519 AAAA\n") }
    #expect(throws: IdentityFileError.wrongLineCount(2)) { try IdentityKeyFile(parsing: "datagram-chat identity v1\nprivate 00\n") }
    #expect(throws: IdentityFileError.badKey(2)) { try IdentityKeyFile(parsing: good.replacingOccurrences("private 0001", "private zz01")) }
    #expect(throws: IdentityFileError.badLine(3, expected: "public")) { try IdentityKeyFile(parsing: good.replacingOccurrences("public ", "publik ")) }
    #expect(throws: IdentityFileError.badKey(3)) { try IdentityKeyFile(parsing: good.replacingOccurrences("285f\n", "28\n")) }
    #expect(!IdentityFileError.badKey(2).description.contains("0001"), "an error never quotes a key")
}

/// Specs/chat-protocol.md, section 4.10: fingerprints are SHA256: and unpadded standard base64 (RFC 4648 vectors).
@Test func fingerprintsUseUnpaddedStandardBase64() {
    let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
    for (input, output) in vectors {
        #expect(Fingerprint.base64(Array(input.utf8), padded: false) == output)
    }
    #expect(Fingerprint.base64(Array("fo".utf8), padded: true) == "Zm8=")
    #expect(Fingerprint.base64([0xFB, 0xFF], padded: false) == "+/8")
    // The hash is injected; with a stand-in the format is plain to see.
    #expect(Fingerprint.of(clientPublic) { _ in [0xFB, 0xFF] } == "SHA256:+/8")
}

/// Specs/chat-protocol.md, section 4.10: known_relays: first contact, match, mismatch with the line and date; comments
/// and malformed lines are kept.
@Test func knownRelaysDecidesFirstContactMatchAndMismatchWithTheLine() {
    let text = """
        # pinned relays
        127.0.0.1:9000 79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a 2026-11-01
        not a pin line

        """
    let relays = KnownKeys(kind: .relays, parsing: text)
    #expect(relays.malformedLines == [3])
    #expect(relays.text == text, "nothing is dropped")
    #expect(relays.decide("127.0.0.1:9000", key: relayPublic) == .match)
    #expect(relays.decide("127.0.0.1:9001", key: relayPublic) == .firstContact)
    #expect(relays.decide("127.0.0.1:9000", key: clientPublic)
            == .mismatch(expected: relayPublic, got: clientPublic, line: 2, firstSeen: "2026-11-01"))
    let pinned = relays.pinning("127.0.0.1:9001", key: clientPublic, date: "2026-11-30")
    #expect(pinned.text.hasSuffix("127.0.0.1:9001 \(clientPublic.hex) 2026-11-30\n"))
    #expect(pinned.count == 2)
    let accepted = pinned.pinning("127.0.0.1:9000", key: clientPublic, date: "2026-11-30")
    #expect(accepted.decide("127.0.0.1:9000", key: clientPublic) == .match)
    #expect(accepted.pin(for: "127.0.0.1:9000")?.line == 2, "accepting a new key replaces the line in place")
    #expect(accepted.removing("127.0.0.1:9000").decide("127.0.0.1:9000", key: relayPublic) == .firstContact)
}

/// Specs/chat-protocol.md, section 4.10: known_contacts compares names as names are compared (case-insensitively).
@Test func knownContactsCompareNamesLikeTheRelay() {
    let contacts = KnownKeys(kind: .contacts).pinning("Bob", key: clientPublic, date: "2026-11-30")
    #expect(contacts.decide("bob", key: clientPublic) == .match)
    #expect(contacts.decide("BOB", key: relayPublic) == .mismatch(expected: clientPublic, got: relayPublic, line: 1, firstSeen: "2026-11-30"))
}

/// Specs/chat-protocol.md, section 4.10: the relay-key refusal says what happened and how to accept the new key.
@Test func aChangedRelayKeyMessageSaysWhatHappenedAndHowToAcceptIt() {
    let text = PinMessages.relayKeyChanged(address: "127.0.0.1:9000", expected: relayPublic, got: clientPublic,
                                           file: "/home/u/.config/datagram-chat/known_relays", line: 2, firstSeen: "2026-11-01") {
        "FP(\($0.hex.prefix(4)))"
    }
    for part in ["127.0.0.1:9000", "FP(79a6)", "FP(8f40)", "/home/u/.config/datagram-chat/known_relays", "line 2",
                 "2026-11-01", "--accept-new-relay-key", "delete line 2"] {
        #expect(text.contains(part), "\(part)")
    }
}

/// Specs/chat-protocol.md, section 4.10: the sealed payload is the sealed id then the text; malformed payloads are refused.
@Test func theSealedPayloadIsTheSealedIDThenTheText() {
    let payload = SealedPrivateFormat.payload(sealedID: 1, text: "meet me at noon")
    #expect(payload == [0, 0, 0, 0, 0, 0, 0, 1] + Array("meet me at noon".utf8))
    #expect(SealedPrivateFormat.parse(payload: payload)?.sealedID == 1)
    #expect(SealedPrivateFormat.parse(payload: payload)?.text == "meet me at noon")
    #expect(SealedPrivateFormat.parse(payload: [0, 0, 0]) == nil)
    #expect(SealedPrivateFormat.parse(payload: [0, 0, 0, 0, 0, 0, 0, 1, 0xFF]) == nil, "invalid UTF-8")
    #expect(SealedPrivateFormat.parse(payload: [UInt8](repeating: 0x61, count: 8 + 4001)) == nil, "over the text limit")
    #expect(SealedPrivateFormat.prologue == Array("datagram-chat private".utf8) + [0, 1])
    #expect(SealedPrivateFormat.minimumLength == 104 && SealedPrivateFormat.maximumLength == 4104)
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
