import Chat
import LinkSimulator
import Testing

/// Specs/chat-protocol.md, section 2: A receiver MUST reject a message shorter than its fields, with bytes left over,
/// with an unknown type, invalid UTF-8 or an undefined enumerated value.
@Test(arguments: clientVectors)
func everyTruncationOfAClientVectorIsRejected(_ vector: WireVector<ClientMessage>) {
    for length in 0..<vector.bytes.count {
        #expect(throws: ChatDecodingError.self) { try ClientMessage(decoding: Array(vector.bytes.prefix(length))) }
    }
}

/// Specs/chat-protocol.md, section 2: A receiver MUST reject a message shorter than its fields, with bytes left over,
/// with an unknown type, invalid UTF-8 or an undefined enumerated value.
@Test(arguments: relayVectors)
func everyTruncationOfARelayVectorIsRejected(_ vector: WireVector<RelayMessage>) {
    for length in 0..<vector.bytes.count {
        #expect(throws: ChatDecodingError.self) { try RelayMessage(decoding: Array(vector.bytes.prefix(length))) }
    }
}

/// Specs/chat-protocol.md, section 2: A receiver MUST reject a message shorter than its fields, with bytes left over,
/// with an unknown type, invalid UTF-8 or an undefined enumerated value.
@Test func emptyInputIsRejected() {
    #expect(throws: ChatDecodingError.empty) { try ClientMessage(decoding: []) }
    #expect(throws: ChatDecodingError.empty) { try RelayMessage(decoding: []) }
}

/// Specs/chat-protocol.md, section 2: A receiver MUST reject a message shorter than its fields, with bytes left over,
/// with an unknown type, invalid UTF-8 or an undefined enumerated value.
@Test func unknownTypesAreRejected() {
    #expect(throws: ChatDecodingError.unknownType(0x81)) { try ClientMessage(decoding: [0x81]) }
    #expect(throws: ChatDecodingError.unknownType(0x01)) { try RelayMessage(decoding: [0x01]) }
    #expect(throws: ChatDecodingError.unknownType(0xFF)) { try ClientMessage(decoding: [0xFF, 0, 0]) }
}

/// Specs/chat-protocol.md, section 2: A receiver MUST reject a message shorter than its fields, with bytes left over,
/// with an unknown type, invalid UTF-8 or an undefined enumerated value.
@Test func trailingBytesAreRejected() {
    #expect(throws: ChatDecodingError.trailingBytes(count: 1)) { try ClientMessage(decoding: [0x06, 0x00]) }
}

/// Specs/chat-protocol.md, section 2: A receiver MUST reject a message shorter than its fields, with bytes left over,
/// with an unknown type, invalid UTF-8 or an undefined enumerated value.
@Test func invalidUTF8IsRejected() {
    // SAY to room "#\xFF".
    let bytes: [UInt8] = [0x02, 0x00, 0x02, 0x23, 0xFF] + Array(repeating: 0, count: 9) + [0x00, 0x00]
    #expect(throws: ChatDecodingError.invalidUTF8(field: "room")) { try ClientMessage(decoding: bytes) }
}

/// Specs/chat-protocol.md, section 2: A receiver MUST reject a message shorter than its fields, with bytes left over,
/// with an unknown type, invalid UTF-8 or an undefined enumerated value.
@Test func unknownCodesAreRejected() {
    #expect(throws: ChatDecodingError.unknownCode(field: "kind", value: 99)) {
        try RelayMessage(decoding: [0x84, 99] + Array(repeating: 0, count: 8))
    }
    #expect(throws: ChatDecodingError.unknownCode(field: "code", value: 0)) {
        try RelayMessage(decoding: [0x85, 0] + Array(repeating: 0, count: 10))
    }
}

/// Specs/chat-protocol.md, section 2: Undefined flag bits MUST be sent as 0 and are ignored.
@Test func undefinedFlagBitsAreIgnored() throws {
    let bytes: [UInt8] = [0x02, 0x00, 0x01, 0x23] + Array(repeating: 0, count: 7) + [0x05, 0xFF, 0x00, 0x00]
    #expect(try ClientMessage(decoding: bytes) == .say(room: "#", messageID: 5, flags: .action, text: ""))
}

/// Specs/chat-protocol.md, section 2: A receiver MUST reject a message shorter than its fields, with bytes left over,
/// with an unknown type, invalid UTF-8 or an undefined enumerated value.
@Test func garbageNeverCrashesTheDecoders() {
    var generator = SplitMix64(seed: 0xC0FFEE)
    for _ in 0..<5_000 {
        let length = Int(generator.next() % 64)
        let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        _ = try? ClientMessage(decoding: bytes)
        _ = try? RelayMessage(decoding: bytes)
    }
}

/// Specs/chat-protocol.md, section 6: Limits: names, rooms, text, reason, rooms per user.
@Test func namesFollowTheRules() throws {
    try ChatNames.validateUserName("alice.b-c_9")
    #expect(throws: NameError.empty) { try ChatNames.validateUserName("") }
    #expect(throws: NameError.invalidCharacter(" ")) { try ChatNames.validateUserName("a b") }
    #expect(throws: NameError.invalidCharacter("é")) { try ChatNames.validateUserName("é") }
    #expect(throws: NameError.tooLong(length: 33, limit: 32)) {
        try ChatNames.validateUserName(String(repeating: "a", count: 33))
    }
    try ChatNames.validateRoomName("#lobby")
    #expect(throws: NameError.missingRoomPrefix) { try ChatNames.validateRoomName("lobby") }
    #expect(throws: NameError.empty) { try ChatNames.validateRoomName("#") }
    #expect(ChatNames.canonical("AliCE") == "alice")
}
