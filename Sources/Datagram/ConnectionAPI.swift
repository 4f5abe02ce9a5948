// The public vocabulary of a connection: its configuration, errors, events and statistics.
// `Connection` itself is in Connection.swift. The generic names (`Role`, `Configuration`,
// `CloseReason`, `Event`, `Statistics`) are nested in `Connection`, so another module can use them
// without qualifying them by module name (`Connection.Event`, not `Datagram.Event`).

extension Connection {
    /// Which end of a connection this is.
    public enum Role: Sendable, Hashable {
        /// Starts the handshake (HELLO, then HELLO with the cookie), then waits for WELCOME.
        case client
        /// Created by a server once a HELLO with a valid cookie arrives; answers it with WELCOME.
        case server
    }
}

/// Which congestion controller a connection uses.
public enum CongestionControl: Sendable, Hashable {
    /// NewReno counted in bytes, as in RFC 9002 section 7.
    case newReno
    /// No congestion control: the window is unlimited (for the demo; do not use on a shared network).
    case disabled
}

extension Connection {
    /// The tunable parameters of a connection. The defaults follow RFC 9002 where it gives one, except
    /// the two that bound recovery time on short paths (`maximumAckDelay`, `minimumProbeTimeout`): chat
    /// messages come one at a time, so a lost one is recovered by the probe timeout, which includes the
    /// peer's ack delay. 2 ms instead of QUIC's 25 ms cut the 99th-percentile latency at 5 % loss on
    /// loopback from 41 ms to 4 ms and cost almost nothing (bulk data is acknowledged every second
    /// packet anyway). Both ends must use the same `maximumAckDelay`.
    public struct Configuration: Sendable, Hashable {
        /// The RTT assumed before the first sample (RFC 9002: 333 ms).
        public var initialRTT: Duration = .milliseconds(333)
        /// The smallest probe timeout ever armed, whatever the RTT says.
        public var minimumProbeTimeout: Duration = .milliseconds(2)
        /// The largest probe timeout exponential backoff may reach.
        public var maximumProbeTimeout: Duration = .seconds(10)
        /// How long a receiver may delay an acknowledgement (RFC 9002's max_ack_delay, 25 ms there; 2 ms
        /// here, see above). The probe timeout adds the peer's value, so keep it the same at both ends.
        public var maximumAckDelay: Duration = .milliseconds(2)
        /// Send a PING after this long without sending anything ack-eliciting.
        public var keepaliveInterval: Duration = .seconds(2)
        /// Close with `.idleTimeout` after this long without receiving a valid packet. The timer runs from
        /// creation, so it also bounds a handshake that never gets an answer.
        public var idleTimeout: Duration = .seconds(10)
        /// Close with `.probeTimeout` after this many consecutive probe timeouts go unanswered, provided
        /// the last one had already backed off to `maximumProbeTimeout` (so a path with a tiny RTT is not
        /// given up within a second).
        public var maximumProbeCount: Int = 8
        /// Messages may queue up to this many bytes (not yet acknowledged) before `send` pushes back.
        public var sendQueueLimit: Int = 1 << 20
        /// The same, for the bulk channel (2) alone: its messages do not count toward
        /// `sendQueueLimit`, nor chat's toward this.
        public var bulkSendQueueLimit: Int = 256 << 10
        /// Fragments the receiver holds out of order, per channel, at most. Also the reliable channel's
        /// message window: a message `reorderBufferLimit` or more beyond the next one to deliver is refused.
        public var reorderBufferLimit: Int = 2048
        /// Bytes the receiver may hold for reliable messages after the next one to deliver plus incomplete
        /// unreliable messages (Specs/reliability.md, "Receive memory"). The default holds a full
        /// `reorderBufferLimit` of fragments, so a conforming sender never meets it; a server may start a
        /// connection with less and raise it later (`Connection.receiveBufferBudget`). The next message to
        /// deliver is always accepted on top of this (at most `Limits.largestHeldMessage` bytes).
        public var receiveBufferBudget: Int = 4 << 20
        /// The congestion controller.
        public var congestionControl: CongestionControl = .newReno
        /// Emit `Event.trace` for every packet fate.
        public var isTracing: Bool = false
        /// Seal the session with Noise XX (Specs/noise.md, wire format section 9); nil: plaintext.
        public var sealing: Sealing?
        /// Put several ready packets into one datagram once established (wire format, section 10):
        /// only what is ready when `pollTransmit` is called, so a lone packet is never delayed. The
        /// peer must understand coalesced datagrams (every receiver of this version does).
        public var coalescesPackets: Bool = false
        /// Send a message of one small fragment (`Limits.redundantCopyPayload` bytes or fewer) twice,
        /// in two datagrams, for `redundancyHold` after any packet was declared lost
        /// (Specs/reliability.md, "Copies of small messages under loss"): at 1 % random loss a chat
        /// line then arrives at the first try but once in 10,000 instead of once in 100, instead of
        /// waiting a loss-detection delay. Nothing changes on a path that loses nothing, so a clean
        /// path costs no extra bytes; under loss a copy costs a chat line's bytes again.
        public var copiesSmallMessagesUnderLoss: Bool = false
        /// How long after the last declared loss small messages are still copied.
        public var redundancyHold: Duration = .seconds(10)
        /// The bulk channel (2) yields to queues: new bulk fragments are held to a second window that
        /// shrinks while RTT samples (less the peer's ack delay) exceed the path's recent minimum by
        /// more than this, or by half that minimum if it is larger (Specs/reliability.md, "The bulk
        /// channel yields to queues"). A file then fills the queues on its path only to about this
        /// delay, so a chat message sent meanwhile waits behind little file data. nil: bulk is limited
        /// by the congestion window alone.
        public var bulkQueueingTarget: Duration? = nil

