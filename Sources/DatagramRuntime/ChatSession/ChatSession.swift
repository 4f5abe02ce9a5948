import Chat
import Datagram
import Dispatch
import LinkSimulator
import Synchronization

/// One user's chat session with a relay, over UDP (a Datagram connection) or TCP (framed stream),
/// behind one API: the chat client and the `compare` tool both drive it.
///
/// Life: `start(onEvent:)` connects and sends HELLO (name, session id, rooms); requests typed before
/// WELCOME wait and go out after it. When the link is lost (RESET, CLOSE, idle timeout, a closed
/// stream, silence) the session reconnects by itself: a new Datagram handshake on the same socket,
/// or a new TCP connection; HELLO with the same session id rejoins the rooms under the same name,
/// then every SAY and PRIVATE the relay had not acknowledged is sent again with its original id
/// (receivers drop doubles with `DuplicateFilter`). Nothing typed is lost while the process runs.
///
/// Threading: every method may be called from any thread. State lives in one `Mutex`; socket
/// sources and the session's one housekeeping timer run on `queue`, the UDP driver on its own
/// queue. `onEvent` is always called on `queue`, in order, never under the lock.
public final class ChatSession: Sendable {
    /// The configuration the session was created with.
    public let configuration: ChatSessionConfiguration
    /// The serial queue events are delivered on.
    public let queue: DispatchQueue
    let clock: MonotonicClock
    let state: Mutex<SessionCore>
    /// How often the housekeeping timer runs (contact, heartbeats, reconnection, rejoin grace).
    static let tickInterval: Duration = .milliseconds(250)

    /// Creates a session; nothing happens until `start`.
    public init(configuration: ChatSessionConfiguration, clock: MonotonicClock = .process) {
        self.configuration = configuration
        self.clock = clock
        self.queue = DispatchQueue(label: "chat.session")
        self.state = Mutex(SessionCore(ledger: SessionLedger(configuration: configuration)))
    }

    /// Connects and joins; `onEvent` receives everything that happens, on `queue`.
    /// Throws when the UDP socket cannot be opened.
    public func start(onEvent: @escaping @Sendable (ChatSessionEvent) -> Void) throws(SystemError) {
        let now = clock.now()
        try state.withLock { (core) throws(SystemError) in
            guard core.ledger.phase == .idle else { return }
            core.onEvent = onEvent
            core.ledger.startedAt = now
            core.timer = RearmableTimer(queue: queue) { [weak self] in self?.tick() }
            core.timer?.arm(at: now + Self.tickInterval, now: now)
            if configuration.transport == .udp {
                try core.openDatagram(self, at: now)
            }
            beginConnection(&core, at: now)
        }
        deliverEvents()
    }

    // MARK: Requests

    /// Says `text` in `room` (an action for `/me` when `isAction`); returns the message id.
    @discardableResult
    public func say(_ text: String, in room: String, isAction: Bool = false) throws(ChatSendError) -> UInt64 {
        try sendText(text) { id in .say(room: room, messageID: id, flags: isAction ? .action : [], text: text) }
    }

    /// Says `text` to the user `name` only; returns the message id.
    @discardableResult
    public func sendPrivate(_ text: String, to name: String, isAction: Bool = false) throws(ChatSendError) -> UInt64 {
        try sendText(text) { id in .privateMessage(to: name, messageID: id, flags: isAction ? .action : [], text: text) }
    }

    /// Sends a request that carries no text: JOIN_ROOM, PART_ROOM, LIST_ROOMS, WHO, NICK.
    /// (SAY and PRIVATE go through `say`/`sendPrivate`, which number them; QUIT through `leave`.)
    public func send(_ request: ClientMessage) {
        let now = clock.now()
        state.withLock { core in
            guard core.ledger.phase != .closed else { return }
            core.submit(request, chatID: 0, session: self, at: now)
        }
        deliverEvents()
    }

    private func sendText(_ text: String, _ make: (UInt64) -> ClientMessage) throws(ChatSendError) -> UInt64 {
        let size = text.utf8.count
        guard size <= ChatLimits.maximumTextLength else {
            throw .textTooLong(bytes: size, limit: ChatLimits.maximumTextLength)
        }
        let now = clock.now()
        let id = try state.withLock { (core) throws(ChatSendError) -> UInt64 in
            guard core.ledger.phase != .closed else { throw .sessionClosed }
            let waiting = core.ledger.held.count + core.ledger.unacknowledged.count
            guard waiting < SessionCore.waitingLimit else { throw .queueFull(waiting: waiting) }
            let id = core.ledger.takeMessageID()
            core.ledger.statistics.messagesSent += 1
            core.submit(make(id), chatID: id, session: self, at: now)
            return id
        }
        deliverEvents()
        return id
    }

    // MARK: Leaving

    /// Sends QUIT with `reason`, waits (at most `timeout`) for the relay to acknowledge it, closes the
    /// link and calls `completion` on `queue`. Anything not yet acknowledged stays unacknowledged.
    public func leave(reason: String, timeout: Duration = .seconds(1), completion: @escaping @Sendable () -> Void) {
        let now = clock.now()
        state.withLock { core in
            guard core.ledger.phase != .closed else {
                queue.async(execute: completion)
                return
            }
            if core.ledger.phase == .joined {
                core.ledger.holdUntil = nil
                core.flushHeld(session: self, at: now)
                core.submit(.quit(reason: reason), chatID: 0, session: self, at: now)
            }
            core.leaving = Leaving(deadline: now + timeout, completion: completion)
        }
        queue.async { [self] in tick() }
    }

