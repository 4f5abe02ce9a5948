// PUBLIC API SKETCH written before the implementation so that other targets can compile against it.
// The Datagram implementer replaces the stub bodies and may split this file; the public names and
// shapes below are a contract with Transport, Relay and the simulation tests. Additions are fine;
// changing a name here means changing every caller.

/// Which end of a connection this is.
public enum Role: Sendable, Hashable {
    /// Starts the handshake (HELLO, then HELLO with the cookie), then waits for WELCOME.
    case client
    /// Created by a server once a HELLO with a valid cookie arrives; answers it with WELCOME.
    case server
}

/// Which congestion controller a connection uses.
public enum CongestionControl: Sendable, Hashable {
    /// NewReno counted in bytes, as in RFC 9002 section 7.
    case newReno
    /// No congestion control: the window is unlimited (for the demo; do not use on a shared network).
    case disabled
}

/// The tunable parameters of a connection. The defaults follow RFC 9002 where it gives one.
public struct Configuration: Sendable, Hashable {
    /// The RTT assumed before the first sample (RFC 9002: 333 ms).
    public var initialRTT: Duration = .milliseconds(333)
    /// The smallest probe timeout ever armed, whatever the RTT says.
    public var minimumProbeTimeout: Duration = .milliseconds(10)
    /// The largest probe timeout exponential backoff may reach.
    public var maximumProbeTimeout: Duration = .seconds(10)
    /// How long a receiver may delay an acknowledgement (RFC 9002 max_ack_delay: 25 ms).
    public var maximumAckDelay: Duration = .milliseconds(25)
    /// Send a PING after this long without sending anything ack-eliciting.
    public var keepaliveInterval: Duration = .seconds(2)
    /// Close with `.idleTimeout` after this long without receiving a valid packet.
    public var idleTimeout: Duration = .seconds(10)
    /// Close with `.probeTimeout` after this many consecutive probe timeouts go unanswered.
    public var maximumProbeCount: Int = 8
    /// Messages may queue up to this many bytes (not yet acknowledged) before `send` pushes back.
    public var sendQueueLimit: Int = 1 << 20
    /// Fragments the receiver holds out of order, per channel, at most.
    public var reorderBufferLimit: Int = 2048
    /// The congestion controller.
    public var congestionControl: CongestionControl = .newReno
    /// Emit `Event.trace` for every packet fate.
    public var isTracing: Bool = false

    public init() {}
}

/// Why `send` refused a message. Nothing was queued when it throws.
public enum SendError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message is larger than `Limits.maximumMessageSize`.
    case messageTooLarge(size: Int, limit: Int)
    /// Accepting it would exceed `Configuration.sendQueueLimit`; try again after some are acknowledged.
    case sendQueueFull(queuedBytes: Int, limit: Int)
    /// The connection is closing or closed.
    case connectionClosed

    public var description: String {
        switch self {
        case let .messageTooLarge(size, limit): "message of \(size) bytes exceeds the maximum of \(limit) bytes"
        case let .sendQueueFull(queued, limit): "send queue full (\(queued) of \(limit) bytes waiting for acknowledgement)"
        case .connectionClosed: "connection is closed"
        }
    }
}

/// Why a connection ended.
public enum CloseReason: Sendable, Hashable {
    /// This side called `close`.
    case local
    /// The peer sent CLOSE with this code (see the wire format, section 7).
    case peer(code: UInt8)
    /// The peer answered with RESET: it has no state for us (for example, it restarted).
    case reset
    /// Nothing valid was received for `Configuration.idleTimeout`.
    case idleTimeout
    /// `Configuration.maximumProbeCount` probe timeouts in a row went unanswered.
    case probeTimeout
}

/// What a connection tells its driver, in order, through `pollEvent`.
public enum Event: Sendable, Hashable {
    /// The handshake finished (client: WELCOME received; server: created).
    case connected
    /// A complete message arrived.
    case message([UInt8], channel: Channel)
    /// The peer acknowledged every fragment of this message (reliable channel only).
    case acknowledged(MessageID)
    /// The connection ended; `takeUnacknowledgedMessages()` returns what was never acknowledged.
    case closed(CloseReason)
    /// One packet's fate, when `Configuration.isTracing` is on.
    case trace(PacketFate)
}

/// Why a packet was declared lost (RFC 9002 section 6.1).
public enum LossReason: Sendable, Hashable {
    /// A packet this many numbers later was acknowledged (threshold: 3).
    case packetThreshold(largestAcknowledged: UInt32)
    /// It was sent longer ago than 9/8 of the RTT before a later packet's acknowledgement.
    case timeThreshold(age: Duration, threshold: Duration)
}

