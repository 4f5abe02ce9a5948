/// TCP framing: every chat message travels as a 4-byte big-endian payload length, then the payload.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Payload Length (bytes)                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 Payload (one chat message) ...
/// ```
public enum Framing {
    /// `payload` with its length prefix. The caller keeps payloads within `ChatLimits.maximumMessageSize`.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= Int(UInt32.max), "a frame payload must fit a 32-bit length")
        let length = UInt32(payload.count)
        var bytes: [UInt8] = [
            UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
        ]
        bytes.reserveCapacity(ChatLimits.frameHeaderSize + payload.count)
        bytes.append(contentsOf: payload)
        return bytes
    }
}

/// Why a byte stream cannot be split into frames. The stream is unusable afterwards: close it.
public enum FrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A length prefix announced more than the decoder's maximum payload size.
    case frameTooLarge(length: Int, limit: Int)

    public var description: String {
        switch self {
        case let .frameTooLarge(length, limit): "frame of \(length) bytes exceeds the maximum of \(limit) bytes"
        }
    }
}

/// Splits a TCP byte stream into frame payloads, whatever the sizes of the reads.
///
/// Feed every read with `append(_:)`, then call `nextFrame()` until it returns nil. Reads may split a
/// frame anywhere (even inside the length prefix) or carry many frames at once. An oversized length
/// is reported as soon as its 4 bytes have arrived, before any of the payload is buffered, and every
/// later call throws the same error. Memory stays within one maximum frame plus one read.
public struct FrameDecoder: Sendable {
    /// The largest payload accepted.
    public let maximumPayloadSize: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var failure: FrameError?

    /// Creates a decoder that refuses payloads larger than `maximumPayloadSize`.
    public init(maximumPayloadSize: Int = ChatLimits.maximumMessageSize) {
        self.maximumPayloadSize = maximumPayloadSize
    }

    /// Bytes received but not yet returned as a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Appends bytes just read from the stream.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        guard failure == nil else { return }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete payload, or nil until more bytes arrive.
    public mutating func nextFrame() throws(FrameError) -> [UInt8]? {
        if let failure { throw failure }
        guard bufferedByteCount >= ChatLimits.frameHeaderSize else { return nil }
        let length = buffer[readIndex..<(readIndex + 4)].reduce(0) { $0 << 8 | Int($1) }
        guard length <= maximumPayloadSize else {
            let error = FrameError.frameTooLarge(length: length, limit: maximumPayloadSize)
            failure = error
            buffer = []
            readIndex = 0
            throw error
        }
        guard bufferedByteCount >= ChatLimits.frameHeaderSize + length else { return nil }
        let start = readIndex + ChatLimits.frameHeaderSize
        let payload = Array(buffer[start..<(start + length)])
        readIndex = start + length
        compact()
        return payload
    }

    /// Drops consumed bytes once they are the larger part of the buffer, so the copy is amortised.
    private mutating func compact() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex > buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }
}
