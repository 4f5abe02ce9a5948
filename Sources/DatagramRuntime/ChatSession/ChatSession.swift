import Chat
import ChatClientCore
import Datagram
import LinkSimulator
import Synchronization
import Transport

/// One user's chat session with a relay, over UDP (a Datagram connection) or TCP (framed stream),
/// behind one API: the chat client and the `compare` tool both drive it.
///
/// This is the shell of `ChatClientCore`, as `RelayHost` is of `RelayCore`: every rule (join,
/// reconnect, resend, backlog, heartbeats, duplicates, status) lives in the core. The shell owns the
/// UDP socket or the TCP stream, the simulated link and the one timer; it feeds the core what
/// arrives with the time, and performs the core's actions on `queue`, outside the lock.
///
/// Threading: every method may be called from any thread. State lives in one `Mutex`; sources and
/// the timer fire on `queue`, and actions are performed there, in order. `onEvent` is always called
/// on `queue`, in order, never under the lock.
public final class ChatSession: Sendable {
    /// The configuration the session was created with.
    public let configuration: ChatSessionConfiguration
    /// The serial queue events are delivered on.
    public let queue: SerialQueue
    let clock: MonotonicClock
    let state: Mutex<ShellState>

    /// A caller of `waitUntilAllAcknowledged`.
    struct DrainWaiter {
        var deadline: Timestamp
        var completion: @Sendable (Bool) -> Void
    }

    /// Datagrams taken under the lock, to send outside it.
    struct ReadyDatagrams {
        var socket: UDPSocket?
        var datagrams: [[UInt8]]
    }

    /// The TCP link: the stream and its sources (firing on `queue`).
    struct StreamHandles {
        var stream: TCPStream
        var readSource: ReadSource
        var writeSource: WriteSource
    }

    /// What the lock guards: the core, the handles, the waiters.
    struct ShellState {
        var core: ChatClientCore
        var onEvent: (@Sendable (ChatSessionEvent) -> Void)?
        var timer: RearmableTimer?
        var isFlushScheduled = false
        var isStopped = false
        // UDP
        var socket: UDPSocket?
        /// The UDP socket's reader: a thread of its own (ReadThread.swift), one wake-up per datagram.
        var readSource: SocketReader?
        var path: SimulatedPath
        var linkConditions: LinkConditions?
        var driverStatistics = DriverStatistics()
        // TCP
        var stream: StreamHandles?
        var streamGeneration = 0
        // Callers waiting
        var drainWaiters: [DrainWaiter] = []
        /// Callers of `whenWindowOpens`, answered once `say` would not refuse for a full window.
        var windowWaiters: [@Sendable () -> Void] = []
        var leaveCompletion: (@Sendable () -> Void)?
    }

    /// What `flush` does outside the lock, in order.
    enum Step {
        case datagram([UInt8], UDPSocket)
        case action(ClientAction)
    }

    /// Creates a session; nothing happens until `start`.
    public init(configuration: ChatSessionConfiguration, clock: MonotonicClock = .process) {
        var configuration = configuration
        configuration.client = configuration.sealedClientConfiguration()
        self.configuration = configuration
        self.clock = clock
        self.queue = SerialQueue(label: "chat.session")
        let core = ChatClientCore(configuration: configuration.client, random: SystemRandom())
        var path = SimulatedPath(seed: configuration.linkSeed)
        if let conditions = configuration.linkConditions { path.setConditions(outgoing: conditions, incoming: conditions) }
        self.state = Mutex(ShellState(core: core, path: path, linkConditions: configuration.linkConditions))
    }

    /// Connects and joins; `onEvent` receives everything that happens, on `queue`.
    /// Throws when the UDP socket cannot be opened.
    public func start(onEvent: @escaping @Sendable (ChatSessionEvent) -> Void) throws(SystemError) {
        let socket: UDPSocket? = configuration.transport == .udp
            ? try UDPSocket(bindingTo: .any(configuration.relay.family, port: 0)) : nil
        let now = clock.now()
        state.withLock { shell in
            guard !shell.core.isClosed, shell.timer == nil else { return }
            shell.onEvent = onEvent
            shell.timer = RearmableTimer(queue: queue) { [weak self] in self?.tick() }
            if let socket {
                shell.socket = socket
                shell.readSource = SocketReader(fileDescriptor: socket.fileDescriptor, queue: queue,
                                                onCancel: { socket.close() }) { [weak self] in self?.datagramsReadable() }
            }
            shell.core.start(at: now)
        }
        scheduleFlush()
    }

