/// A reliable-datagram connection as a pure state machine: the sans-IO core.
///
/// A `Connection` never touches a socket, a clock or a random source. Its driver (Transport over real
/// UDP, or a simulated link in tests) feeds it input and drains its output:
///
/// - **Inputs.** `send(_:on:at:)` queues an application message. `handleDatagram(_:at:)` feeds one UDP
///   payload that arrived from the peer. `handleTimeout(at:)` says that time has reached `nextDeadline`
///   (calling it early, or when nothing is due, is harmless). `close(code:at:)` ends the connection.
/// - **Outputs.** `pollTransmit(at:)` returns the next datagram to send, or nil when nothing may go now
///   (nothing queued, or the congestion window is full); `pollTransmit(into:at:)` does the same into a
///   buffer the driver reuses. `pollEvent()` returns the next `Event`.
///   `nextDeadline` is the one instant at which `handleTimeout` must next be called; nil means no timer.
///
/// After *every* input, the driver drains `pollTransmit` until it returns nil, then `pollEvent` until
/// nil, then re-arms its single timer to `nextDeadline` (replacing, never adding to, the previous one).
/// Reading `nextDeadline` before draining would miss deadlines that sending creates.
///
/// Every input carries the current `Timestamp`, and time never goes backwards: a timestamp earlier
/// than one already seen is treated as that latest one. The connection reports every way it can end
/// as an `Event.closed`; once closed it ignores input, `pollTransmit` yields at most one CLOSE, and
/// `takeUnacknowledgedMessages()` hands back every reliable message the peer never acknowledged.
///
/// Inside, packets carry their own numbers, which are never reused (a retransmission is a fragment in
/// a new packet), acknowledgements ride in every packet's header, and loss recovery follows RFC 9002.
/// Specs/reliability.md walks through it; Specs/wire-format.md is the byte layout.
public struct Connection: Sendable {
    /// The connection's id on the wire.
    public let id: ConnectionID
    /// Which end this is.
    public let role: Role
    let configuration: Configuration
    /// Where the connection is in its life.
    public internal(set) var state: ConnectionState
    var counters = Statistics()
    var now: Timestamp

    // Sending and loss recovery.
    /// The number of the first packet sent; acknowledgements are only believed for [first, next).
    let firstPacketNumber: UInt32
    var nextPacketNumber: UInt32
    var sentPackets = SentPacketTable()
    var sendQueue = SendQueue()
    /// Channel 2's messages: sent only when `sendQueue` has nothing the window allows.
    var bulkQueue = SendQueue(reliableChannel: .bulk)
    var rtt: RTTEstimator
    var congestion: SelectedCongestionController
    var bytesInFlight = 0
    var ackElicitingInFlight = 0
    var largestAcknowledged: UInt32?
    var lastAckElicitingSentTime: Timestamp?
    var lossTime: Timestamp?
    var consecutiveProbeTimeouts = 0
    var probesToSend = 0
    var isWindowLimited = false
    /// The latest RTT sample less the peer's ack delay, minus the smallest sample: how long the
    /// queues on the path held the newest acknowledged packet (`bulkQueueingTarget`).
    var queueingDelay: Duration = .zero
    /// The path's recent delay without queues, which `queueingDelay` is measured from.
    var baseDelay = RecentMinimum()
    /// Bytes in flight up to which new bulk fragments may be sent (`bulkQueueingTarget`).
    var bulkWindow = 4 * Limits.maximumDatagramSize
    /// No decrease of `bulkWindow` before then: once per round trip.
    var bulkDecreaseAllowedAt: Timestamp?
    /// The fraction of recent ack-eliciting packets declared lost, in 1/65536ths: a moving average
    /// over about 64 packets (`congestionQueueThreshold`).
    var recentLossRate: UInt32 = 0
    /// The smallest queueing delay of the current span of a round trip (at least 1 ms) and the span
    /// before: what the path's queues held at their emptiest, lately. A standing queue keeps it up;
    /// a burst that drains again does not (CoDel's distinction; `congestionQueueThreshold`).
    var standingQueue = RecentMinimum()
    var hasPeerAcknowledged = false
    var nextMessageID: UInt64 = 1