        /// A loss counts as congestion, and halves the window as RFC 9002 says, only when the path
        /// shows a standing queue of more than this (or of half its base delay, if larger), or when
        /// more than an eighth of recent packets were lost. Otherwise it is taken as a lossy link's
        /// noise (radio, a bad cable, an nftables rule) and the window stays: NewReno's halving for
        /// each such loss caps the rate at a few packets per round trip however fast the path is.
        /// The standing queue is the smallest queueing delay of the last round trip or two, so a
        /// burst that drains does not count and a full buffer does. nil: every loss counts
        /// (Specs/reliability.md, "Loss without a queue").
        public var congestionQueueThreshold: Duration? = nil

        /// The defaults above.
        public init() {}

        /// True when RTT samples feed the queueing measure (for either of the two settings above).
        var measuresQueueing: Bool { bulkQueueingTarget != nil || congestionQueueThreshold != nil }

        /// The defaults with `coalescesPackets` and `copiesSmallMessagesUnderLoss` on, a
        /// `bulkQueueingTarget` of 200 µs and a `congestionQueueThreshold` of 1 ms: what the relay and
        /// the chat client use.
        public static var coalescing: Configuration {
            var configuration = Configuration()
            configuration.coalescesPackets = true
            configuration.copiesSmallMessagesUnderLoss = true
            configuration.bulkQueueingTarget = .microseconds(200)
            configuration.congestionQueueThreshold = .milliseconds(1)
            return configuration
        }
    }
}

/// Why `send` refused a message. Nothing was queued when it throws.
public enum SendError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message is larger than `Limits.maximumMessageSize`.
    case messageTooLarge(size: Int, limit: Int)
    /// Accepting it would exceed `Configuration.sendQueueLimit`; try again after some are acknowledged.
    case sendQueueFull(queuedBytes: Int, limit: Int)
    /// The connection is closing or closed.
    case connectionClosed

    /// A sentence for an error message.
    public var description: String {
        switch self {
        case let .messageTooLarge(size, limit): "message of \(size) bytes exceeds the maximum of \(limit) bytes"
        case let .sendQueueFull(queued, limit): "send queue full (\(queued) of \(limit) bytes waiting for acknowledgement)"
        case .connectionClosed: "connection is closed"
        }
    }
}

extension Connection {
    /// Why a connection ended.
    public enum CloseReason: Sendable, Hashable {
        /// This side called `close`.
        case local
        /// The peer sent CLOSE with this code (see the wire format, section 7).
        case peer(code: CloseCode)
        /// The peer answered with RESET: it has no state for us (for example, it restarted).
        case reset
        /// Nothing valid was received for `Configuration.idleTimeout`.
        case idleTimeout
        /// `Configuration.maximumProbeCount` probe timeouts in a row went unanswered.
        case probeTimeout
        /// The peer broke the protocol in a way that cannot end well: reliable data that can never be
        /// delivered waited longer than the idle timeout (it did not start its message numbers at 0, or
        /// never filled a gap). CLOSE code 2 is sent.
        case protocolViolation
        /// A sealed session's handshake could not complete: the peer's key was rejected by
        /// `Sealing.checkPeerKey`, or the peer does not speak the sealed protocol. Says which.
        case handshakeFailed(String)
        /// `Sealing.maximumFailedOpenings` sealed packets failed to open (the AEAD's forgery limit):
        /// the keys are retired. CLOSE code 2 is sent; the peer handshakes again.
        case tooManyFailedOpenings
    }
}