    /// Test and debug hook (roaming, Specs/wire-format.md section 10.8): moves the session to a new
    /// UDP socket on a new port, as a NAT rebinding or a new network would, without telling the core.
    /// The connection goes on; the relay moves it after a path check. Returns the new port, or nil
    /// for a TCP session or a session not started.
    @discardableResult
    public func rebindSocketForTesting() throws(SystemError) -> UInt16? {
        guard configuration.transport == .udp else { return nil }
        let socket = try UDPSocket(bindingTo: .any(configuration.relay.family, port: 0))
        let port = try socket.localAddress.port
        let isDone = state.withLock { shell -> Bool in
            guard shell.socket != nil, !shell.core.isClosed else { return false }
            shell.readSource?.cancel()
            shell.socket = socket
            shell.readSource = SocketReader(fileDescriptor: socket.fileDescriptor, queue: queue,
                                            onCancel: { socket.close() }) { [weak self] in self?.datagramsReadable() }
            return true
        }
        guard isDone else {
            socket.close()
            return nil
        }
        scheduleFlush()
        return port
    }

    // MARK: Requests

    /// Says `text` in `room` (an action for `/me` when `isAction`); returns the message id.
    @discardableResult
    public func say(_ text: String, in room: String, isAction: Bool = false) throws(ChatSendError) -> UInt64 {
        let now = clock.now()
        let (id, ready) = try state.withLock { (shell) throws(ChatSendError) -> (UInt64, ReadyDatagrams) in
            let id = try shell.core.say(text, in: room, isAction: isAction, at: now)
            return (id, shell.takeReadyDatagrams(at: now))
        }
        send(ready)
        scheduleFlush()
        return id
    }

    /// Says `text` to the user `name` only; returns the message id.
    @discardableResult
    public func sendPrivate(_ text: String, to name: String, isAction: Bool = false) throws(ChatSendError) -> UInt64 {
        let now = clock.now()
        let (id, ready) = try state.withLock { (shell) throws(ChatSendError) -> (UInt64, ReadyDatagrams) in
            let id = try shell.core.sendPrivate(text, to: name, isAction: isAction, at: now)
            return (id, shell.takeReadyDatagrams(at: now))
        }
        send(ready)
        scheduleFlush()
        return id
    }

    /// Sends a request that carries no text: JOIN_ROOM, PART_ROOM, LIST_ROOMS, WHO, NICK.
    /// (SAY and PRIVATE go through `say`/`sendPrivate`, which number them; QUIT through `leave`.)
    public func send(_ request: ClientMessage) {
        let now = clock.now()
        state.withLock { $0.core.send(request, at: now) }
        scheduleFlush()
    }

    // MARK: Leaving

    /// Sends QUIT with `reason`, waits (at most `timeout`) for the relay to acknowledge it, closes the
    /// link and calls `completion` on `queue`. Anything not yet acknowledged stays unacknowledged.
    public func leave(reason: String, timeout: Duration? = nil, completion: @escaping @Sendable () -> Void) {
        let now = clock.now()
        let timeout = timeout ?? configuration.client.leaveTimeout
        state.withLock { shell in
            shell.leaveCompletion = completion
            shell.core.leave(reason: reason, timeout: timeout, at: now)
        }
        scheduleFlush()
    }

    /// Closes at once without QUIT (the relay sees the connection go) and stops all activity.
    /// Callers of `waitUntilAllAcknowledged` still waiting get `false`.
    public func close() {
        let now = clock.now()
        state.withLock { $0.core.close(at: now) }
        scheduleFlush()
    }

    /// Calls `completion(true)` on `queue` once everything sent is acknowledged, or `completion(false)`
    /// after `timeout`.
    public func waitUntilAllAcknowledged(timeout: Duration, completion: @escaping @Sendable (Bool) -> Void) {
        let now = clock.now()
        state.withLock { $0.drainWaiters.append(DrainWaiter(deadline: now + timeout, completion: completion)) }
        scheduleFlush()
    }

    // MARK: Observation

    /// True when nothing waits to be sent and the relay acknowledged every SAY, PRIVATE and room change.
    public var isAllAcknowledged: Bool { state.withLock { $0.core.isAllAcknowledged } }

    /// What has not been acknowledged yet, oldest first.
    public var pendingMessages: [PendingMessage] { state.withLock { $0.core.pendingMessages } }

    /// The name the relay knows us by (it changes with `/nick`).
    public var name: String { state.withLock { $0.core.name } }

    /// The rooms we are in, in the order joined.
    public var rooms: [String] { state.withLock { $0.core.rooms } }

    /// True once WELCOME has arrived on the current link.
    public var isJoined: Bool { state.withLock { $0.core.isJoined } }

    /// True while `say` would refuse for a full window: a reader should stop reading until it is not.
    public var isWindowFull: Bool { state.withLock { $0.core.isWindowFull } }

