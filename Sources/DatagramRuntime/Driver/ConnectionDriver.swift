import Transport
import Datagram
import LinkSimulator
import Synchronization

/// Runs one `Datagram.Connection` over a `UDPSocket`, to one peer address.
///
/// The connection is a pure state machine; this class gives it a socket, a clock and one timer:
///
/// - a `ReadSource` on the socket reads datagrams from `peer` (others are counted and dropped),
/// - one `RearmableTimer`, re-armed after every input to the earliest of the connection's
///   `nextDeadline` and the simulated links' next delivery,
/// - optional simulated link conditions in each direction (`setLinkConditions`), seeded.
///
/// Every input runs the same step on the serial `queue`: inside the lock, feed the input, drain
/// `pollTransmit` and `pollEvent` into locals, re-arm the timer; after unlocking, `sendto` and call
/// the event callback. So the callback always runs on `queue`, in order, never under the lock, and
/// may call back into the driver (`send`, `reconnect`, ...). `send`, `close` and the other methods
/// may be called from any thread; they change the connection under the lock and schedule a step on
/// the queue to put the result on the wire.
///
/// The driver does not own the socket unless `stop(closingSocket: true)` says so. Keep a reference
/// to the driver while it runs: its sources only hold it weakly.
public final class ConnectionDriver: Sendable {
    /// How many datagrams one readable event reads before yielding the queue (the source fires again).
    static let readBatchLimit = 256

    /// The socket the connection's datagrams travel on.
    public let socket: UDPSocket
    /// The only address datagrams are sent to and accepted from.
    public let peer: SocketAddress
    /// The clock that stamps every input.
    public let clock: MonotonicClock
    /// The serial queue all sources, steps and event callbacks run on.
    public let queue: SerialQueue

    let state: Mutex<DriverState>
    let socketCloser: SocketCloser

    /// Creates a stopped driver; nothing happens until `start`.
    ///
    /// `connection` may be a fresh client (its HELLO goes out on `start`) or a server connection that
    /// was already fed its HELLO. `linkSeed` seeds the simulated links if conditions are ever set.
    public init(connection: Connection, socket: UDPSocket, peer: SocketAddress,
                clock: MonotonicClock = .process, linkSeed: UInt64 = 0,
                queueLabel: String = "datagram.connection-driver") {
        self.socket = socket
        self.peer = peer
        self.clock = clock
        self.queue = SerialQueue(label: queueLabel)
        self.state = Mutex(DriverState(connection: connection, path: SimulatedPath(seed: linkSeed)))
        self.socketCloser = SocketCloser(socket: socket)
    }

    /// Starts reading and timing; `onEvent` receives every connection event on `queue`, in order.
    /// A second call does nothing; so does a call on a closed socket (counted in `statistics`).
    public func start(onEvent: @escaping @Sendable (Connection.Event) -> Void) {
        let started = state.withLock { state -> Bool in
            guard state.readSource == nil, !state.isStopped else { return false }
            let descriptor = socket.fileDescriptor
            guard descriptor >= 0 else {
                state.record(.badDescriptor(call: "start"))
                return false
            }
            state.onEvent = onEvent
            let closer = socketCloser
            // A thread of its own for the socket: one wake-up per datagram (ReadThread.swift).
            state.readSource = SocketReader(fileDescriptor: descriptor, queue: queue,
                                            onCancel: { closer.closeIfRequested() }) { [weak self] in
                self?.handleReadable()
            }
            state.timer = RearmableTimer(queue: queue) { [weak self] in
                self?.step(.timer)
            }
            return true
        }
        if started { scheduleStep() }
    }

    /// Queues a message on the connection; it goes out on the driver's queue right after.
    /// Throws what `Connection.send` throws (`sendQueueFull` is back-pressure: retry after
    /// `.acknowledged` events).
    @discardableResult
    public func send(_ message: [UInt8], on channel: Channel = .reliableOrdered) throws(SendError) -> MessageID {
        let now = clock.now()
        let id = try state.withLock { (state) throws(SendError) -> MessageID in
            try state.connection.send(message, on: channel, at: now)
        }
        scheduleStep()
        return id
    }

    /// Runs `body` on the connection under the lock: to read `statistics` or `state`, toggle
    /// `isTracing`, or take unacknowledged messages. Anything it queues goes out right after.
    /// Do not call it from inside `body` of another `withConnection` (the lock is not reentrant).
    public func withConnection<Result: Sendable, Failure: Error>(
        _ body: (inout Connection) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let result = try state.withLock { (state) throws(Failure) -> Result in
            try body(&state.connection)
        }
        scheduleStep()
        return result
    }

