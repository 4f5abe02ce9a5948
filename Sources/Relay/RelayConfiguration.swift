import Chat
import CommandLineSupport
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
    /// own eviction (with its notice) always comes first. Coalescing is on (wire format, section 11).
    public var connection = Connection.Configuration.coalescing
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
    /// The most WHO_LIST entries in one message; longer lists are sent in several. Every ROOM_LIST and
    /// WHO_LIST message is also kept under `ChatLimits.maximumMessageSize`, whatever this says.
    public var maximumWhoEntriesPerMessage = 64

    // MARK: Limits that hold under attack (RelayCore+Limits.swift)

    /// The most connections (UDP and TCP, joined or not) from one address: one IPv4 address, or one
    /// IPv6 /64. More are refused like a full relay (UDP: CLOSE code 4; TCP: ERROR serverFull). nil:
    /// no limit (the `relay` command's default is 32).
    public var maximumConnectionsPerAddress: Int?
    /// The most connections from one address that have not been welcomed yet (handshakes in
    /// progress). nil: no limit (the `relay` command's default is 8).
    public var maximumHandshakesPerAddress: Int?
    /// A connection that has not sent an accepted HELLO this long after it was set up (UDP: the
    /// cookie handshake completed; TCP: the stream accepted) gets ERROR notJoined and is closed
    /// (UDP: CLOSE code 2).
    public var helloTimeout: Duration = .seconds(5)
    /// The most rooms one user may be in (at most `ChatLimits.maximumRoomsPerUser`).
    public var maximumRoomsPerUser = ChatLimits.maximumRoomsPerUser
    /// The most rooms on the relay; JOIN_ROOM that would create one more gets ERROR tooManyRooms.
    public var maximumRooms = 1_024
    /// A congested receiver (RelayCore+Backpressure.swift) that holds back the senders in its rooms
    /// and drains less than a quarter of its queue cap in this long has stopped reading: it is
    /// disconnected, with a notice to it and to its rooms, and the others resume.
    public var stalledReceiverTimeout: Duration = .seconds(5)
    /// Each sender's rate limit, or nil for none (the `relay` command's default is
    /// `RateLimit.commandLineDefault`).
    public var rateLimit: RateLimit?

    /// Relay administrators, by name (`relay --admin NAME`): operators in every room, and the only
    /// ones who may `/kill` and ban from the relay.
    public var administrators: [String] = []
    /// The secret an administrator presents with `/oper TOKEN` (MODERATE `oper`) before its rights
    /// apply; nil: holding an administrator's name is enough (weak: anyone can take a free name).
    /// The `relay` command draws one at start and prints it. Until identity keys and accounts exist
    /// (issues 10 and 11), this is what ties the rights to a person rather than to a name.
    public var administratorToken: String?
    /// File transfer limits (RelayCore+Files.swift).
    public var files = FileRelayLimits()
    /// With storage attached: how many of a room's last lines a user gets on joining it (0: none;
    /// `relay --history-lines`, Specs/chat-protocol.md, section 4.11).
    public var historyLinesOnJoin = 50

    /// The defaults.
    /// With `connection.sealing` set (the relay's static key and the crypto: the host passes
    /// `LibCryptoNoise`), every UDP session is sealed; a plaintext HELLO (16-byte body, no Noise
    /// message 1) is refused with CLOSE `refused` unless this is true (`relay --allow-plaintext`).
    /// Without `connection.sealing` the relay speaks plaintext only (as before; the tests' default).
    public var allowsPlaintext = false
    /// Announce a reset token in every sealed handshake (Specs/wire-format.md section 10.4), keyed
    /// with the relay's static key, so that a client honours only this relay's RESETs. Turn it on only
    /// with a static key that survives restarts (a key file): with a key drawn at each start, a
    /// restarted relay's RESET would carry another token and its clients would ignore it, noticing
    /// the restart only by their timers. `RelayHost` turns it on when it is given a key pair.
    public var announcesResetTokens = false

    public init() {}
}

/// A token bucket per sender: messages and bytes of chat messages per second, with a burst.
///
/// HEARTBEAT is not counted. A sender whose bucket runs dry is pushed back like a held-back sender
/// (RelayCore+Backpressure.swift) until it has refilled; what it already sent is handled, not dropped.
public struct RateLimit: Sendable, Hashable {
    /// Messages per second, refilled continuously.
    public var messagesPerSecond: Int
    /// Bytes (of encoded chat messages) per second.
    public var bytesPerSecond: Int
    /// How many seconds of rate the bucket holds when full (the burst a quiet sender may send at once).
    public var burstSeconds: Int

