import Chat
import LibCrypto
import Testing

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// Specs/chat-protocol.md, section 4.6: The sender id is the first 8 bytes of SHA-256 over the label and the secret
/// (vector).
@Test func sha256MatchesTheFIPS180TestVectors() {
    #expect(hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    let twoBlocks = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
    #expect(hex(SHA256.hash(twoBlocks)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
}

/// Specs/chat-protocol.md, section 4.6: the sender id vector.
@Test func senderIDIsTheFirstEightBytesOfSHA256OverTheLabelAndTheSecret() {
    let secret = SessionSecret(rawValue: 0x0123_4567_89AB_CDEF)
    let input = SenderID.derivationInput(secret)
    #expect(input.count == 35)
    #expect(hex(input) == "646174616772616d2d636861742073656e646572206964207631000123456789abcdef")
    #expect(hex(SHA256.hash(input)) == "c99d5b12a20b082734631e3f8308c0b9ec6e75b6433dffd769240bc85843999f")
    #expect(SenderID(deriving: secret, sha256: SHA256.hash) == SenderID(rawValue: 0xC99D_5B12_A20B_0827))
    #expect(SenderID(deriving: SessionSecret(rawValue: 0x1111_2222_3333_4444), sha256: SHA256.hash)
            == SenderID(rawValue: 0xB652_172A_3188_D4CE))
}
