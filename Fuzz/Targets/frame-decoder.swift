// Fuzz target `frame-decoder`: the TCP `FrameDecoder` fed one stream at arbitrary splits.
//
// Input: a byte n (how many split points), n split lengths (one byte each), a byte choosing the
// maximum payload size, then the stream. Checks: never crashes; the frames (and the error, if any)
// are the same whatever the splits (compared with feeding the whole stream at once); the decoder
// never buffers more than one maximum frame plus one read; every frame fits the maximum.
import Chat

private struct Outcome: Equatable {
    var frames: [[UInt8]] = []
    var error: FrameError?
}

private func decode(_ chunks: [ArraySlice<UInt8>], maximum: Int) -> Outcome {
    var decoder = FrameDecoder(maximumPayloadSize: maximum)
    var outcome = Outcome()
    for chunk in chunks {
        decoder.append(chunk)
        invariant(decoder.bufferedByteCount <= ChatLimits.frameHeaderSize + maximum + chunk.count,
                  "decoder holds \(decoder.bufferedByteCount) bytes")
        do {
            while let frame = try decoder.nextFrame() {
                invariant(frame.count <= maximum, "frame of \(frame.count) bytes over the maximum \(maximum)")
                outcome.frames.append(frame)
            }
        } catch {
            outcome.error = error
            // Every later call fails the same way, and appending does nothing.
            decoder.append([0, 0, 0, 0])
            invariant((try? decoder.nextFrame()) == nil, "decoder recovered after an error")
            return outcome
        }
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let splitCount = Int(input.byte() % 32)
    let splits = (0..<splitCount).map { _ in Int(input.byte()) }
    let maximum = input.pick([ChatLimits.maximumMessageSize, 0, 1, 5, 300])
    let stream = input.rest()
    var chunks: [ArraySlice<UInt8>] = []
    var start = 0
    for length in splits where start < stream.count {
        let end = min(stream.count, start + length)
        chunks.append(stream[start..<end])
        start = end
    }
    if start < stream.count { chunks.append(stream[start...]) }
    let split = decode(chunks, maximum: maximum)
    let whole = decode([stream[...]], maximum: maximum)
    invariant(split == whole, "splitting the stream changed the frames: \(split.frames.count) frames/\(String(describing: split.error)) vs \(whole.frames.count)/\(String(describing: whole.error))")
    return 0
}