    /// Closes at once without QUIT (the relay sees the connection go) and stops all activity.
    /// Callers of `waitUntilAllAcknowledged` still waiting get `false`.
    public func close() {
        let now = clock.now()
        let waiters = state.withLock { core -> [DrainWaiter] in
            core.shutDown(at: now)
            defer { core.drainWaiters = [] }
            return core.drainWaiters
        }
        deliverEvents()
        for waiter in waiters { queue.async { waiter.completion(false) } }
    }

    /// Calls `completion(true)` on `queue` once everything sent is acknowledged, or `completion(false)`
    /// after `timeout`.
    public func waitUntilAllAcknowledged(timeout: Duration, completion: @escaping @Sendable (Bool) -> Void) {
        let now = clock.now()
        state.withLock { core in core.drainWaiters.append(DrainWaiter(deadline: now + timeout, completion: completion)) }
        queue.async { [self] in tick() }
    }

    // MARK: Observation

    /// True when nothing waits to be sent and the relay acknowledged every SAY, PRIVATE and room change.
    public var isAllAcknowledged: Bool {
        state.withLock { $0.ledger.isAllAcknowledged }
    }

    /// What has not been acknowledged yet, oldest first.
    public var pendingMessages: [PendingMessage] {
        state.withLock { $0.ledger.pendingMessages }
    }

    /// The name the relay knows us by (it changes with `/nick`).
    public var name: String { state.withLock { $0.ledger.name } }

    /// The rooms we are in, in the order joined.
    public var rooms: [String] { state.withLock { $0.ledger.rooms } }

    /// True once WELCOME has arrived on the current link.
    public var isJoined: Bool { state.withLock { $0.ledger.phase == .joined } }

    /// The session's counters, with the transport's.
    public var statistics: ChatSessionStatistics {
        state.withLock { core in core.currentStatistics() }
    }

    /// A status line in the manner of mosh when the relay has gone quiet, or nil when all is well:
    /// `Nothing received from relay 127.0.0.1:9000 yet…`, `Last contact 7 seconds ago.`
    public var connectionStatus: String? {
        let now = clock.now()
        return state.withLock { core in
            core.connectionStatus(relay: configuration.relay, at: now)
        }
    }

    // MARK: Demo controls

    /// Sets the simulated loss (percent, both directions) and keeps the configured delay (UDP only).
    /// Returns false in TCP mode, where loss has to come from the network.
    @discardableResult
    public func setLoss(percent: Double) -> Bool {
        guard configuration.transport == .udp else { return false }
        var conditions = configuration.linkConditions ?? LinkConditions()
        conditions.loss = percent / 100
        let driver = state.withLock { core in
            core.linkConditions = conditions
            return core.driver
        }
        driver?.setLinkConditions(outgoing: conditions, incoming: conditions)
        return true
    }

    /// The simulated conditions in force (UDP only).
    public var linkConditions: LinkConditions? {
        state.withLock { $0.linkConditions }
    }

    /// Switches `.trace` events on or off (UDP only; returns false in TCP mode).
    @discardableResult
    public func setTracing(_ isTracing: Bool) -> Bool {
        guard configuration.transport == .udp else { return false }
        let driver = state.withLock { core in
            core.isTracing = isTracing
            return core.driver
        }
        driver?.withConnection { $0.isTracing = isTracing }
        return true
    }

    // MARK: Plumbing

    /// Starts a connection attempt on the configured transport.
    func beginConnection(_ core: inout SessionCore, at now: Timestamp) {
        core.ledger.phase = .connecting(since: now)
        if core.ledger.hasJoinedBefore {
            core.ledger.reconnectAttempt += 1
            core.ledger.events.append(.connection(.reconnecting(attempt: core.ledger.reconnectAttempt)))
        }
        switch configuration.transport {
        case .udp: core.connectDatagram(session: self, at: now)
        case .tcp: core.connectStream(session: self, at: now)
        }
    }

    /// Runs housekeeping: contact, heartbeats, reconnection, the rejoin grace, leaving and draining.
    /// Only on `queue`: the timer is re-armed here.
    func tick() {
        let now = clock.now()
        let callbacks = state.withLock { core -> [@Sendable () -> Void] in
            guard core.ledger.phase != .closed || core.leaving != nil else { return [] }
            core.housekeeping(session: self, at: now)
            core.timer?.arm(at: now + Self.tickInterval, now: now)
            return core.takeFinishedWaiters(at: now)
        }
        deliverEvents()
        for callback in callbacks { queue.async(execute: callback) }
    }

    /// Hands the events gathered under the lock to `onEvent`, on `queue`, in order.
    func deliverEvents() {
        queue.async { [self] in
            let (events, onEvent) = state.withLock { core in
                defer { core.ledger.events.removeAll() }
                return (core.ledger.events, core.onEvent)
            }
            guard let onEvent else { return }
            for event in events { onEvent(event) }
        }
    }
}