extension Connection {
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

extension Connection {
    /// Counters and estimates for one connection. All byte counts are whole datagrams.
    public struct Statistics: Sendable, Hashable {
        /// Packets handed out by `pollTransmit` (a coalesced datagram carries several).
        public var packetsSent = 0
        /// Bytes of the datagrams handed out (coalescing's prefix and lengths included).
        public var bytesSent = 0
        /// Valid datagrams for this connection fed to `handleDatagram` (duplicates included; packets
        /// outside the acceptance window are not: see `outOfWindowDropped`).
        public var packetsReceived = 0
        /// Bytes of those datagrams.
        public var bytesReceived = 0
        /// Fragments sent again: because the packet carrying them was declared lost, or as a probe.
        public var retransmissions = 0
        /// Packets that carried a copy of a small message sent just before (`copiesSmallMessagesUnderLoss`).
        public var redundantCopies = 0
        /// Packets declared lost (by packet or time threshold).
        public var packetsLost = 0
        /// Loss events that left the congestion window alone because the path showed no standing
        /// queue (`Configuration.congestionQueueThreshold`).
        public var lossesTakenAsNoise = 0
        /// Probe timeouts that fired.
        public var probeTimeouts = 0
        /// Packets received that had been received before.
        public var duplicatesDropped = 0
        /// Fragments that arrived ahead of a gap and waited in the reorder buffer.
        public var outOfOrderBuffered = 0
        /// DATA packets refused, unacknowledged, while `Connection.isAcceptingData` was false.
        public var dataRefused = 0
        /// Datagrams whose checksum did not match.
        public var corruptDropped = 0
        /// Reliable DATA packets dropped unacknowledged because the reorder buffer was full (the sender
        /// retransmits them). A peer that follows the window rule never causes this.
        public var reorderBufferDropped = 0
        /// Datagrams too short, of another protocol or version, or otherwise unparseable.
        public var malformedDropped = 0
        /// Packets whose number lies outside the acceptance window (more than
        /// `Limits.packetNumberWindow` from the largest received): dropped without touching any state.
        public var outOfWindowDropped = 0
        /// DATA packets refused, unacknowledged, as protocol violations: a fragment count that disagrees
        /// with an earlier fragment of the same message, or a reliable message number that can never be
        /// delivered (outside the message window).
        public var protocolViolations = 0
        /// DATA packets refused, unacknowledged, because buffering them would exceed
        /// `receiveBufferBudget` (the sender retransmits them later).
        public var receiveBudgetDropped = 0
        /// Bytes held right now for reassembly and reordering, as the receive budget counts them.
        public var receiveBufferedBytes = 0
        /// Datagrams that carried more than one packet (coalesced, wire format section 11).
        public var coalescedDatagrams = 0
        /// Packets sent inside those datagrams (`packetsSent` counts every packet).
        public var coalescedPackets = 0
        /// Messages accepted by `send`.
        public var messagesSent = 0
        /// Messages delivered as `Event.message`.
        public var messagesDelivered = 0
        /// The smoothed RTT (RFC 9002 smoothed_rtt); the initial RTT before any sample.
        public var smoothedRTT: Duration = .zero
        /// The smallest RTT sample seen (min_rtt); zero before any sample.
        public var minimumRTT: Duration = .zero
        /// The RTT variation (rttvar).
        public var rttVariance: Duration = .zero
        /// The most recent RTT sample (latest_rtt).
        public var latestRTT: Duration = .zero
        /// The probe timeout currently in force, backoff included.
        public var probeTimeout: Duration = .zero
        /// The congestion window in bytes (very large when congestion control is disabled).
        public var congestionWindow = 0
        /// Bytes of ack-eliciting packets sent and neither acknowledged nor lost.
        public var bytesInFlight = 0
        /// Bytes of messages accepted by `send` and not yet acknowledged.
        public var queuedBytes = 0
        /// Sealed packets that did not open (forged, tampered, truncated, under an unknown key, or
        /// arriving before the keys exist): dropped, never acknowledged, no state changed.
        public var unopenedDropped = 0
        /// Handshake messages that could not be read, or repeated with different bytes: dropped.
        public var handshakeFailures = 0
        /// Key rotations of the sending direction.
        public var keyUpdatesSent = 0
        /// Key rotations of the receiving direction the peer started.
        public var keyUpdatesReceived = 0

        /// All counters at zero.
        public init() {}
    }
}

/// Where a connection is in its life.
public enum ConnectionState: Sendable, Hashable {
    /// The client's handshake is under way.
    case connecting
    /// Messages flow.
    case established
    /// The connection ended, for this reason; it ignores all further input.
    case closed(Connection.CloseReason)
}
