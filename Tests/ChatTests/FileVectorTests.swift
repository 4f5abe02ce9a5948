import Chat
import Testing

// Specs/chat-protocol.md, section 4.12 and vectors 7.F1-7.F12: the file transfer messages.

private let helloDigest = FileDigest([
    0x2c, 0xf2, 0x4d, 0xba, 0x5f, 0xb0, 0xa3, 0x0e, 0x26, 0xe8, 0x3b, 0x2a, 0xc5, 0xb9, 0xe2, 0x9e,
    0x1b, 0x16, 0x1e, 0x5c, 0x1f, 0xa7, 0x42, 0x5e, 0x73, 0x04, 0x33, 0x62, 0x93, 0x8b, 0x98, 0x24,
])!
private let offerID: UInt64 = 0x0102_0304_0506_0708
private let hello = Array("hello".utf8)

let fileClientVectors: [WireVector<ClientMessage>] = [
    WireVector("FILE_OFFER", .fileOffer(FileOffer(offerID: offerID, target: "bob", name: "a.txt", size: 5, digest: helloDigest)),
               "18 01 02 03 04 05 06 07 08 00 03 62 6f 62 00 05 61 2e 74 78 74 00 00 00 00 00 00 00 05 2c f2 4d ba 5f b0 a3 0e 26 e8 3b 2a c5 b9 e2 9e 1b 16 1e 5c 1f a7 42 5e 73 04 33 62 93 8b 98 24"),
    WireVector("FILE_ACCEPT", .fileAccept(transfer: 7, offset: 0), "19 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00"),
    WireVector("FILE_CANCEL", .fileCancel(id: 7, reason: .rejected, text: "no thanks"), "1a 00 00 00 00 00 00 00 07 00 00 09 6e 6f 20 74 68 61 6e 6b 73"),
    WireVector("FILE_CHUNK", .fileChunk(transfer: 7, offset: 0, bytes: hello), "1b 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00 00 05 68 65 6c 6c 6f"),
    WireVector("FILE_CONFIRM", .fileConfirm(transfer: 7, offset: 5), "1c 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 05"),
    WireVector("FILE_DONE", .fileDone(transfer: 7, result: .verified), "1d 00 00 00 00 00 00 00 07 00"),
]

let fileRelayVectors: [WireVector<RelayMessage>] = [
    WireVector("FILE_OFFERED", .fileOffered(FileOffered(transferID: 7, from: "alice", target: "bob", name: "a.txt", size: 5,
                                                         digest: helloDigest, expiresIn: 300)),
               "98 00 00 00 00 00 00 00 07 00 05 61 6c 69 63 65 00 03 62 6f 62 00 05 61 2e 74 78 74 00 00 00 00 00 00 00 05 2c f2 4d ba 5f b0 a3 0e 26 e8 3b 2a c5 b9 e2 9e 1b 16 1e 5c 1f a7 42 5e 73 04 33 62 93 8b 98 24 00 00 01 2c"),
    WireVector("FILE_ACCEPTED", .fileAccepted(offerID: offerID, transfer: 7, by: "bob", offset: 0, limit: 5),
               "99 01 02 03 04 05 06 07 08 00 00 00 00 00 00 00 07 00 03 62 6f 62 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 05"),
    WireVector("FILE_CANCELLED", .fileCancelled(offerID: offerID, transfer: 7, reason: .expired, by: "", text: ""),
               "9a 01 02 03 04 05 06 07 08 00 00 00 00 00 00 00 07 02 00 00 00 00"),
    WireVector("FILE_CHUNK relayed", .fileChunk(transfer: 7, offset: 0, bytes: hello), "9b 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00 00 05 68 65 6c 6c 6f"),
    WireVector("FILE_CREDIT", .fileCredit(transfer: 7, confirmed: 5, limit: 5), "9c 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 05 00 00 00 00 00 00 00 05"),
    WireVector("FILE_DONE relayed", .fileDone(transfer: 7, by: "bob", result: .verified), "9d 00 00 00 00 00 00 00 07 00 03 62 6f 62 00"),
]

