import Chat
import LinkSimulator
import Testing

private let payloads: [[UInt8]] = [[], [0x06], Array(0..<200), Array(repeating: 0xAB, count: 70_000 / 2), [1, 2, 3]]
private let stream: [UInt8] = payloads.flatMap(Framing.frame)

private func decodeAll(_ chunks: [ArraySlice<UInt8>]) throws -> [[UInt8]] {
    var decoder = FrameDecoder()
    var frames: [[UInt8]] = []
    for chunk in chunks {
        decoder.append(chunk)
        while let frame = try decoder.nextFrame() { frames.append(frame) }
    }
    #expect(decoder.bufferedByteCount == 0)
    return frames
}

/// Specs/chat-protocol.md, section 5: A frame length over 65,536 MUST close the stream unread; length 0 is malformed;
/// frames split or packed anywhere.
@Test func frameHasABigEndianLengthPrefix() {
    #expect(Framing.frame([0x06]) == [0x00, 0x00, 0x00, 0x01, 0x06])
    #expect(Framing.frame(Array(repeating: 0, count: 258)).prefix(4) == [0x00, 0x00, 0x01, 0x02])
}

/// Specs/chat-protocol.md, section 5: A frame length over 65,536 MUST close the stream unread; length 0 is malformed;
/// frames split or packed anywhere.
@Test func decodesAllAtOnce() throws {
    #expect(try decodeAll([stream[...]]) == payloads)
}

/// Specs/chat-protocol.md, section 5: A frame length over 65,536 MUST close the stream unread; length 0 is malformed;
/// frames split or packed anywhere.
@Test func decodesOneByteAtATime() throws {
    #expect(try decodeAll(stream.indices.map { stream[$0...$0] }) == payloads)
}

/// Specs/chat-protocol.md, section 5: A frame length over 65,536 MUST close the stream unread; length 0 is malformed;
/// frames split or packed anywhere.
@Test(arguments: [1, 2, 3, 42, 0xDEAD_BEEF] as [UInt64])
func decodesAtRandomSplits(seed: UInt64) throws {
    var generator = SplitMix64(seed: seed)
    var chunks: [ArraySlice<UInt8>] = []
    var start = 0
    while start < stream.count {
        let end = min(stream.count, start + Int(generator.next() % 1500) + 1)
        chunks.append(stream[start..<end])
        start = end
    }
    #expect(try decodeAll(chunks) == payloads, "seed \(seed)")
}

/// Specs/chat-protocol.md, section 5: A frame length over 65,536 MUST close the stream unread; length 0 is malformed;
/// frames split or packed anywhere.
@Test func partialFrameWaits() throws {
    var decoder = FrameDecoder()
    decoder.append([0x00, 0x00, 0x00, 0x03, 0x01, 0x02])
    #expect(try decoder.nextFrame() == nil)
    #expect(decoder.bufferedByteCount == 6)
    decoder.append([0x03])
    #expect(try decoder.nextFrame() == [1, 2, 3])
}

/// Specs/chat-protocol.md, section 5: A frame length over 65,536 MUST close the stream unread; length 0 is malformed;
/// frames split or packed anywhere.
@Test func oversizedLengthIsRejectedBeforeThePayloadArrives() {
    var decoder = FrameDecoder(maximumPayloadSize: 100)
    decoder.append([0x00, 0x00, 0x00, 0x65])
    #expect(throws: FrameError.frameTooLarge(length: 101, limit: 100)) { try decoder.nextFrame() }
    decoder.append([0x00, 0x00, 0x00, 0x00])
    #expect(throws: FrameError.frameTooLarge(length: 101, limit: 100)) { try decoder.nextFrame() }
    #expect(decoder.bufferedByteCount == 0)
}

/// Specs/chat-protocol.md, section 5: A frame length over 65,536 MUST close the stream unread; length 0 is malformed;
/// frames split or packed anywhere.
@Test func maximumSizedFrameIsAccepted() throws {
    var decoder = FrameDecoder()
    let payload = Array(repeating: UInt8(7), count: ChatLimits.maximumMessageSize)
    decoder.append(Framing.frame(payload))
    #expect(try decoder.nextFrame() == payload)
    decoder.append([0x00, 0x01, 0x00, 0x01])
    #expect(throws: FrameError.frameTooLarge(length: 65_537, limit: 65_536)) { try decoder.nextFrame() }
}
