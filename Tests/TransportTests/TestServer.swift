import Datagram
import Dispatch
import Synchronization
import DatagramRuntime
import Transport

/// A one-client server for tests: a stateless front door (a `CookieJar` on a `ReadSource`) until a
/// HELLO with a valid cookie arrives, then a `ConnectionDriver` around the server `Connection`.
/// `restart()` forgets the connection as a crashed server would and opens a fresh front door.
final class TestServer: Sendable {
    let socket: UDPSocket
    let clock = MonotonicClock.process
    private let queue = DispatchQueue(label: "test.server.front-door")
    private let state = Mutex(State())

    private struct State {
        var jar = CookieJar(secret: SystemRandom.secret())
        var frontDoor: ReadSource?
        var driver: ConnectionDriver?
        var received: [[UInt8]] = []
        var closeReasons: [Connection.CloseReason] = []
        var acceptedCount = 0
        var frontDoorReplies = 0
    }

    init(bindingTo address: SocketAddress) throws {
        socket = try UDPSocket(bindingTo: address)
    }

    /// Messages delivered by every connection so far, in delivery order.
    var received: [[UInt8]] { state.withLock { $0.received } }
    /// How many connections the front door has accepted.
    var acceptedCount: Int { state.withLock { $0.acceptedCount } }
    /// How many COOKIE or RESET replies the front door has sent.
    var frontDoorReplies: Int { state.withLock { $0.frontDoorReplies } }
    /// Why connections closed.
    var closeReasons: [Connection.CloseReason] { state.withLock { $0.closeReasons } }

    /// Starts answering as a front door with a fresh secret.
    func openFrontDoor() {
        let socket = socket
        queue.sync {
            state.withLock { state in
                state.jar = CookieJar(secret: SystemRandom.secret())
                state.frontDoor = ReadSource(fileDescriptor: socket.fileDescriptor, queue: queue) { [weak self] in
                    self?.handleFrontDoor()
                }
            }
        }
    }

    /// Drops the live connection without a word, then opens a new front door: the client's next
    /// packet is answered with RESET.
    func restart() {
        let driver = state.withLock { state -> ConnectionDriver? in
            defer { state.driver = nil }
            return state.driver
        }
        driver?.stop()
        driver?.queue.sync {}  // the stop has run once this returns
        openFrontDoor()
    }

    /// Stops everything and closes the socket.
    func shutDown() {
        let driver = state.withLock { state -> ConnectionDriver? in
            state.frontDoor?.cancel()
            state.frontDoor = nil
            defer { state.driver = nil }
            return state.driver
        }
        driver?.stop()
        driver?.queue.sync {}
        queue.sync {}
        socket.close()
    }

    private func handleFrontDoor() {
        while let (bytes, sender) = try? socket.receive() {
            let now = clock.now()
            let response = state.withLock { $0.jar.respond(to: bytes, from: sender.addressBytes, at: now) }
            switch response {
            case .reply(let reply):
                _ = try? socket.send(reply, to: sender)
                state.withLock { $0.frontDoorReplies += 1 }
            case .accept(let id):
                accept(id, hello: bytes, from: sender, at: now)
                return  // the driver reads the socket from now on
            case .drop:
                continue
            }
        }
    }

    private func accept(_ id: ConnectionID, hello: [UInt8], from peer: SocketAddress, at now: Timestamp) {
        var connection = Connection(role: .server, id: id, now: now)
        connection.handleDatagram(hello, at: now)
        let driver = ConnectionDriver(connection: connection, socket: socket, peer: peer, clock: clock,
                                      queueLabel: "test.server.connection")
        state.withLock { state in
            state.frontDoor?.cancel()
            state.frontDoor = nil
            state.driver = driver
            state.acceptedCount += 1
        }
        driver.start { [weak self] event in self?.record(event) }
    }

    private func record(_ event: Connection.Event) {
        state.withLock { state in
            switch event {
            case .message(let bytes, _): state.received.append(bytes)
            case .closed(let reason): state.closeReasons.append(reason)
            default: break
            }
        }
    }
}

/// Events a client driver reported, gathered from its queue.
final class EventLog: Sendable {
    private let events = Mutex<[Connection.Event]>([])

    func append(_ event: Connection.Event) {
        events.withLock { $0.append(event) }
    }

    var all: [Connection.Event] { events.withLock { $0 } }

    var acknowledgedCount: Int {
        all.filter { if case .acknowledged = $0 { true } else { false } }.count
    }

    var resetCount: Int {
        all.filter { $0 == .closed(.reset) }.count
    }

    var connectedCount: Int {
        all.filter { $0 == .connected }.count
    }
}
