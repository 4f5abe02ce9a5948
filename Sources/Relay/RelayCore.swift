import Chat
import CommandLineSupport
import Datagram

/// The relay as a pure state machine: peers, names, rooms and routing, for UDP and TCP users at once.
///
/// It never touches a socket, a clock or a random source. The driver (one serial queue) feeds it
/// inputs and carries out the actions it asks for:
///
/// - **Inputs.** `handleDatagram(_:from:at:)` for every UDP datagram received;
///   `handleStreamOpened(_:at:)`, `handleStreamBytes(_:from:at:)` and `handleStreamClosed(_:at:)` for
///   TCP streams; `handleStreamBacklog(_:for:at:)` after writing to a stream, with what is still
///   unwritten; `handleTimeout(at:)` when `nextDeadline` is reached; `beginShutdown(reason:at:)` once,
///   on SIGINT or SIGTERM.
/// - **Outputs.** After every input, call `pollAction()` until it returns nil and perform each action
///   in order (send a datagram, append to a stream, close a stream, log a line). Then re-arm the one
///   timer to `nextDeadline` (nil: no timer). Early `handleTimeout` calls are harmless.
/// - **Time** never goes backwards between calls. Every UDP peer's Datagram connection is driven from
///   inside: its transmissions become `.sendDatagram` actions and its timers are folded into
///   `nextDeadline`, so the driver keeps one timer for everything.
/// - **Shutdown.** After `beginShutdown`, keep driving until `isFinished`, then exit.
///
/// UDP endpoints without a connection are answered statelessly by a `CookieJar` (COOKIE or RESET);
/// a HELLO with a valid cookie creates one `Connection` per peer. TCP streams carry length-prefixed
/// frames (`FrameDecoder`). Malformed input is counted and dropped and never disturbs another peer;
/// a stream whose framing breaks is closed alone.
public struct RelayCore: Sendable {
    /// The limits this relay runs with.
    public let configuration: RelayConfiguration
    /// Relay-wide counters.
    public internal(set) var statistics = RelayStatistics()