/// Specs/chat-protocol.md, section 4.12
@Test(arguments: fileClientVectors)
func fileClientVectorDecodesAndEncodes(_ vector: WireVector<ClientMessage>) throws {
    #expect(try ClientMessage(decoding: vector.bytes) == vector.message)
    #expect(vector.message.encoded() == vector.bytes)
}

/// Specs/chat-protocol.md, section 4.12
@Test(arguments: fileRelayVectors)
func fileRelayVectorDecodesAndEncodes(_ vector: WireVector<RelayMessage>) throws {
    #expect(try RelayMessage(decoding: vector.bytes) == vector.message)
    #expect(vector.message.encoded() == vector.bytes)
}

/// Specs/chat-protocol.md, section 4.12
@Test(arguments: fileClientVectors)
func everyTruncationOfAFileClientMessageIsRejected(_ vector: WireVector<ClientMessage>) {
    for length in 0..<vector.bytes.count {
        #expect(throws: ChatDecodingError.self) { try ClientMessage(decoding: Array(vector.bytes.prefix(length))) }
    }
    #expect(throws: ChatDecodingError.trailingBytes(count: 1)) { try ClientMessage(decoding: vector.bytes + [0]) }
}

/// Specs/chat-protocol.md, section 4.12
@Test(arguments: fileRelayVectors)
func everyTruncationOfAFileRelayMessageIsRejected(_ vector: WireVector<RelayMessage>) {
    for length in 0..<vector.bytes.count {
        #expect(throws: ChatDecodingError.self) { try RelayMessage(decoding: Array(vector.bytes.prefix(length))) }
    }
    #expect(throws: ChatDecodingError.trailingBytes(count: 1)) { try RelayMessage(decoding: vector.bytes + [0]) }
}

/// Specs/chat-protocol.md, section 4.12
@Test func aChunkLongerThan16KiBIsRejectedBeforeItsBytesAreRead() throws {
    // FILE_CHUNK transfer 7, offset 0, length 16,385, and no bytes: refused on the length alone.
    let bytes: [UInt8] = [0x1b] + [UInt8](repeating: 0, count: 7) + [7] + [UInt8](repeating: 0, count: 8) + [0x40, 0x01]
    #expect(throws: ChatDecodingError.self) { try ClientMessage(decoding: bytes) }
    let largest = ClientMessage.fileChunk(transfer: 1, offset: 0, bytes: [UInt8](repeating: 0xAB, count: FileTransferLimits.maximumChunkSize))
    #expect(try ClientMessage(decoding: largest.encoded()) == largest)
}

/// Specs/chat-protocol.md, section 4.12
@Test func anUndefinedCancelReasonOrResultIsRejected() {
    #expect(throws: ChatDecodingError.unknownCode(field: "reason", value: 7)) {
        try ClientMessage(decoding: [0x1a, 0, 0, 0, 0, 0, 0, 0, 7, 7, 0, 0])
    }
    #expect(throws: ChatDecodingError.unknownCode(field: "result", value: 2)) {
        try ClientMessage(decoding: [0x1d, 0, 0, 0, 0, 0, 0, 0, 7, 2])
    }
}

/// Specs/chat-protocol.md, section 4.12
@Test func theFileMessageTypesAreTheFilesRangesOnly() {
    // Section 3: client types 0x18-0x1D, relay types 0x98-0x9D; 0x1E-0x1F and 0x9E-0x9F stay unknown.
    for type: UInt8 in [0x1E, 0x1F] { #expect(throws: ChatDecodingError.unknownType(type)) { try ClientMessage(decoding: [type]) } }
    for type: UInt8 in [0x9E, 0x9F] { #expect(throws: ChatDecodingError.unknownType(type)) { try RelayMessage(decoding: [type]) } }
    #expect(fileClientVectors.map { $0.bytes[0] } == Array(0x18...0x1D))
    #expect(fileRelayVectors.map { $0.bytes[0] } == Array(0x98...0x9D))
}