    /// Calls `body` on `queue` once `say` and `sendPrivate` would not refuse for a full window (at
    /// once if they would not now), or once the session is closed. Backpressure for a reader: stop
    /// reading input until it is called.
    public func whenWindowOpens(_ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.windowWaiters.append(body) }
        scheduleFlush()
    }

    /// The session's counters (with the current Datagram connection's).
    public var statistics: ChatSessionStatistics { state.withLock { $0.core.statistics } }

    /// The socket's and the simulated links' counters (UDP).
    public var transportStatistics: ChatSessionTransportStatistics {
        state.withLock { shell in
            guard shell.socket != nil else { return ChatSessionTransportStatistics() }
            let links = shell.path.statistics
            return ChatSessionTransportStatistics(driver: shell.driverStatistics, outgoingLink: links.outgoing,
                                                  incomingLink: links.incoming)
        }
    }

    /// The status as a value, for a UI that renders it itself; nil when all is well.
    public var status: ClientStatus? {
        let now = clock.now()
        return state.withLock { $0.core.noticeableStatus(at: now) }
    }

    /// A status line in the manner of mosh when the relay has gone quiet, or nil when all is well:
    /// `Nothing received from relay 127.0.0.1:9000 yet…`, `Last contact 7 seconds ago.`
    public var connectionStatus: String? {
        guard let status else { return nil }
        let relay = configuration.isPlaintext ? "\(configuration.relay) [plaintext]" : "\(configuration.relay)"
        switch status {
        case .connecting(let heard):
            return heard ? "Connecting to relay \(relay)…" : "Nothing received from relay \(relay) yet…"
        case .reconnecting:
            return "Reconnecting to relay \(relay)…"
        case let .quiet(silence, isReconnecting):
            let seconds = silence.components.seconds
            return "Last contact \(seconds) second\(seconds == 1 ? "" : "s") ago." + (isReconnecting ? " Reconnecting…" : "")
        case .sessionTaken:
            return "Another connection took this session; not reconnecting."
        case .joined, .closed:
            return nil
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
        state.withLock { shell in
            shell.linkConditions = conditions
            shell.path.setConditions(outgoing: conditions, incoming: conditions)
        }
        return true
    }

    /// The simulated conditions in force (UDP only).
    public var linkConditions: LinkConditions? { state.withLock { $0.linkConditions } }

    /// `/receipts on|off` (both transports).
    public func setReceipts(_ isOn: Bool) {
        state.withLock { $0.core.setReceipts(isOn) }
    }

    /// Switches `.trace` events on or off (UDP only; returns false in TCP mode).
    @discardableResult
    public func setTracing(_ isTracing: Bool) -> Bool {
        guard configuration.transport == .udp else { return false }
        state.withLock { $0.core.setTracing(isTracing) }
        return true
    }
}

extension ChatSession.ShellState {
    /// Cancels the stream's sources; the read source's cancel handler closes the stream, once
    /// Dispatch no longer watches its descriptor.
    mutating func tearDownStream() {
        guard let handles = stream else { return }
        handles.writeSource.cancel()
        handles.readSource.cancel()
        stream = nil
        streamGeneration += 1
    }

    /// The datagrams at the head of the core's actions, ready to send from the caller's thread
    /// (`ChatSession.send(_:)`), after the simulated path had its say; none over TCP or once stopped.
    mutating func takeReadyDatagrams(at now: Timestamp) -> ChatSession.ReadyDatagrams {
        guard let socket, !isStopped else { return ChatSession.ReadyDatagrams(socket: nil, datagrams: []) }
        var datagrams: [[UInt8]] = []
        while let datagram = core.pollDatagram() {
            if let direct = path.sendOutgoing(datagram, at: now) { datagrams.append(direct) }
        }
        return ChatSession.ReadyDatagrams(socket: socket, datagrams: datagrams)
    }

    /// Stops the timer and the sources once the core is closed; closes the UDP socket.
    mutating func stop() {
        isStopped = true
        timer?.cancel()
        timer = nil
        readSource?.cancel()
        readSource = nil
        tearDownStream()
    }

    /// Drain waiters whose condition is met or whose time is up (all of them once closed).
    mutating func takeFinishedWaiters(at now: Timestamp) -> [@Sendable () -> Void] {
        var callbacks: [@Sendable () -> Void] = []
        let isDone = core.isAllAcknowledged
        let isClosed = core.isClosed
        if !windowWaiters.isEmpty, !core.isWindowFull || isClosed {
            callbacks += windowWaiters
            windowWaiters = []
        }
        var remaining: [ChatSession.DrainWaiter] = []
        for waiter in drainWaiters {
            if isDone || isClosed || waiter.deadline <= now {
                let completion = waiter.completion
                callbacks.append { completion(isDone) }
            } else {
                remaining.append(waiter)
            }
        }
        drainWaiters = remaining
        return callbacks
    }
}