    let cookieJar: CookieJar
    /// Derives a user's `SenderID` from its session secret (SHA-256, injected: the relay's host passes
    /// libcrypto's; this target stays pure).
    let senderIDs: @Sendable (SessionSecret) -> SenderID
    /// Caps repeated log lines (RelayLogLimiter.swift).
    var logLimiter = LogLimiter()
    let connectionConfiguration: Connection.Configuration
    var peers = InPlaceTable<Endpoint, Peer>()
    /// The Datagram connection of every UDP peer, by endpoint. Both tables update their values in place
    /// (InPlaceTable.swift): nothing is copied per datagram.
    var connections = InPlaceTable<Endpoint, Connection>()
    /// The handshake and keys of every TCP stream, by endpoint (RelayCore+StreamSealing.swift).
    var streamSeals: [Endpoint: StreamSealState] = [:]
    /// The endpoint of every UDP connection, by connection id (roaming: RelayCore+Roaming.swift).
    var connectionEndpoints: [ConnectionID: Endpoint] = [:]
    /// Path checks in progress, by the endpoint the peer lives at now.
    var pathChecks: [Endpoint: PathCheck] = [:]
    /// Canonical user name → the endpoint holding it.
    var names: [String: Endpoint] = [:]
    /// Sender id → the joined peers with that id (normally one), for receipts: found in the table, not
    /// by sorting every peer per receipt (RelayCore+Receipts.swift).
    var joinedBySender: [SenderID: [Endpoint]] = [:]
    /// Canonical room name → the room.
    var rooms: [String: Room] = [:]
    /// Canonical room name → its operators, bans and modes (RelayCore+Moderation.swift); outlives the
    /// room's membership while it has something to keep. Saved in the data directory when storage is
    /// attached (RelayCore+Storage.swift): the table remembers which rooms changed.
    public internal(set) var roomSettings = RoomSettingsTable()
    /// Bans from the whole relay (administrators' `/kline`), checked at HELLO.
    public internal(set) var relayBans: [Ban] = []
    /// Storage (RelayCore+Storage.swift): whether actions for the data directory are emitted, those
    /// not yet taken, and the relay-wide bans as last saved.
    var isStoring = false
    var storageActions: [StorageAction] = []
    var savedRelayBans: [Ban] = []
    var historyQueries: [HistoryQuery] = []
    /// History reads asked for and not answered yet, by ticket (RelayCore+HistoryOrder.swift).
    var historyReads: [UInt64: PendingHistoryRead] = [:]
    var nextHistoryTicket: UInt64 = 1
    /// Each session's highest SAY/PRIVATE id handled, as saved; and the sessions whose id changed
    /// since the last batch (RelayCore+Storage.swift).
    var handledMessageIDs: [SenderID: UInt64] = [:]
    var changedSessions: Set<SenderID> = []
    /// Sessions (by sender id) that presented `administratorToken` with `/oper`, with the name they
    /// held then: they are administrators while they hold that name.
    var operSessions: [SenderID: String] = [:]
    /// Failed `/oper` attempts, for the log.
    var failedOperAttempts = 0
    var actions: [RelayAction] = []
    var nextActionIndex = 0
    /// UDP peers whose connection may have events or datagrams waiting, in the order touched.
    var pendingConnections = PendingEndpoints()
    /// True inside `handleDatagrams`: datagrams that bring no event are drained at the batch's end.
    var isHandlingBatch = false
    var nextSerial = 0
    var shutdownReason: String?
    /// Peers whose send queue overflowed, disconnected at the end of the current input.
    var overflowedPeers: [Endpoint] = []
    /// Peers whose outgoing queue is over half its cap (see RelayCore+Backpressure.swift).
    var congestedPeers: Set<Endpoint> = []
    /// Each peer's current wake time, and the heap that orders them (RelayCore+Timers.swift).
    var wakeTimes: [Endpoint: Timestamp] = [:]
    var wakeQueue = WakeQueue()
    /// The limits' state (RelayCore+Limits.swift): connections by address, HELLO deadlines, when each
    /// congested peer became congested, each sender's rate bucket, and who is pushed back by it.
    var addressPeers: [AddressKey: Set<Endpoint>] = [:]
    var helloDeadlines: [Endpoint: Timestamp] = [:]
    var congestedSince: [Endpoint: CongestionMark] = [:]
    var senderBuckets: [Endpoint: SenderBucket] = [:]
    var rateLimitedUntil: [Endpoint: Timestamp] = [:]
    /// Accounts (RelayCore+Accounts.swift): registered names by skeleton, failed password attempts,
    /// and offline mailboxes by account (with their bytes together).
    public internal(set) var accounts: [String: Account] = [:]
    var passwordAttempts = AttemptLimiter()
    var mailboxes: [String: [OfflineMessage]] = [:]
    var mailboxBytes = 0
    /// Hashes passwords (scrypt from the host; nil: accounts by identity key only).
    public var passwordHashing: PasswordHashing?
    /// The wall clock at one moment of the relay's clock, set by the host: offline messages carry
    /// their original time (nil: time 0).
    public var wallClock: StorageClock?
    /// File transfers in progress or offered (RelayCore+Files.swift): positions only, no file bytes.
    var fileTransfers = RelayTransferTable()