/// A packet's fate, for a person watching retransmission happen (`Configuration.isTracing`).
public enum PacketFate: Sendable, Hashable {
    /// A packet left: its number, type name (`DATA`, `PING`, ...), size, and the probe timeout armed.
    case sent(packetNumber: UInt32, type: String, bytes: Int, message: MessageID?, fragment: Int?, probeTimeout: Duration)
    /// The peer acknowledged it; the RTT sample it gave, if it was the largest newly acknowledged.
    case acknowledged(packetNumber: UInt32, rttSample: Duration?)
    /// It was declared lost.
    case lost(packetNumber: UInt32, reason: LossReason)
    /// A fragment from a lost packet was queued to go again, in a new packet.
    case retransmitted(message: MessageID, fragment: Int, lostPacketNumber: UInt32)
    /// The probe timeout fired; `count` in a row, the next one `backoff` later.
    case probeTimeout(count: Int, backoff: Duration)
    /// A packet arrived that was already received.
    case duplicateDropped(packetNumber: UInt32)
    /// A datagram failed its checksum or could not be parsed.
    case corruptDropped(bytes: Int, reason: String)
}

/// Counters and estimates for one connection. All byte counts are whole datagrams.
public struct Statistics: Sendable, Hashable {
    public var packetsSent = 0
    public var bytesSent = 0
    public var packetsReceived = 0
    public var bytesReceived = 0
    /// Fragments sent again because the packet carrying them was declared lost.
    public var retransmissions = 0
    /// Packets declared lost (by packet or time threshold).
    public var packetsLost = 0
    /// Probe timeouts that fired.
    public var probeTimeouts = 0
    /// Packets received that had been received before.
    public var duplicatesDropped = 0
    /// Fragments that arrived ahead of a gap and waited in the reorder buffer.
    public var outOfOrderBuffered = 0
    /// Datagrams whose checksum did not match.
    public var corruptDropped = 0
    /// Datagrams too short, of another protocol or version, or otherwise unparseable.
    public var malformedDropped = 0
    public var messagesSent = 0
    public var messagesDelivered = 0
    public var smoothedRTT: Duration = .zero
    public var minimumRTT: Duration = .zero
    public var rttVariance: Duration = .zero
    public var latestRTT: Duration = .zero
    /// The probe timeout currently in force, backoff included.
    public var probeTimeout: Duration = .zero
    public var congestionWindow = 0
    public var bytesInFlight = 0
    /// Bytes of messages accepted by `send` and not yet acknowledged.
    public var queuedBytes = 0

    public init() {}
}

/// Where a connection is in its life.
public enum ConnectionState: Sendable, Hashable {
    case connecting
    case established
    case closed(CloseReason)
}

/// A reliable-datagram connection as a pure state machine: the sans-IO core.
///
/// (Contract to be written here in full by the implementer: inputs `send`, `handleDatagram`,
/// `handleTimeout`, `close`; outputs `pollTransmit`, `pollEvent`, `nextDeadline`; time never goes
/// backwards; after any input, drain `pollTransmit` until nil and `pollEvent` until nil, then re-arm
/// one timer to `nextDeadline`.)
public struct Connection: Sendable {
    /// Creates a connection. A client starts its handshake at once (its first `pollTransmit` is a HELLO).
    /// `firstPacketNumber` exists so tests can start near `UInt32.max`.
    public init(role: Role, id: ConnectionID, configuration: Configuration = Configuration(),
                now: Timestamp, firstPacketNumber: UInt32 = 0) {
        fatalError("stub")
    }

    public var id: ConnectionID { fatalError("stub") }
    public var role: Role { fatalError("stub") }
    public var state: ConnectionState { fatalError("stub") }
    public var statistics: Statistics { fatalError("stub") }
    /// Tracing can be switched on and off at run time (`/trace on`).
    public var isTracing: Bool {
        get { fatalError("stub") }
        set { fatalError("stub") }
    }
    /// True when every message sent has been acknowledged and nothing is waiting to go.
    public var isIdle: Bool { fatalError("stub") }

    /// Queues a message. Messages may be queued before the handshake finishes.
    @discardableResult
    public mutating func send(_ message: [UInt8], on channel: Channel = .reliableOrdered,
                              at now: Timestamp) throws(SendError) -> MessageID {
        fatalError("stub")
    }

    /// Feeds one received datagram. Garbage, corrupt, foreign and duplicate input is counted and dropped.
    public mutating func handleDatagram(_ datagram: [UInt8], at now: Timestamp) {
        fatalError("stub")
    }

    /// Tells the connection that time has reached `now` (call it at `nextDeadline`, early calls are harmless).
    public mutating func handleTimeout(at now: Timestamp) {
        fatalError("stub")
    }

    /// Closes at once: queues one CLOSE with `code` and moves to `.closed(.local)`.
    public mutating func close(code: UInt8 = 0, at now: Timestamp) {
        fatalError("stub")
    }

    /// The next datagram to put on the wire, or nil when there is nothing to send now.
    public mutating func pollTransmit(at now: Timestamp) -> [UInt8]? {
        fatalError("stub")
    }

    /// The next event for the application, or nil.
    public mutating func pollEvent() -> Event? {
        fatalError("stub")
    }

    /// When `handleTimeout` must next be called, or nil when no timer is armed.
    public var nextDeadline: Timestamp? { fatalError("stub") }

    /// After `.closed`: the reliable messages never acknowledged, oldest first, so an application can
    /// send them again on a new connection. Empties the list.
    public mutating func takeUnacknowledgedMessages() -> [[UInt8]] {
        fatalError("stub")
    }
}
