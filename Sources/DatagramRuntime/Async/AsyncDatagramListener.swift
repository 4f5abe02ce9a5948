import Datagram
import Synchronization
import Transport

/// The accepting side of `AsyncDatagramConnection`, for one peer: a stateless front door (a
/// `CookieJar`: COOKIE for a first HELLO, a connection only for a HELLO with a valid cookie) until
/// a peer completes the handshake; then that peer's connection owns the socket.
///
///     let listener = try AsyncDatagramListener(bindingTo: .loopbackIPv4(port: 0))
///     let connection = try await listener.accept()
///
/// A relay for many peers is `RelayHost`; this is the smallest server, for tools and examples.
public final class AsyncDatagramListener: Sendable {
    /// The address peers connect to (with the port the system chose for port 0).
    public let localAddress: SocketAddress
    private let socket: UDPSocket
    private let configuration: Configuration
    private let clock: MonotonicClock
    private let queue = SerialQueue(label: "datagram.async-listener")
    private let state: Mutex<State>

    private struct State {
        var jar: CookieJar
        var frontDoor: ReadSource?
        var waiter: CheckedContinuation<AsyncDatagramConnection, any Error>?
        var accepted: AsyncDatagramConnection?
        var isClosed = false
    }

    /// Binds `address`; nothing is answered until `accept`.
    public init(bindingTo address: SocketAddress, configuration: Configuration = Configuration(),
                clock: MonotonicClock = .process) throws(SystemError) {
        socket = try UDPSocket(bindingTo: address)
        localAddress = try socket.localAddress
        self.configuration = configuration
        self.clock = clock
        state = Mutex(State(jar: CookieJar(secret: SystemRandom.secret())))
    }

    /// Waits for a peer to complete a handshake and returns its connection. Once per listener.
    public func accept() async throws -> AsyncDatagramConnection {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<AsyncDatagramConnection, any Error>) in
            let socket = socket
            let isClosed = state.withLock { state -> Bool in
                guard !state.isClosed, state.waiter == nil, state.accepted == nil else { return true }
                state.waiter = continuation
                state.frontDoor = ReadSource(fileDescriptor: socket.fileDescriptor, queue: queue) { [weak self] in
                    self?.handleFrontDoor()
                }
                return false
            }
            if isClosed { continuation.resume(throwing: AsyncDatagramError.listenerClosed) }
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
                var connection = Connection(role: .server, id: id, configuration: configuration, now: now)
                connection.handleDatagram(bytes, at: now)
                let driver = ConnectionDriver(connection: connection, socket: socket, peer: sender, clock: clock,
                                              queueLabel: "datagram.async-accepted")
                let waiter = state.withLock { state -> CheckedContinuation<AsyncDatagramConnection, any Error>? in
                    state.frontDoor?.cancel()
                    state.frontDoor = nil
                    defer { state.waiter = nil }
                    return state.waiter
                }
                let accepted = AsyncDatagramConnection(driver: driver)
                state.withLock { $0.accepted = accepted }
                waiter?.resume(returning: accepted)
                return  // the driver reads the socket from now on
            case .drop:
                continue
            }
        }
    }
}
