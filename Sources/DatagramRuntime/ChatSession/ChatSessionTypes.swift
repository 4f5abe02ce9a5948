import Chat
import Datagram
import LinkSimulator

/// What a `ChatSession` needs to know before it starts.
public struct ChatSessionConfiguration: Sendable {
    /// The name asked for in HELLO.
    public var name: String
    /// The relay's UDP and TCP address.
    public var relay: SocketAddress
    /// UDP (a Datagram connection) or TCP (length-prefixed frames).
    public var transport: TransportKind
    /// The rooms to join first; empty means the relay's default room.
    public var rooms: [String] = []
    /// This run's session id, kept across reconnections; random by default.
    public var sessionID = SessionID(rawValue: SystemRandom.uint64())
    /// Simulated conditions applied to both directions (UDP only); nil for a perfect path.
    public var linkConditions: LinkConditions?
    /// The seed of the simulated link.
    public var linkSeed: UInt64 = SystemRandom.seed()
    /// Report every packet's fate as `.trace` events from the start (UDP only).
    public var isTracing = false
    /// The Datagram connection's parameters (UDP only).
    public var datagramConfiguration = Configuration()
    /// HELLO's software field.
    public var software = "chat 1.0"
    /// How often a TCP client sends HEARTBEAT.
    public var heartbeatInterval: Duration = .seconds(2)
    /// A TCP connection silent this long is given up and replaced.
    public var streamSilenceLimit: Duration = .seconds(7)
    /// After a reconnection, messages wait this long before they are sent again, so that the others
    /// who lost the same relay have time to rejoin and receive them.
    public var rejoinGrace: Duration = .milliseconds(2500)
    /// After NOTICE serverShutdown, the link is given up this long later if the relay has not closed
    /// it (its CLOSE may be lost), so that reconnecting starts without waiting for a timeout.
    public var shutdownNoticeGrace: Duration = .milliseconds(2500)

    /// A configuration for `name` at `relay` over `transport`; the rest has defaults.
    public init(name: String, relay: SocketAddress, transport: TransportKind) {
        self.name = name
        self.relay = relay
        self.transport = transport
    }
}

/// Something a `ChatSession` reports, in order, on its queue.
public enum ChatSessionEvent: Sendable {
    /// A message from the relay. MESSAGE and PRIVATE_MESSAGE already passed the duplicate filter.
    case received(RelayMessage)
    /// The relay has this SAY or PRIVATE (UDP: Datagram acknowledgement; TCP: RECEIVED).
    case acknowledged(messageID: UInt64)
    /// Connection life: connecting, joined, lost, reconnected.
    case connection(ConnectionChange)
    /// One packet's fate while tracing, ready to print.
    case trace(String)
    /// A local problem worth telling the user (a socket error, a refused send).
    case warning(String)
}

/// A change in the session's link to the relay.
public enum ConnectionChange: Sendable, Hashable {
    /// The relay accepted HELLO; `resent` messages from before are going out again.
    case joined(name: String, isReconnection: Bool, resent: Int)
    /// The relay refused HELLO (name taken or invalid); the session keeps the link open.
    case refused(reason: String)
    /// The link was lost (`reason` in words); the session reconnects by itself.
    case lost(reason: String)
    /// A connection attempt failed before WELCOME (`reason` in words); another follows.
    case attemptFailed(reason: String)
    /// A new connection attempt started.
    case reconnecting(attempt: Int)
    /// The session was closed by `close()`.
    case closed
}

/// Why `say` or `sendPrivate` refused a message. Nothing was queued.
public enum ChatSendError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text is longer than `ChatLimits.maximumTextLength` bytes.
    case textTooLong(bytes: Int, limit: Int)
    /// Too many messages wait for acknowledgement; try again when some are acknowledged.
    case queueFull(waiting: Int)
    /// `close()` was called.
    case sessionClosed

    public var description: String {
        switch self {
        case let .textTooLong(bytes, limit): "message of \(bytes) bytes is longer than the limit of \(limit) bytes"
        case let .queueFull(waiting): "\(waiting) messages are waiting for the relay; try again shortly"
        case .sessionClosed: "the session is closed"
        }
    }
}

/// A message sent and not yet acknowledged, for an end-of-input report.
public struct PendingMessage: Sendable, Hashable, CustomStringConvertible {
    /// The SAY or PRIVATE message id (0 for other requests).
    public var messageID: UInt64
    /// What it was: `SAY #lobby "hello"`.
    public var summary: String

    public var description: String { messageID == 0 ? summary : "#\(messageID) \(summary)" }
}

/// Counters of a session, for `/stats`, beside the transport's own.
public struct ChatSessionStatistics: Sendable {
    /// UDP or TCP.
    public var transport: TransportKind
    /// The Datagram connection's statistics (UDP only), for the current connection.
    public var connection: Statistics?
    /// The UDP driver's socket counters (UDP only).
    public var driver: DriverStatistics?
    /// The simulated links' counters (UDP only, when simulated).
    public var outgoingLink: LinkStatistics?
    /// The simulated incoming link's counters.
    public var incomingLink: LinkStatistics?
    /// Chat messages (SAY, PRIVATE) handed to the session.
    public var messagesSent = 0
    /// Those the relay acknowledged.
    public var messagesAcknowledged = 0
    /// Messages received from others and shown.
    public var messagesReceived = 0
    /// Resent messages from others that were recognised and not shown again.
    public var duplicatesSuppressed = 0
    /// Messages sent again after a reconnection.
    public var messagesResent = 0
    /// Reconnections after the first connection.
    public var reconnections = 0
    /// Messages from the relay that could not be decoded.
    public var malformedReceived = 0
    /// TCP only: bytes and frames each way, and the latest HEARTBEAT round trip.
    public var streamBytesSent = 0
    /// TCP only: bytes received.
    public var streamBytesReceived = 0
    /// TCP only: the latest heartbeat RTT.
    public var heartbeatRoundTripTime: Duration?

    /// Empty counters for `transport`.
    public init(transport: TransportKind) { self.transport = transport }
}