    // Receiving and acknowledging.
    var receivedPackets = ReceivedPackets()
    var reorderBuffer: ReorderBuffer
    /// Channel 2's in-order delivery (its own message numbers).
    var bulkReorderBuffer: ReorderBuffer
    var unreliableReassembly: UnreliableReassembly
    var ackElicitingSinceAcknowledgement = 0
    var ackDeadline: Timestamp?
    var isAckImmediate = false
    /// While true, an acknowledgement that is due rides only on a packet sent anyway (data, PING,
    /// CLOSE), never in an ACK packet of its own. A driver handling a batch of datagrams read at once
    /// (`recvmmsg`) sets it for the batch and clears it before its last `pollTransmit`, so the batch
    /// draws one ACK instead of one per second packet, as QUIC stacks acknowledge per receive batch.
    /// The ack delay the ACK reports still counts from the arrival of the largest packet.
    public var holdsAcknowledgements = false
    var lastReceiveTime: Timestamp
    var deliveredScratch: [[UInt8]] = []
    /// Since when reliable data has waited without the head of the line moving (nil: nothing waits).
    var headOfLineSince: Timestamp?
    /// Bytes that may be held for reordering and reassembly (see `receiveBufferBudget`).
    var receiveBudget: Int

    // Handshake, liveness and closing.
    var cookie = [UInt8](repeating: 0, count: HeaderLayout.cookieSize)
    var isHelloPending = false
    var isWelcomePending = false
    var isPingPending = false
    var pendingCloseCode: CloseCode?
    /// When this end last sent something ack-eliciting (keepalive: Connection+Timers.swift).
    var keepaliveReference: Timestamp
    /// 1.5 keepalive intervals after the peer's last PING (nil: none yet): its keepalive runs, and
    /// this end sends none of its own before then while nothing of its own is in flight
    /// (`keepaliveDeadline`). Computed once per PING: `Duration` arithmetic is 128-bit.
    var quietUntil: Timestamp?
    var events = Deque<Event>()
    /// The Noise handshake and the keys of a sealed session; nil in plaintext (`Configuration.sealing`).
    var seal: SealState?
    /// PATH_CHALLENGE data to echo in PATH_RESPONSE packets (at most 4 waiting).
    var pendingPathResponses: [[UInt8]] = []
    /// PATH_RESPONSE data received, for the server's driver (`takePathResponses`).
    var receivedPathResponses: [[UInt8]] = []
    /// A packet already numbered and recorded that did not fit the coalesced datagram before it: the
    /// next `pollTransmit` sends it first (Connection+Coalescing.swift).
    var heldPacket: [UInt8] = []
    /// Small messages are copied until then (`copiesSmallMessagesUnderLoss`; set at each declared loss).
    var redundancyUntil: Timestamp?
    /// The reliable fragment to send again in a datagram of its own, as a copy.
    var pendingCopy: UInt64?
    /// True while `pollCoalesced` adds packets to a datagram it has started: a copy must not share the
    /// original's datagram (a lost datagram loses both).
    var isJoiningDatagram = false
    /// The packet being built is a copy: it is not copied again.
    var isSendingCopy = false

    /// Creates a connection. A client starts its handshake at once (its first `pollTransmit` is a HELLO);
    /// a server is created established, emits `.connected`, and answers with WELCOME.
    ///
    /// `firstPacketNumber` is the number of the first packet this end sends. Drivers MUST pass a random
    /// value (wire format, section 4: it is what keeps an off-path attacker from guessing a packet number
    /// inside the acceptance window); the relay and the client draw it from real randomness, the
    /// simulator from its seed, tests choose it. The default, 0, is for tests only.
    public init(role: Role, id: ConnectionID, configuration: Configuration = Configuration(),
                now: Timestamp, firstPacketNumber: UInt32 = 0) {
        self.id = id
        self.role = role
        self.configuration = configuration
        self.now = now
        // Sealed: the first number's top bit is 0, so the 32-bit counter cannot wrap during the
        // handshake and both ends agree on the extended packet numbers (the nonces).
        let first = configuration.sealing == nil ? firstPacketNumber : firstPacketNumber & 0x7FFF_FFFF
        self.firstPacketNumber = first
        nextPacketNumber = first
        receiveBudget = Swift.max(0, configuration.receiveBufferBudget)
        rtt = RTTEstimator(initialRTT: configuration.initialRTT)
        congestion = SelectedCongestionController(configuration.congestionControl)
        reorderBuffer = ReorderBuffer(limit: configuration.reorderBufferLimit)
        bulkReorderBuffer = ReorderBuffer(limit: configuration.reorderBufferLimit)
        unreliableReassembly = UnreliableReassembly(limit: configuration.reorderBufferLimit)
        lastReceiveTime = now
        keepaliveReference = now
        isTracingEnabled = configuration.isTracing
        switch role {
        case .client:
            state = .connecting
            isHelloPending = true
        case .server:
            state = .established
            isWelcomePending = true
            events.append(.connected)
        }
        if let sealing = configuration.sealing {
            sendQueue.geometry = .sealed
            bulkQueue.geometry = .sealed
            do {
                seal = try SealState(sealing: sealing, role: role, id: id)
            } catch {
                finish(.handshakeFailed("cannot start the Noise handshake: \(error)"), closeCode: nil)
            }
        }
    }