    /// A limit of `messagesPerSecond` and `bytesPerSecond`, with a burst of `burstSeconds` of each.
    public init(messagesPerSecond: Int, bytesPerSecond: Int, burstSeconds: Int = 4) {
        self.messagesPerSecond = max(1, messagesPerSecond)
        self.bytesPerSecond = max(ChatLimits.maximumMessageSize / max(1, burstSeconds), bytesPerSecond)
        self.burstSeconds = max(1, burstSeconds)
    }

    /// What the `relay` command uses unless told otherwise: 50 messages and 200,000 bytes per second,
    /// 4 seconds of burst (200 lines at once). A person typing, or pasting a page, never reaches it.
    public static let commandLineDefault = RateLimit(messagesPerSecond: 50, bytesPerSecond: 200_000)
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
    /// Sealed UDP handshakes completed (FINISH read: the peer is known by its static key).
    public var handshakesCompleted = 0
    /// Plaintext UDP sessions refused because `allowsPlaintext` is off.
    public var plaintextRefused = 0
    /// TCP streams closed because a frame (or a handshake message) did not open.
    public var streamFramesUnopened = 0
    /// PATH_CHALLENGEs sent to a new address of a sealed peer.
    public var pathChallengesSent = 0
    /// Peers moved to a new address after answering a path check.
    public var peersMigrated = 0
    /// Path checks given up: the new address stayed silent through `PathCheck.maximumTimedResends`
    /// challenges sent again on the timer (the peer stays at its old address).
    public var pathChecksAbandoned = 0
    /// Datagrams from a new address for a known connection that did not open (or were replays).
    public var roamingDropped = 0
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
    /// Connections refused because their address had too many connections or handshakes.
    public var addressLimitRefusals = 0
    /// Connections closed because they sent no accepted HELLO within `helloTimeout`.
    public var helloTimeouts = 0
    /// Receivers disconnected for holding back their rooms longer than `stalledReceiverTimeout`.
    public var stalledReceiversDisconnected = 0
    /// Times a sender ran out of its rate limit and was pushed back.
    public var rateLimitEpisodes = 0
    /// ROOM_LIST and WHO_LIST replies that took more than one message.
    public var pagedReplies = 0
    /// Bytes all UDP connections hold now for reordering and reassembly (`receiveBufferBudget`).
    public var receiveBufferedBytes = 0
    /// DATA packets refused unacknowledged because a connection's or the relay's receive budget was
    /// spent (they are sent again later).
    public var receiveBudgetRefused = 0
    /// Datagrams dropped because they carried another connection id than the one the endpoint's live
    /// connection uses (never answered, so no endpoint receives an id other than its own).
    public var foreignConnectionIDDropped = 0
    /// File transfers offered (one per recipient), completed with a verified hash, and ended otherwise.
    public var fileTransfersOffered = 0
    public var fileTransfersCompleted = 0
    public var fileTransfersCancelled = 0
    /// File offers refused (too large, bad name, no such user, ...).
    public var fileOffersRefused = 0
    /// File bytes forwarded in chunks.
    public var fileBytesForwarded = 0
    /// File messages about no transfer of the sender's (late chunks after a cancel, strays): dropped.
    public var fileMessagesIgnored = 0
    /// Batches of changes the data directory could not save (full disk, damaged file), each logged.
    public var storageFailures = 0
    /// SAY and PRIVATE messages dropped (and acknowledged again) because the data directory shows they
    /// were handled before a restart: a client's resend.
    public var resendsDropped = 0
    /// RECEIPTs passed on as DELIVERED, and those dropped (no such PRIVATE awaited, or its sender gone).
    public var receiptsDelivered = 0
    /// Failed password attempts (ACCOUNT identify or password).
    public var failedPasswordAttempts = 0
    /// Private messages stored for a registered user who was not connected.
    public var offlineMessagesStored = 0
    public var receiptsDropped = 0
    /// Chat messages the relay did not send because they were over `ChatLimits.maximumChatMessageSize`
    /// (a relay bug: every reply is paged within it), each logged at error level.
    public var oversizedNotSent = 0

    /// All zero.
    public init() {}
}
