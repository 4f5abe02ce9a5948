import Chat
import Datagram

/// The relay's tunable limits. The defaults suit a classroom on one machine or a LAN.
public struct RelayConfiguration: Sendable {
    /// A user silent this long is removed and the others are told it timed out. Exactly at the
    /// boundary: silent for `peerTimeout - 1 ms` stays, silent for `peerTimeout` goes.
    public var peerTimeout: Duration = .seconds(10)
    /// The most connections (joined or still saying HELLO); more are refused (`serverFull`).
    public var maximumPeers = 256
    /// The room a HELLO without rooms joins.
    public var defaultRoom = ChatLimits.defaultRoom
    /// The Datagram parameters of every UDP peer's connection. Its `sendQueueLimit` is the UDP peer's
    /// send-queue cap; its `idleTimeout` is raised to at least twice `peerTimeout` so that the relay's
    /// own eviction (with its notice) always comes first.
    public var connection = Configuration()
    /// The most bytes a UDP peer that has not joined yet may have held for reordering and reassembly
    /// (`Connection.receiveBufferBudget`); once it joins, `connection.receiveBufferBudget` applies.
    /// Its next message to deliver is always taken on top (at most `Limits.largestHeldMessage`).
    public var unjoinedReceiveBufferBudget = 64 << 10
    /// The most bytes all UDP connections together may hold for reordering and reassembly. While the
    /// total is at or over it, no connection may buffer more: DATA that would wait is refused
    /// unacknowledged (the senders retransmit it later), only messages that can be delivered at once
    /// are taken. Worst case: this plus `maximumPeers` × `Limits.largestHeldMessage` (Specs/reliability.md).
    public var receiveBufferBudget = 64 << 20
    /// The most bytes a TCP peer may have waiting in the driver's write buffer (`handleStreamBacklog`).
    public var streamSendQueueLimit = 1 << 20
    /// How long `beginShutdown` waits for UDP peers to acknowledge everything before closing anyway.
    public var shutdownDrainTimeout: Duration = .seconds(2)
    /// The most WHO_LIST entries in one message; longer lists are sent in several.
    public var maximumWhoEntriesPerMessage = 64

    /// The defaults.
    public init() {}
}

/// How much a log line matters.
public enum LogLevel: Int, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Per-message detail (malformed input, refused requests).
    case debug
    /// Joins, quits, timeouts, shutdown.
    case info
    /// Something a user will notice (queue overflow, a refused peer).
    case warning

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `debug`, `info` or `warning`.
    public var description: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        }
    }
}

/// What the driver must do next, in order (see `RelayCore`).
public enum RelayAction: Sendable, Hashable {
    /// Send this datagram to this UDP endpoint.
    case sendDatagram([UInt8], to: Endpoint)
    /// Append these bytes (whole frames) to this TCP stream's write buffer.
    case sendStream([UInt8], to: Endpoint)
    /// Close this TCP stream once everything handed over by `sendStream` before it has been written.
    case closeStream(Endpoint)
    /// A line for the relay's log.
    case log(LogLevel, String)
}

/// Relay-wide counters, for the relay's log and `/stats`.
public struct RelayStatistics: Sendable, Hashable {
    /// Connections now (UDP and TCP, joined or not).
    public var peers = 0
    /// Users now joined (WELCOME sent).
    public var joinedPeers = 0
    /// HELLOs accepted since start.
    public var joinsAccepted = 0
    /// SAY messages routed to a room.
    public var messagesRouted = 0
    /// PRIVATE messages delivered.
    public var privateMessagesRouted = 0
    /// MESSAGE and PRIVATE_MESSAGE copies handed to recipients.
    public var deliveries = 0
    /// Datagrams, frames and chat messages that could not be parsed, counted and dropped.
    public var malformedDropped = 0
    /// ERROR messages sent.
    public var errorsSent = 0
    /// COOKIE replies sent by the stateless front door.
    public var cookiesIssued = 0
    /// RESET replies sent by the stateless front door.
    public var resetsSent = 0
    /// Datagrams from unknown endpoints dropped without a reply (stale cookie, stray RESET, ...).
    public var statelessDropped = 0
    /// Users removed for silence.
    public var peersTimedOut = 0
    /// Connections refused because the relay was full or shutting down.
    public var peersRefused = 0
    /// Users disconnected because their send queue overflowed.
    public var sendQueueOverflows = 0
    /// Times a peer's queue rose over half its cap, holding back the senders in its rooms.
    public var congestionEpisodes = 0
    /// DATA packets from held-back UDP senders refused unacknowledged (they are sent again later).
    public var dataHeldBack = 0
    /// Bytes all UDP connections hold now for reordering and reassembly (`receiveBufferBudget`).
    public var receiveBufferedBytes = 0
    /// DATA packets refused unacknowledged because a connection's or the relay's receive budget was
    /// spent (they are sent again later).
    public var receiveBudgetRefused = 0
    /// Datagrams dropped because they carried another connection id than the one the endpoint's live
    /// connection uses (never answered, so no endpoint receives an id other than its own).
    public var foreignConnectionIDDropped = 0

    /// All zero.
    public init() {}
}