    /// True when this connection seals its packets (`Configuration.sealing` was set).
    public var isSealed: Bool { configuration.sealing != nil }

    /// The peer's static public key, once the handshake has proved it (client: after WELCOME and the
    /// key check; server: after FINISH). Nil in plaintext.
    public var remoteStaticKey: [UInt8]? { seal?.remoteStaticKey }

    /// Server, sealed: the 16-byte reset token to announce in message 2 (Specs/wire-format.md section
    /// 10.4: `CookieJar.resetToken(for:)`, so a server that lost the connection can still prove a
    /// RESET). Set it before the HELLO is handled; nil announces none.
    public var resetToken: [UInt8]? {
        get { seal?.resetToken }
        set {
            guard seal != nil, newValue.map({ $0.count == NoiseMessageLength.resetToken }) ?? true else { return }
            seal?.resetToken = newValue
        }
    }

    /// The data of every PATH_RESPONSE received since the last call (wire format, section 10.8).
    public mutating func takePathResponses() -> [[UInt8]] {
        defer { receivedPathResponses = [] }
        return receivedPathResponses
    }

    /// A sealed PATH_CHALLENGE carrying `data` (8 bytes), numbered and recorded like any packet, for
    /// the driver to send to a new address; nil before the keys exist, in plaintext, or once closed.
    public mutating func pathChallengeDatagram(_ data: [UInt8], at now: Timestamp) -> [UInt8]? {
        advanceClock(to: now)
        guard !isClosed, data.count == 8, seal?.sending != nil else { return nil }
        var datagram: [UInt8] = []
        transmitPacket(.pathChallenge(data), into: &datagram)
        return datagram
    }

    /// True once the transport keys exist (both directions sealed from now on).
    public var isHandshakeComplete: Bool { seal?.hasKeys ?? false }

    var isTracingEnabled: Bool

    /// Counters and current estimates.
    public var statistics: Statistics {
        var result = counters
        result.smoothedRTT = rtt.smoothed
        result.minimumRTT = rtt.minimum
        result.rttVariance = rtt.variance
        result.latestRTT = rtt.latest
        result.probeTimeout = currentProbeTimeout
        result.congestionWindow = congestion.window
        result.bytesInFlight = bytesInFlight
        result.queuedBytes = sendQueue.queuedBytes + bulkQueue.queuedBytes
        result.receiveBufferedBytes = reorderBuffer.heldBytes + unreliableReassembly.heldBytes + bulkReorderBuffer.heldBytes
        return result
    }

    /// The few figures a relay reads before and after every datagram, without assembling the whole
    /// `statistics` (a relay used to build it twice per datagram).
    public var receiveAccounting: ReceiveAccounting {
        ReceiveAccounting(packetsHeard: counters.packetsReceived + counters.dataRefused,
                          receiveBufferedBytes: reorderBuffer.heldBytes + unreliableReassembly.heldBytes + bulkReorderBuffer.heldBytes,
                          receiveBudgetDropped: counters.receiveBudgetDropped)
    }

    /// Bytes queued on every channel and not yet acknowledged (`statistics.queuedBytes`).
    public var totalQueuedBytes: Int { sendQueue.queuedBytes + bulkQueue.queuedBytes }

    /// True when `pollEvent()` has something to return.
    public var hasEvents: Bool { !events.isEmpty }

    /// Tracing can be switched on and off at run time (`/trace on`).
    public var isTracing: Bool {
        get { isTracingEnabled }
        set { isTracingEnabled = newValue }
    }

    /// Whether DATA from the peer is taken in (receive-side flow control; true by default).
    ///
    /// While false, every DATA packet is refused the way a full reorder buffer refuses one: the
    /// acknowledgements in its header are used, but the packet is not recorded, so it is never
    /// acknowledged and the peer's loss recovery sends it again later, with its congestion controller
    /// slowing down meanwhile. A relay turns this off for a sender whose messages go to a peer that
    /// cannot keep up, instead of queueing without bound or dropping what it already acknowledged.
    public var isAcceptingData = true

