/// Why bytes could not be decoded as a chat message. The receiver counts the message and drops it.
public enum ChatDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// There are no bytes at all.
    case empty
    /// The type byte names no message this side understands.
    case unknownType(UInt8)
    /// The message ended in the middle of the named field.
    case truncated(field: String)
    /// A string field is not valid UTF-8.
    case invalidUTF8(field: String)
    /// A code field (notice kind, error code, transport) has a value this version does not define.
    case unknownCode(field: String, value: UInt8)
    /// Bytes are left over after the last field.
    case trailingBytes(count: Int)

    public var description: String {
        switch self {
        case .empty: "empty message"
        case let .unknownType(type): "unknown message type 0x\(String(type, radix: 16))"
        case let .truncated(field): "message truncated in field '\(field)'"
        case let .invalidUTF8(field): "field '\(field)' is not valid UTF-8"
        case let .unknownCode(field, value): "field '\(field)' has unknown value \(value)"
        case let .trailingBytes(count): "\(count) unexpected bytes after the last field"
        }
    }
}

/// Appends big-endian integers and length-prefixed strings to a byte array.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(type: UInt8) {
        bytes.reserveCapacity(64)
        bytes.append(type)
    }

    mutating func write(_ value: UInt8) { bytes.append(value) }

    mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func write(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    mutating func write(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// A 16-bit length, then the UTF-8 bytes. Longer strings are cut at 65,535 bytes; callers
    /// validate lengths against `ChatLimits` long before that.
    mutating func write(_ string: String) {
        // Through the contiguous UTF-8 buffer: appending `string.utf8.prefix(_:)` went byte by byte
        // through a generic iterator, about 80 instructions a byte (a fifth of a relayed bulk message).
        var string = string
        string.withUTF8 { utf8 in
            let kept = UnsafeBufferPointer(rebasing: utf8.prefix(Int(UInt16.max)))
            bytes.reserveCapacity(bytes.count + 2 + kept.count)
            write(UInt16(kept.count))
            bytes.append(contentsOf: kept)
        }
    }

    /// A 16-bit length, then the bytes (sealed payloads, Specs/chat-protocol.md section 4.10). Longer
    /// arrays are cut at 65,535 bytes; callers validate lengths long before that.
    mutating func writeBytes(_ data: [UInt8]) {
        let kept = data.prefix(Int(UInt16.max))
        write(UInt16(kept.count))
        bytes.append(contentsOf: kept)
    }
    /// Raw bytes, with no length prefix (the caller writes the length first).
    mutating func writeRaw(_ raw: some Collection<UInt8>) { bytes.append(contentsOf: raw) }

    /// A one-byte count, then each string.
    mutating func write(_ strings: [String]) {
        let kept = strings.prefix(Int(UInt8.max))
        write(UInt8(kept.count))
        for string in kept { write(string) }
    }
}

/// Reads big-endian integers and length-prefixed strings, throwing `ChatDecodingError` on short input.
struct ByteReader {
    private let bytes: [UInt8]
    private var index: Int

    init(_ bytes: [UInt8], from index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    var remaining: Int { bytes.count - index }

    mutating func readUInt8(_ field: String) throws(ChatDecodingError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated(field: field) }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func readUInt16(_ field: String) throws(ChatDecodingError) -> UInt16 {
        UInt16(try readInteger(field, size: 2))
    }

    mutating func readUInt32(_ field: String) throws(ChatDecodingError) -> UInt32 {
        UInt32(try readInteger(field, size: 4))
    }

    mutating func readUInt64(_ field: String) throws(ChatDecodingError) -> UInt64 {
        try readInteger(field, size: 8)
    }

    mutating func readString(_ field: String) throws(ChatDecodingError) -> String {
        let length = Int(try readUInt16(field))
        guard remaining >= length else { throw .truncated(field: field) }
        let slice = bytes[index..<(index + length)]
        index += length
        guard let string = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8(field: field) }
        return string
    }

    /// A 16-bit length, then that many bytes (the inverse of `ByteWriter.writeBytes`).
    mutating func readBytes(_ field: String) throws(ChatDecodingError) -> [UInt8] {
        let length = Int(try readUInt16(field))
        guard remaining >= length else { throw .truncated(field: field) }
        defer { index += length }
        return Array(bytes[index..<(index + length)])
    }

    /// Exactly `count` bytes.
    mutating func readFixed(_ field: String, count: Int) throws(ChatDecodingError) -> [UInt8] {
        guard remaining >= count else { throw .truncated(field: field) }
        defer { index += count }
        return Array(bytes[index..<(index + count)])
    }

    mutating func readStrings(_ field: String) throws(ChatDecodingError) -> [String] {
        let count = Int(try readUInt8(field))
        var strings: [String] = []
        for _ in 0..<count { strings.append(try readString(field)) }
        return strings
    }

    /// `count` raw bytes (the caller has read and bounded the length).
    mutating func readBytes(_ field: String, count: Int) throws(ChatDecodingError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated(field: field) }
        defer { index += count }
        return Array(bytes[index..<(index + count)])
    }

    /// Throws unless every byte was consumed.
    func finish() throws(ChatDecodingError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }

    private mutating func readInteger(_ field: String, size: Int) throws(ChatDecodingError) -> UInt64 {
        guard remaining >= size else { throw .truncated(field: field) }
        var value: UInt64 = 0
        for offset in 0..<size { value = value << 8 | UInt64(bytes[index + offset]) }
        index += size
        return value
    }
}
