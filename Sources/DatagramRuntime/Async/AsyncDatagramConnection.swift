import Datagram
import Synchronization
import Transport

/// A Datagram connection over a real UDP socket with an async face, beside the callback
/// `ConnectionDriver` it wraps (in the manner of swift-nio's `NIOAsyncChannel`):
///
///     let connection = try await AsyncDatagramConnection.connect(to: .loopbackIPv4(port: 9000))
///     try await connection.send(Array("hello".utf8))        // suspends while the send queue is full
///     for await message in connection.messages { … }        // what the peer sent, in order
///     connection.close()
///
/// `messages` carries delivered messages; `events` carries every `Connection.Event` (acknowledgements, close,
/// traces) for those who want them. Each is a single-consumer `AsyncStream`; one that is never
/// read buffers what arrives.
public final class AsyncDatagramConnection: Sendable {
    /// The callback driver underneath (statistics, link conditions, `withConnection`).
    public let driver: ConnectionDriver
    /// Messages the peer sent, in delivery order. Ends when the connection closes.
    public let messages: AsyncStream<[UInt8]>
    /// Every event of the connection, in order. Ends when the connection closes.
    public let events: AsyncStream<Connection.Event>

    private let messageInput: AsyncStream<[UInt8]>.Continuation
    private let eventInput: AsyncStream<Connection.Event>.Continuation
    private let state = Mutex(WaitState())

    /// Senders waiting for room, the connect waiting for the handshake.
    private struct WaitState {
        /// Bumped by every acknowledgement (room in the send queue) and by the close.
        var progress = 0
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        var connectWaiter: CheckedContinuation<Void, any Error>?
        var isConnected = false
        var closeReason: Connection.CloseReason?
    }

    /// Wraps `driver` (not started yet) and starts it.
    init(driver: ConnectionDriver) {
        self.driver = driver
        (messages, messageInput) = AsyncStream.makeStream(of: [UInt8].self)
        (events, eventInput) = AsyncStream.makeStream(of: Connection.Event.self)
        driver.start { [weak self] event in self?.handle(event) }
    }

    /// Connects to `peer` from a new socket: returns once the handshake completed, throws
    /// `AsyncDatagramError.closed` when the connection closed first (no answer, refused).
    public static func connect(to peer: SocketAddress, configuration: Connection.Configuration = Connection.Configuration(),
                               clock: MonotonicClock = .process) async throws -> AsyncDatagramConnection {
        let socket = try UDPSocket(bindingTo: .any(peer.family, port: 0))
        let connection = Connection(role: .client, id: SystemRandom.connectionID(), configuration: configuration,
                                    now: clock.now(), firstPacketNumber: SystemRandom.packetNumber())
        let driver = ConnectionDriver(connection: connection, socket: socket, peer: peer, clock: clock,
                                      queueLabel: "datagram.async-connection")
        let wrapped = AsyncDatagramConnection(driver: driver)
        try await wrapped.waitUntilConnected()
        return wrapped
    }

    /// Queues `message`; while the send queue is full, suspends until acknowledgements make room
    /// (instead of throwing `sendQueueFull`). Throws `connectionClosed` once the connection closed,
    /// and `sendQueueFull` only when the task is cancelled while it waits.
    @discardableResult
    public func send(_ message: [UInt8], on channel: Channel = .reliableOrdered) async throws(SendError) -> MessageID {
        while true {
            let before = state.withLock { $0.progress }
            do throws(SendError) {
                return try driver.send(message, on: channel)
            } catch {
                guard case .sendQueueFull = error, !Task.isCancelled else { throw error }
                await waitForProgress(since: before)
            }
        }
    }

    /// Closes the connection (CLOSE to the peer), stops the driver and closes the socket.
    public func close(code: CloseCode = .normal) {
        driver.close(code: code)
        driver.stop(closingSocket: true)
        finish(.local)
    }

    /// Why the connection closed, once it has.
    public var closeReason: Connection.CloseReason? { state.withLock { $0.closeReason } }

    // MARK: Plumbing

    /// Returns once the handshake completed; throws if the connection closed first, or (closing
    /// it) if the task is cancelled.
    func waitUntilConnected() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    if state.isConnected { return .success(()) }
                    if let reason = state.closeReason { return .failure(AsyncDatagramError.closed(reason)) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.connectWaiter = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                defer { state.connectWaiter = nil }
                return state.connectWaiter
            }
            waiter?.resume(throwing: CancellationError())
        }
        if Task.isCancelled, !state.withLock({ $0.isConnected }) { close() }
    }

    /// Returns after the next acknowledgement or the close (at once if one came since `before`),
    /// or when the task is cancelled.
    private func waitForProgress(since before: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let isReady = state.withLock { state -> Bool in
                    guard state.progress == before, state.closeReason == nil, !Task.isCancelled else { return true }
                    state.roomWaiters.append(continuation)
                    return false
                }
                if isReady { continuation.resume() }
            }
        } onCancel: {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                defer { state.roomWaiters = [] }
                return state.roomWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    private func handle(_ event: Connection.Event) {
        eventInput.yield(event)
        switch event {
        case .connected:
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                state.isConnected = true
                defer { state.connectWaiter = nil }
                return state.connectWaiter
            }
            waiter?.resume()
        case .message(let bytes, _):
            messageInput.yield(bytes)
        case .acknowledged:
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.progress += 1
                defer { state.roomWaiters = [] }
                return state.roomWaiters
            }
            for waiter in waiters { waiter.resume() }
        case .closed(let reason):
            finish(reason)
        case .trace:
            break
        }
    }

    private func finish(_ reason: Connection.CloseReason) {
        let (rooms, connect) = state.withLock { state -> ([CheckedContinuation<Void, Never>], CheckedContinuation<Void, any Error>?) in
            if state.closeReason == nil { state.closeReason = reason }
            state.progress += 1
            defer {
                state.roomWaiters = []
                state.connectWaiter = nil
            }
            return (state.roomWaiters, state.connectWaiter)
        }
        for waiter in rooms { waiter.resume() }
        connect?.resume(throwing: AsyncDatagramError.closed(reason))
        messageInput.finish()
        eventInput.finish()
    }
}

/// Why an async connect or accept failed.
public enum AsyncDatagramError: Error, Sendable, Hashable {
    /// The connection closed before its handshake completed.
    case closed(Connection.CloseReason)
    /// The listener was closed while waiting.
    case listenerClosed
}
