import Chat
import Datagram
import Foundation
import DatagramRuntime
import Measurement
import Transport

/// Many chat peers over UDP, each with its own socket and `Connection`, driven by one loop.
///
/// One epoll set holds every socket, and a heap holds every connection's deadline, so a pass costs one
/// `epoll_wait` plus a `recvfrom` per socket that has something waiting and a heap operation per due
/// deadline: nothing in a pass walks all the peers (with `poll(2)` and a scan, 15,000 peers took a core
/// of their own). A pass handles due timeouts, drains every touched connection's transmissions and
/// events, and hands chat messages from the relay to `onMessage`. Not thread-safe: one thread owns the
/// swarm.
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
    private let readiness: EventPoll
    /// Every peer's deadline as it was when set; an entry whose time no longer matches the peer's
    /// deadline is stale and skipped when it comes up.
    private var deadlines = DeadlineHeap()
    private var readyPeers: [Int] = []
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

    init(relay: SocketAddress, configuration: Connection.Configuration) throws {
        self.relay = relay
        self.configuration = configuration
        readiness = try EventPoll()
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
        try readiness.add(socket.fileDescriptor, token: UInt64(peers.count - 1))
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

    /// Waits up to `maximumWait` for input or a deadline, then handles the peers with input and the
    /// peers whose deadline has come.
    func runPass(maximumWait: Duration) {
        var now = clock.now()
        var wait = maximumWait
        if let earliest = deadlines.earliest { wait = min(wait, max(.zero, earliest - now)) }
        // Rounded up to whole milliseconds: rounded down, a deadline under 1 ms away made the wait 0,
        // and with thousands of peers one always is, so the loop spun (half the bench's CPU went to
        // reading the clock). A deadline is handled at most 1 ms late.
        let microseconds = wait.components.seconds * 1_000_000 + wait.components.attoseconds / 1_000_000_000_000
        let milliseconds = Int32((microseconds + 999) / 1000)
        readyPeers.removeAll(keepingCapacity: true)
        readiness.wait(timeoutMilliseconds: milliseconds) { readyPeers.append(Int($0)) }
        now = clock.now()
        for index in readyPeers where drainSocket(index, at: now) {
            flush(index, at: now)
        }
        while let (deadline, index) = deadlines.popDue(at: now) {
            // Stale: the peer's deadline moved since this entry was pushed (its new one is in the heap).
            guard peers[index].deadline == deadline else { continue }
            // Popped: `flush` must push the next deadline even if it is the same time.
            peers[index].deadline = nil
            peers[index].connection.handleTimeout(at: now)
            flush(index, at: now)
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
        let deadline = peers[index].connection.nextDeadline
        if let deadline, deadline != peers[index].deadline { deadlines.push(deadline, index) }
        peers[index].deadline = deadline
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

/// A min-heap of (deadline, peer index), lazily cleaned: `PeerSwarm` skips entries that no longer match.
struct DeadlineHeap {
    private var entries: [(time: Timestamp, index: Int)] = []

    var earliest: Timestamp? { entries.first?.time }

    mutating func push(_ time: Timestamp, _ index: Int) {
        entries.append((time, index))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].time < entries[parent].time else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(at now: Timestamp) -> (Timestamp, Int)? {
        guard let first = entries.first, first.time <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < entries.count else { break }
                var smallest = left
                if left + 1 < entries.count, entries[left + 1].time < entries[left].time { smallest = left + 1 }
                guard entries[smallest].time < entries[parent].time else { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
