import Chat
import Datagram
import Foundation
import DatagramRuntime
import Measurement
import Transport

/// Many chat peers over UDP, each with its own socket and `Connection`, driven by one loop.
///
/// One `poll(2)` call waits on every socket at once, bounded by the earliest connection deadline, so a
/// pass costs one system call plus a `recvfrom` per socket that has something waiting. A pass then
/// handles due timeouts, drains every touched connection's transmissions and events, and hands chat
/// messages from the relay to `onMessage`. Not thread-safe: one thread owns the swarm.
final class PeerSwarm {
    /// One simulated chat user.
    struct Peer {
        var socket: UDPSocket
        var connection: Connection
        var name: String
        var rooms: [String]
        var deadline: Timestamp?
        var isHelloSent = false
        /// False for an attacker that completes the handshake and then never joins.
        var sendsHello = true
        /// The last packet number this peer's connection sent (read back from its datagrams).
        var lastPacketNumber: UInt32?
        var isJoined = false
    }

    let relay: SocketAddress
    let configuration: Connection.Configuration
    let clock = MonotonicClock.process
    private(set) var peers: [Peer] = []
    private var descriptors: [pollfd] = []
    private var datagram: [UInt8] = []
    /// Peers whose WELCOME has arrived.
    private(set) var joinedCount = 0
    /// Peers whose connection closed before their WELCOME arrived (handshake or join failed).
    private(set) var failedBeforeJoinCount = 0
    /// Joined peers whose connection closed later (idle timeout, reset, relay shutdown).
    private(set) var lostAfterJoinCount = 0
    /// Peers started and neither joined nor failed yet.
    var joiningCount: Int { peers.count - joinedCount - failedBeforeJoinCount }
    /// Joined peers whose connection is still up.
    var connectedCount: Int { joinedCount - lostAfterJoinCount }
    /// Datagrams the kernel refused to send (send buffer full), counted as losses.
    private(set) var sendsRefused = 0
    /// Called for every chat message the relay sends to peer `index`.
    var onMessage: (_ index: Int, _ message: RelayMessage) -> Void = { _, _ in }

    init(relay: SocketAddress, configuration: Connection.Configuration) {
        self.relay = relay
        self.configuration = configuration
    }

    /// Opens a socket on 127.0.0.1 and starts a client handshake; the chat HELLO follows on `.connected`.
    @discardableResult
    func addPeer(name: String, rooms: [String], bindingTo local: SocketAddress = .loopbackIPv4(port: 0),
                 sendsHello: Bool = true) throws -> Int {
        let socket = try UDPSocket(bindingTo: local)
        let now = clock.now()
        let connection = Connection(role: .client, id: SystemRandom.connectionID(), configuration: configuration, now: now,
                                    firstPacketNumber: SystemRandom.packetNumber())
        var peer = Peer(socket: socket, connection: connection, name: name, rooms: rooms)
        peer.sendsHello = sendsHello
        peers.append(peer)
        descriptors.append(pollfd(fd: socket.fileDescriptor, events: Int16(POLLIN), revents: 0))
        flush(peers.count - 1, at: now)
        return peers.count - 1
    }

    /// Queues `message` on peer `index`'s reliable channel; false when the send queue pushes back.
    func send(_ message: ClientMessage, from index: Int) -> Bool {
        let now = clock.now()
        do {
            try peers[index].connection.send(message.encoded(), at: now)
        } catch {
            return false
        }
        flush(index, at: now)
        return true
    }

    /// Waits up to `maximumWait` for input or a deadline, then does one pass over every peer.
    func runPass(maximumWait: Duration) {
        var now = clock.now()
        let earliest = peers.lazy.compactMap(\.deadline).min()
        var wait = maximumWait
        if let earliest { wait = min(wait, max(.zero, earliest - now)) }
        let milliseconds = Int32(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        now = clock.now()
        for index in peers.indices {
            var isTouched = false
            if ready > 0, descriptors[index].revents != 0 {
                descriptors[index].revents = 0
                isTouched = drainSocket(index, at: now)
            }
            if let deadline = peers[index].deadline, deadline <= now {
                peers[index].connection.handleTimeout(at: now)
                isTouched = true
            }
            if isTouched { flush(index, at: now) }
        }
    }

    /// Sends bytes the connection did not make (a crafted packet) from peer `index`'s socket.
    func sendRaw(_ datagram: [UInt8], from index: Int) -> Bool {
        (try? peers[index].socket.send(datagram, to: relay)) == true
    }

    /// True while peer `index`'s connection has completed its handshake and not closed.
    func isConnected(_ index: Int) -> Bool {
        peers[index].isHelloSent && !peers[index].connection.isClosed
    }

    /// Datagrams sent and received by all peers' connections so far.
    var datagramCounts: (sent: Int, received: Int) {
        peers.reduce((0, 0)) { total, peer in
            let statistics = peer.connection.statistics
            return (total.0 + statistics.packetsSent, total.1 + statistics.packetsReceived)
        }
    }

    /// Closes every socket (without telling the relay; its peer timeout cleans up).
    func closeAll() {
        for peer in peers { peer.socket.close() }
    }

    private func drainSocket(_ index: Int, at now: Timestamp) -> Bool {
        var isTouched = false
        while let (bytes, _) = try? peers[index].socket.receive() {
            peers[index].connection.handleDatagram(bytes, at: now)
            isTouched = true
        }
        return isTouched
    }

    /// Sends what the connection has to send, handles its events, and re-reads its deadline.
    private func flush(_ index: Int, at now: Timestamp) {
        transmitAll(index, at: now)
        while let event = peers[index].connection.pollEvent() {
            handle(event, of: index, at: now)
        }
        peers[index].deadline = peers[index].connection.nextDeadline
    }

    /// Sends every datagram peer `index`'s connection has ready; a full socket buffer counts as a loss.
    private func transmitAll(_ index: Int, at now: Timestamp) {
        while peers[index].connection.pollTransmit(into: &datagram, at: now) {
            if let packet = try? Packet.parse(datagram) { peers[index].lastPacketNumber = packet.header.packetNumber }
            if (try? peers[index].socket.send(datagram, to: relay)) != true { sendsRefused += 1 }
        }
    }

    private func handle(_ event: Connection.Event, of index: Int, at now: Timestamp) {
        switch event {
        case .connected where !peers[index].isHelloSent:
            peers[index].isHelloSent = true
            guard peers[index].sendsHello else { return }
            let hello = Hello(sessionSecret: SessionSecret(rawValue: SystemRandom.uint64()), name: peers[index].name,
                              rooms: peers[index].rooms, software: "bench")
            _ = try? peers[index].connection.send(ClientMessage.hello(hello).encoded(), at: now)
            // The HELLO was queued after this flush's transmit loop; send it now.
            transmitAll(index, at: now)
        case let .message(bytes, _):
            guard let message = try? RelayMessage(decoding: bytes) else { return }
            if case .welcome = message, !peers[index].isJoined {
                peers[index].isJoined = true
                joinedCount += 1
            }
            onMessage(index, message)
        case .closed:
            if peers[index].isJoined { lostAfterJoinCount += 1 } else { failedBeforeJoinCount += 1 }
        default:
            break
        }
    }
}
