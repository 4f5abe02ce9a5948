/// How a message travels.
///
/// Each channel has its own message numbers, so a loss on one never holds up the other.
public enum Channel: UInt8, Sendable, Hashable, CaseIterable {
    /// Delivered exactly once, intact, in the order sent; retransmitted until acknowledged.
    case reliableOrdered = 0
    /// Delivered at most once, intact, in arrival order; never retransmitted.
    case unreliable = 1
    /// Bulk data (a file): like `reliableOrdered`, with its own message numbers and its own send
    /// budget (`Configuration.bulkSendQueueLimit`), and sent only when nothing of the other two
    /// channels waits, so a chat message never waits behind bulk data (Specs/reliability.md).
    case bulk = 2
}

/// A connection's identifier on the wire, chosen at random by the client and echoed by the server.
public struct ConnectionID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 32-bit value carried in the header.
    public var rawValue: UInt32
    /// Wraps a raw connection id.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Eight lower-case hexadecimal digits, as in traces.
    public var description: String {
        let hex = String(rawValue, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}

/// Identifies one message handed to `Connection.send`, in the order they were sent (1, 2, 3, ...).
public struct MessageID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// 1 for the first message handed to `send`, then 2, 3, ...
    public var rawValue: UInt64
    /// Wraps a raw message id.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Older messages order first.
    public static func < (lhs: MessageID, rhs: MessageID) -> Bool { lhs.rawValue < rhs.rawValue }
    /// `#` followed by the number.
    public var description: String { "#\(rawValue)" }
}
