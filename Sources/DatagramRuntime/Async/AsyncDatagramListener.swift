import Datagram
import Synchronization
import Transport

/// The accepting side of `AsyncDatagramConnection`, for one peer: a stateless front door (a
/// `CookieJar`: COOKIE for a first HELLO, a connection only for a HELLO with a valid cookie),
/// answering from the moment it is created, until a peer completes the handshake; then that peer's
/// connection owns the socket, and `accept` returns it.
///
///     let listener = try AsyncDatagramListener(bindingTo: .loopbackIPv4(port: 0))
///     let connection = try await listener.accept()
///
/// A relay for many peers is `RelayHost`; this is the smallest server, for tools and examples.
public final class AsyncDatagramListener: Sendable {
    /// The address peers connect to (with the port the system chose for port 0).
    public let localAddress: SocketAddress
    private let socket: UDPSocket
    private let configuration: Connection.Configuration
    private let clock: MonotonicClock
    private let queue = SerialQueue(label: "datagram.async-listener")
    private let state: Mutex<State>

    private struct State {
        var jar: CookieJar
        var frontDoor: ReadSource?
        var waiter: CheckedContinuation<AsyncDatagramConnection, any Error>?
        var accepted: AsyncDatagramConnection?
        var isTaken = false
        var isClosed = false
    }

    /// Binds `address` and starts answering handshakes.
    public init(bindingTo address: SocketAddress, configuration: Connection.Configuration = Connection.Configuration(),
                clock: MonotonicClock = .process) throws(SystemError) {
        let socket = try UDPSocket(bindingTo: address)
        self.socket = socket
        localAddress = try socket.localAddress
        self.configuration = configuration
        self.clock = clock
        state = Mutex(State(jar: CookieJar(secret: SystemRandom.secret())))
        let queue = queue
        state.withLock { state in
            state.frontDoor = ReadSource(fileDescriptor: socket.fileDescriptor, queue: queue) { [weak self] in
                self?.handleFrontDoor()
            }
        }
    }

    /// Waits for a peer to complete a handshake and returns its connection. Once per listener.
    /// Cancelling the task closes the listener.
    public func accept() async throws -> AsyncDatagramConnection {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<AsyncDatagramConnection, any Error>) in
                let outcome = state.withLock { state -> Result<AsyncDatagramConnection, any Error>? in
                    guard !state.isClosed, !state.isTaken, state.waiter == nil, !Task.isCancelled else {
                        return .failure(AsyncDatagramError.listenerClosed)
                    }
                    if let accepted = state.accepted {
                        state.isTaken = true
                        return .success(accepted)
                    }
                    state.waiter = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            close()
        }
    }

    /// Stops answering; a pending `accept` throws. An accepted connection is closed separately.
    public func close() {
        let (waiter, accepted) = state.withLock { state -> (CheckedContinuation<AsyncDatagramConnection, any Error>?, AsyncDatagramConnection?) in
            state.isClosed = true
            state.frontDoor?.cancel()
            state.frontDoor = nil
            defer { state.waiter = nil }
            return (state.waiter, state.accepted)
        }
        waiter?.resume(throwing: AsyncDatagramError.listenerClosed)
        if accepted == nil { queue.async { [socket] in socket.close() } }
    }

    private func handleFrontDoor() {
        while let (bytes, sender) = try? socket.receive() {
            let now = clock.now()
            switch state.withLock({ $0.jar.respond(to: bytes, from: sender.addressBytes, at: now) }) {
            case .reply(let reply):
                _ = try? socket.send(reply, to: sender)
            case .accept(let id):
                var connection = Connection(role: .server, id: id, configuration: configuration, now: now,
                                            firstPacketNumber: SystemRandom.packetNumber())
                connection.handleDatagram(bytes, at: now)
                let driver = ConnectionDriver(connection: connection, socket: socket, peer: sender, clock: clock,
                                              queueLabel: "datagram.async-accepted")
                let accepted = AsyncDatagramConnection(driver: driver)
                let waiter = state.withLock { state -> CheckedContinuation<AsyncDatagramConnection, any Error>? in
                    state.frontDoor?.cancel()
                    state.frontDoor = nil
                    state.accepted = accepted
                    if state.waiter != nil { state.isTaken = true }
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(returning: accepted)
                return  // the driver reads the socket from now on
            case .drop:
                continue
            }
        }
    }
}
