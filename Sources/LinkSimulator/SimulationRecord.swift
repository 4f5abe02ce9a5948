import Datagram

/// One end of a simulated pair.
public enum Side: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The end that starts the handshake.
    case client
    /// The end behind the cookie jar, created when a HELLO with a valid cookie arrives.
    case server

    /// The other end.
    public var peer: Side { self == .client ? .server : .client }

    /// `client` or `server`.
    public var description: String { rawValue }
}

/// A message the application handed to `Connection.send` and the connection accepted.
public struct SentMessage: Sendable, Hashable {
    /// The identifier `send` returned.
    public var id: MessageID
    /// The channel it went on.
    public var channel: Channel
    /// Its bytes.
    public var bytes: [UInt8]
    /// When `send` accepted it (later than planned if the send queue pushed back).
    public var time: Timestamp
}

/// A message that came out of `pollEvent` as `.message`.
public struct ReceivedMessage: Sendable, Hashable {
    /// The channel it arrived on.
    public var channel: Channel
    /// Its bytes.
    public var bytes: [UInt8]
    /// When the event was polled.
    public var time: Timestamp
}

/// Everything the harness saw one side do, for the tests' invariants and for printing.
public struct SideRecord: Sendable {
    /// Messages accepted by `send`, in the order they were accepted.
    public var sent: [SentMessage] = []
    /// Messages delivered to the application, in the order they were delivered.
    public var received: [ReceivedMessage] = []
    /// Reliable messages the peer acknowledged, in the order the events came.
    public var acknowledged: [MessageID] = []
    /// When `.connected` came out.
    public var connectedAt: Timestamp?
    /// Why and when the connection ended, if it did.
    public var closed: (reason: Connection.CloseReason, time: Timestamp)?
    /// Times `send` threw `sendQueueFull`; the message was kept and offered again later.
    public var pushbacks = 0
    /// Messages `send` refused for good (`messageTooLarge`, `connectionClosed`), with the error.
    public var refused: [(bytes: [UInt8], error: SendError)] = []
    /// The largest `Connection.Statistics.queuedBytes` seen after any step.
    public var peakQueuedBytes = 0
    /// The largest `Connection.Statistics.bytesInFlight` seen after any step.
    public var peakBytesInFlight = 0
    /// Descriptions of every buffer cap found exceeded (empty when all is well).
    public var capViolations: [String] = []
    /// Events that broke the connection contract (for example two `.closed`), as descriptions.
    public var contractViolations: [String] = []

    /// Creates an empty record.
    public init() {}

    /// The reliable messages accepted by `send`, in order.
    public var sentReliable: [SentMessage] { sent.filter { $0.channel == .reliableOrdered } }

    /// The messages delivered on `channel`, in order.
    public func received(on channel: Channel) -> [ReceivedMessage] {
        received.filter { $0.channel == channel }
    }
}

/// How a call to `SimulatedPair.run` ended.
public enum RunOutcome: Sendable, Hashable, CustomStringConvertible {
    /// The stop condition became true.
    case finished
    /// Nothing was left to happen: no deadline, nothing in flight, nothing planned.
    case quiescent
    /// The next event lay beyond the time limit.
    case timeLimit
    /// Time stopped advancing: too many steps at one instant (a deadline that never moves on).
    case stalled(at: Timestamp)

    /// A short description for failure messages.
    public var description: String {
        switch self {
        case .finished: "finished"
        case .quiescent: "quiescent"
        case .timeLimit: "time limit reached"
        case let .stalled(time): "stalled at \(time)"
        }
    }
}