    /// The connection's counters and RTT estimates.
    public var connectionStatistics: Connection.Statistics {
        state.withLock { $0.connection.statistics }
    }

    /// The driver's own counters (socket errors, datagrams from other addresses).
    public var statistics: DriverStatistics {
        state.withLock { $0.statistics }
    }

    /// Closes the connection (one CLOSE with `code` goes out) and keeps the driver running, so a
    /// caller can still `reconnect` or `stop`.
    public func close(code: CloseCode = .normal) {
        let now = clock.now()
        state.withLock { $0.connection.close(code: code, at: now) }
        scheduleStep()
    }

    /// Puts `connection` in place of the current one, on the same socket and peer, and returns the
    /// old one. Events the old connection still held are delivered first; if it was still open it is
    /// closed (its CLOSE is sent).
    @discardableResult
    public func replaceConnection(_ connection: Connection) -> Connection {
        let now = clock.now()
        let old = state.withLock { $0.replaceConnection(with: connection, at: now) }
        scheduleStep()
        return old
    }

    /// Starts a new client handshake with connection id `id` on the same socket (after
    /// `.closed(.reset)`, for example) and returns the old connection's unacknowledged messages,
    /// oldest first, for the caller to `send` again. Call it from the event callback (on `queue`),
    /// and have the application send from `queue` too, so no new message slips in between the old
    /// ones and their resending.
    public func reconnect(id: ConnectionID, configuration: Connection.Configuration = Connection.Configuration()) -> [[UInt8]] {
        let now = clock.now()
        var old = replaceConnection(Connection(role: .client, id: id, configuration: configuration, now: now,
                                               firstPacketNumber: SystemRandom.packetNumber()))
        return old.takeUnacknowledgedMessages()
    }

    /// Sets simulated conditions for datagrams going out to and coming in from the peer; nil means a
    /// perfect direction. Takes effect for the next datagram; what is in flight keeps its fate.
    public func setLinkConditions(outgoing: LinkConditions?, incoming: LinkConditions?) {
        state.withLock { $0.path.setConditions(outgoing: outgoing, incoming: incoming) }
        scheduleStep()
    }

    /// The simulated links' counters in each direction (nil for a direction never simulated).
    public var linkStatistics: (outgoing: LinkStatistics?, incoming: LinkStatistics?) {
        state.withLock { $0.path.statistics }
    }

    /// Stops reading and timing for good; no event is delivered afterwards. With `closingSocket`,
    /// the socket is closed once the read source is gone. Does not close the connection: call
    /// `close(code:)` first to tell the peer.
    public func stop(closingSocket: Bool = false) {
        if closingSocket { socketCloser.request() }
        queue.async { [self] in
            let hadSource = state.withLock { state -> Bool in
                state.isStopped = true
                state.onEvent = nil
                state.timer?.cancel()
                state.timer = nil
                defer { state.readSource = nil }
                state.readSource?.cancel()
                return state.readSource != nil
            }
            if !hadSource { socketCloser.closeIfRequested() }
        }
    }
}

/// Counters a driver keeps about its socket, beside the connection's own `Connection.Statistics`.
public struct DriverStatistics: Sendable, Hashable {
    /// Datagrams read from the socket that came from the peer.
    public var datagramsReceived = 0
    /// Datagrams handed to `sendto` successfully.
    public var datagramsSent = 0
    /// Datagrams from any other address, dropped unread.
    public var datagramsFromOtherAddresses = 0
    /// Datagrams not sent because the socket's send buffer was full (treated as lost).
    public var sendsDropped = 0
    /// Failed `sendto` and `recvfrom` calls.
    public var socketErrors = 0
    /// The most recent of those failures.
    public var lastSocketError: SystemError?

    /// Creates zeroed counters.
    public init() {}
}

/// Closes a socket from a read source's cancel handler, if asked to.
final class SocketCloser: Sendable {
    private let socket: UDPSocket
    private let isRequested = Mutex(false)

    init(socket: UDPSocket) {
        self.socket = socket
    }

    func request() {
        isRequested.withLock { $0 = true }
    }

    func closeIfRequested() {
        if isRequested.withLock({ $0 }) { socket.close() }
    }
}