    /// Creates a relay. `cookieSecret` keys the handshake cookies: draw it from the system's random
    /// source at start. `senderIDs` derives the sender id users see from a session secret (Specs/
    /// chat-protocol.md, section 4.6: `SenderID(deriving:sha256:)` with libcrypto's SHA-256). `now` is
    /// the driver's current time.
    public init(configuration: RelayConfiguration = RelayConfiguration(), cookieSecret: (UInt64, UInt64),
                senderIDs: @escaping @Sendable (SessionSecret) -> SenderID, at now: Timestamp) {
        self.configuration = configuration
        self.senderIDs = senderIDs
        var jar = CookieJar(secret: cookieSecret)
        if configuration.announcesResetTokens, let sealing = configuration.connection.sealing {
            // Keyed with the static key, so a restarted relay with the same key answers with the same tokens.
            let digest = sealing.crypto.hash(Array("datagram reset secret".utf8) + sealing.staticKeyPair.privateKey)
            if digest.count >= 16 {
                let word = { (offset: Int) in digest[offset..<offset + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
                jar.resetSecret = (word(0), word(8))
            }
        }
        self.cookieJar = jar
        var connection = configuration.connection
        // Room for every transfer's credit on the bulk channel (RelayCore+Files.swift), with its framing.
        connection.bulkSendQueueLimit = max(connection.bulkSendQueueLimit, Int(clamping: configuration.files.recipientWindow) * 4)
        connection.idleTimeout = max(connection.idleTimeout, configuration.peerTimeout * 2)
        connection.keepaliveInterval = Self.keepaliveInterval(configuration.connection.keepaliveInterval,
                                                              peerTimeout: configuration.peerTimeout)
        self.connectionConfiguration = connection
    }

    /// The keepalive rule both sides follow (Specs/chat-protocol.md, section 4.3): send something at
    /// least every third of the peer timeout WELCOME announces, and never less often than `preferred`.
    public static func keepaliveInterval(_ preferred: Duration, peerTimeout: Duration) -> Duration {
        min(preferred, peerTimeout / 3)
    }

    /// True once `beginShutdown` was called.
    public var isShuttingDown: Bool { shutdownReason != nil }

    /// True once shutdown has closed every peer: the driver may exit.
    public var isFinished: Bool { isShuttingDown && peers.isEmpty }

    /// The next action for the driver, or nil when there is nothing to do.
    public mutating func pollAction() -> RelayAction? {
        guard nextActionIndex < actions.count else {
            actions.removeAll(keepingCapacity: true)
            nextActionIndex = 0
            return nil
        }
        defer { nextActionIndex += 1 }
        return actions[nextActionIndex]
    }

    /// When `handleTimeout` must next be called: at or before the earliest of every peer's eviction
    /// time, every UDP connection's own timers, and the shutdown drain deadline. It may be early (a
    /// peer whose wake time moved later is looked at again then: RelayCore+Timers.swift), never late.
    public var nextDeadline: Timestamp? {
        [wakeQueue.first?.time, fileTransfers.nextExpiry].compactMap { $0 }.min()
    }

    /// Time has reached `now`: runs connection timers, evicts silent peers, ends overdue drains.
    /// Only the peers whose wake time has come are looked at.
    public mutating func handleTimeout(at now: Timestamp) {
        expireFileOffers(at: now)
        let due = takeDueEndpoints(at: now)
        for endpoint in due { enforceLimits(on: endpoint, at: now) }
        for endpoint in due { resendPathChallengeIfDue(endpoint, at: now) }
        for endpoint in due {
            guard let deadline = connections.withValue(for: endpoint, { $0.nextDeadline }) ?? nil, deadline <= now else { continue }
            connections[endpoint]?.handleTimeout(at: now)
            markPending(endpoint)
        }
        flushConnections(at: now)
        for endpoint in due {
            // Read in place: a `Peer` copy retains its name, rooms and buffers.
            guard let (drainDeadline, lastHeard) = peers.withValue(for: endpoint, { ($0.drainDeadline, $0.lastHeard) }) else { continue }
            if let deadline = drainDeadline {
                if deadline <= now { finishDraining(endpoint, at: now) }
            } else if now - lastHeard >= configuration.peerTimeout {
                if isHeldBack(endpoint) {
                    // Pushed back, its stream is not read (or its DATA refused): what it sends cannot
                    // be heard, so it is not silent. Holding back is bounded (stalled-receiver timeout,
                    // rate limit), so a dead peer is still removed soon after.
                    peers[endpoint]?.lastHeard = now
                } else {
                    evictSilentPeer(endpoint, at: now)
                }
            }
        }
        flushConnections(at: now)
        for endpoint in due { reschedule(endpoint) }
        pruneStaleWakeUps()
    }

    /// Starts a graceful shutdown (Specs/chat-protocol.md, section 4.3, step 5): every peer gets
    /// NOTICE serverShutdown; UDP peers are closed (CLOSE code 3) once they have acknowledged
    /// everything or `shutdownDrainTimeout` has passed, TCP streams are closed after the notice.
    /// From now on no new chat message is taken in: a UDP user's DATA is refused unacknowledged (its
    /// client keeps it and sends it again after reconnecting), streams are no longer read. So nothing
    /// acknowledged is lost, even to a user already closed. New connections are refused: a TCP
    /// client gets NOTICE serverShutdown and the stream is closed; a UDP client gets its COOKIE and
    /// then CLOSE code 3.
    public mutating func beginShutdown(reason: String = "", at now: Timestamp) {
        guard shutdownReason == nil else { return }
        shutdownReason = reason
        for endpoint in connections.keys { connections[endpoint]?.isAcceptingData = false }
        log(.info, "shutting down\(reason.isEmpty ? "" : " (\(reason))"): \(peers.count) peers to close")
        let deadline = now + configuration.shutdownDrainTimeout
        for endpoint in orderedEndpoints() {
            send(.notice(Notice(kind: .serverShutdown, detail: reason)), to: endpoint, at: now)
            peers[endpoint]?.drainDeadline = deadline
            reschedule(endpoint)
        }
        flushConnections(at: now)
        for endpoint in orderedEndpoints() where endpoint.transport == .tcp || connections[endpoint]?.isIdle == true {
            finishDraining(endpoint, at: now)
        }
        flushConnections(at: now)
    }

    /// The joined users, in connection order, as WHO shows them.
    public var users: [WhoEntry] {
        orderedEndpoints().compactMap { peers[$0] }.filter(\.isJoined).map { whoEntry($0) }
    }

    // MARK: - Shared plumbing

    /// The joined peer with sender id `sender` that connected first, if any.
    func joinedEndpoint(of sender: SenderID) -> Endpoint? {
        joinedBySender[sender]?.compactMap { peers[$0] }.filter(\.isJoined).min { $0.serial < $1.serial }?.endpoint
    }

    mutating func forgetSender(_ sender: SenderID, at endpoint: Endpoint) {
        joinedBySender[sender]?.removeAll { $0 == endpoint }
        if joinedBySender[sender]?.isEmpty == true { joinedBySender[sender] = nil }
    }

    func orderedEndpoints() -> [Endpoint] {
        peers.values.sorted { $0.serial < $1.serial }.map(\.endpoint)
    }

    mutating func log(_ level: LogLevel, _ line: String) {
        actions.append(.log(level, line))
    }

    mutating func addPeer(_ endpoint: Endpoint, connection: Connection?, connectionID: ConnectionID?, at now: Timestamp) {
        var peer = Peer(endpoint: endpoint, serial: nextSerial, lastHeard: now)
        connections[endpoint] = connection
        peer.connectionID = connectionID
        if let connectionID { connectionEndpoints[connectionID] = endpoint }
        if endpoint.transport == .tcp { peer.frames = FrameDecoder() }
        nextSerial += 1
        peers[endpoint] = peer
        statistics.peers = peers.count
        trackLimits(ofNew: endpoint, at: now)
        reschedule(endpoint)
    }

    /// `peer`'s WHO row as `viewer` sees it: the address only in the viewer's own row (nil: the
    /// relay's own view, with every address).
    func whoEntry(_ peer: Peer, for viewer: Endpoint? = nil) -> WhoEntry {
        let endpoint = viewer == nil || viewer == peer.endpoint ? peer.endpoint.addressDescription : ""
        return WhoEntry(name: peer.name, transport: peer.endpoint.transport, endpoint: endpoint,
                 roundTripTime: peer.roundTripTime(connection: connections[peer.endpoint]?.statistics,
                                                    initialRTT: connectionConfiguration.initialRTT), rooms: peer.rooms.compactMap { rooms[$0]?.name })
    }
}