    /// Bytes the receiver may hold for reliable messages after the next one to deliver plus incomplete
    /// unreliable messages; starts at `Configuration.receiveBufferBudget`. A server lowers it for a peer
    /// it does not trust yet (a chat user who has not joined) and raises it later; a relay sets it to 0
    /// while its total is over budget. Lowering it never discards what is already held (acknowledged
    /// data is never thrown away); it only refuses, unacknowledged, what would go beyond it.
    public var receiveBufferBudget: Int {
        get { receiveBudget }
        set { receiveBudget = Swift.max(0, newValue) }
    }

    /// True when every message sent has been acknowledged and nothing is waiting to go.
    public var isIdle: Bool { sendQueue.isEmpty && bulkQueue.isEmpty }

    /// Bytes queued on `channel` and not yet acknowledged (unreliable ones: not yet sent); the
    /// reliable-ordered and unreliable channels share one queue and one limit.
    public func queuedBytes(on channel: Channel) -> Int {
        channel == .bulk ? bulkQueue.queuedBytes : sendQueue.queuedBytes
    }

    /// True once the connection has ended.
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Queues a message. Messages may be queued before the handshake finishes. Messages of up to
    /// `Limits.maximumMessageSize` bytes are split into fragments of `Limits.maximumFragmentPayload`.
    @discardableResult
    public mutating func send(_ message: [UInt8], on channel: Channel = .reliableOrdered,
                              at now: Timestamp) throws(SendError) -> MessageID {
        advanceClock(to: now)
        guard !isClosed else { throw .connectionClosed }
        guard message.count <= Limits.maximumMessageSize else {
            throw .messageTooLarge(size: message.count, limit: Limits.maximumMessageSize)
        }
        // Each queue has its own limit, so bulk data never takes the room chat needs.
        let queued = queuedBytes(on: channel)
        let limit = channel == .bulk ? configuration.bulkSendQueueLimit : configuration.sendQueueLimit
        if queued > 0, queued + message.count > limit {
            throw .sendQueueFull(queuedBytes: queued, limit: limit)
        }
        let id = MessageID(rawValue: nextMessageID)
        nextMessageID += 1
        if channel == .bulk {
            bulkQueue.enqueue(message, id: id, on: channel)
        } else {
            sendQueue.enqueue(message, id: id, on: channel)
        }
        counters.messagesSent += 1
        return id
    }

    /// The next event for the application, or nil.
    public mutating func pollEvent() -> Event? {
        events.popFirst()
    }

    /// After `.closed`: the reliable messages never acknowledged, oldest first, so an application can
    /// send them again on a new connection. Empties the list.
    public mutating func takeUnacknowledgedMessages() -> [[UInt8]] {
        guard isClosed else { return [] }
        return sendQueue.takeUnacknowledged() + bulkQueue.takeUnacknowledged()
    }

    mutating func advanceClock(to time: Timestamp) {
        if time > now { now = time }
    }

    /// Queues a trace event when tracing is on (callers building costly fates check the flag first).
    /// Hot paths test `isTracingEnabled` before building a fate (its strings cost more than the rest).
    mutating func emit(_ fate: PacketFate) {
        if isTracingEnabled { events.append(.trace(fate)) }
    }

    /// Ends the connection with `reason`, queuing a CLOSE with `code` when one should be sent.
    mutating func finish(_ reason: CloseReason, closeCode: CloseCode?) {
        guard !isClosed else { return }
        let wasEstablished = state == .established
        state = .closed(reason)
        if let closeCode, wasEstablished || role == .server { pendingCloseCode = closeCode }
        sentPackets.removeAll()
        bytesInFlight = 0
        ackElicitingInFlight = 0
        lossTime = nil
        ackDeadline = nil
        events.append(.closed(reason))
    }

    /// Closes at once: queues one CLOSE with `code` and moves to `.closed(.local)`.
    public mutating func close(code: CloseCode = .normal, at now: Timestamp) {
        advanceClock(to: now)
        finish(.local, closeCode: code)
    }
}

/// What `Connection.receiveAccounting` reports.
public struct ReceiveAccounting: Sendable, Hashable {
    /// Packets received, plus DATA refused (heard but not taken in).
    public var packetsHeard: Int
    /// Bytes held for reassembly and reordering.
    public var receiveBufferedBytes: Int
    /// DATA refused because the receive budget was spent.
    public var receiveBudgetDropped: Int

    public init(packetsHeard: Int = 0, receiveBufferedBytes: Int = 0, receiveBudgetDropped: Int = 0) {
        self.packetsHeard = packetsHeard
        self.receiveBufferedBytes = receiveBufferedBytes
        self.receiveBudgetDropped = receiveBudgetDropped
    }
}
