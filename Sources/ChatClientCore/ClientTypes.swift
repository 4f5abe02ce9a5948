import Chat
import Datagram

/// Something a `ChatSession` reports, in order, on its queue.
public enum ChatSessionEvent: Sendable, Hashable {
    /// A message from the relay. MESSAGE and PRIVATE_MESSAGE already passed the duplicate filter.
    case received(RelayMessage)
    /// The relay has this SAY or PRIVATE (UDP: Datagram acknowledgement; TCP: RECEIVED).
    case acknowledged(messageID: UInt64)
    /// Connection life: connecting, joined, lost, reconnected.
    case connection(ConnectionChange)
    /// One packet's fate while tracing.
    case trace(PacketFate)
    /// A local problem worth telling the user (a socket error, a refused send).
    case warning(String)
    /// Keys, pins and end-to-end private messages (Specs/chat-protocol.md section 4.10).
    case identity(IdentityEvent)
    /// Something about a file transfer (Specs/chat-protocol.md, section 4.12).
    case file(FileTransferEvent)
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
    /// The relay sent NOTICE `sessionResumed`: another connection presented this session's secret and
    /// took the session named `name`. The session has closed and does not reconnect on its own
    /// (Specs/chat-protocol.md, section 4.3, "Resuming a session").
    case sessionTaken(name: String)
    /// The encrypted handshake failed: the relay's key was rejected by the pin check (`reason` says
    /// what the check said), or the relay does not speak the sealed protocol. The session has closed
    /// and does not reconnect on its own (reconnecting would meet the same key).
    case handshakeFailed(reason: String)
    /// The relay refused this client in a way no retry can change (it accepts encrypted sessions
    /// only, and this one is plaintext); `reason` says what happened and what to do. The session has
    /// closed and does not reconnect on its own.
    case refusedForGood(reason: String)
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
    public var connection: Connection.Statistics?
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
    /// TCP: frames from the relay that did not open (each closed the stream).
    public var streamFramesUnopened = 0
    /// TCP only: the latest heartbeat RTT.
    public var heartbeatRoundTripTime: Duration?
    /// Sealed private messages dropped: could not be opened (forged, corrupted), or sealed with a key
    /// other than the one pinned for the claimed sender.
    public var sealedRejected = 0
    /// Requests not sent because they were over `ChatLimits.maximumChatMessageSize` (each reported).
    public var oversizedRefused = 0
    /// Sealed private messages sent.
    public var sealedSent = 0

    /// Empty counters for `transport`.
    public init(transport: TransportKind) { self.transport = transport }
}

/// Where a session stands with its relay, as a value the UI can render as it likes.
public enum ClientStatus: Sendable, Hashable {
    /// The first join is under way; `heardFromRelay` is false while nothing at all came back.
    case connecting(heardFromRelay: Bool)
    /// Joined, and the relay was heard from recently.
    case joined
    /// Joined before, now connecting again.
    case reconnecting
    /// Nothing heard from the relay for `silence`; `isReconnecting` when the link is being replaced.
    case quiet(silence: Duration, isReconnecting: Bool)
    /// Closed; nothing more happens.
    case closed
    /// Closed because another connection took the session (NOTICE `sessionResumed`); it is not
    /// reconnected, since another run holds the secret.
    case sessionTaken
}

/// What the shell must do for the core, in order (`ChatClientCore.pollAction()`).
public enum ClientAction: Sendable, Hashable {
    /// UDP: send this datagram to the relay.
    case sendDatagram([UInt8])
    /// TCP: open a connection to the relay; report `handleStreamConnected` or `handleStreamEnded`.
    case openStream
    /// TCP: write this frame (already length-prefixed) to the stream.
    case sendFrame([UInt8])
    /// TCP: flush what is buffered and shut the stream's output (after QUIT).
    case finishStream
    /// TCP: close the stream at once.
    case closeStream
    /// Something to show or report (a message, an acknowledgement, a connection change, a warning).
    case event(ChatSessionEvent)
    /// The status changed.
    case status(ClientStatus)
    /// `leave` finished: QUIT was delivered, or its time ran out.
    case left
}
