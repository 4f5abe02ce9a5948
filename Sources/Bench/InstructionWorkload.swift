import Chat
import Datagram
import LibCrypto
import LinkSimulator
import Noise
import Relay

/// The in-process workloads `tools/callgrind.sh` runs under `valgrind --tool=callgrind` to count
/// instructions per message: no sockets, no threads, scripted time, so the count is the same on every
/// run and the difference between N and 0 messages is the cost of N messages.
///
/// - `p2p`: a Datagram client sends N chat-sized messages to a server over a perfect `SimulatedPair`
///   (both ends' send and receive paths, acknowledgements included).
/// - `direct`: the same as `p2p` with the two connections passing datagrams straight to each other
///   (no simulator): the layer alone.
/// - `relay`: two Datagram clients joined to a `RelayCore` in #lobby; one says N messages, the relay
///   forwards each to the other (the relay's receive, routing, encode and send; both clients' paths).
/// - `relay-bulk`: the same with 1000-byte messages (compare's bulk message size).
/// - `relay-sealed`: `relay-bulk` with every connection sealed (Noise, as every real session): what
///   udp mode's bulk costs per message.
/// - `relay-idle`: 100 joined clients idling with a 1 s keepalive, as `bench relay-scale`'s peers do;
///   N is the number of keepalives (each one datagram to the relay, read alone, and its ACK back):
///   what the relay and a client spend per idle user per second.
enum InstructionWorkload: String {
    case p2p
    case relay
    case direct
    case relayBulk = "relay-bulk"
    case relaySealed = "relay-sealed"
    case relayIdle = "relay-idle"

    /// Runs the workload with `messages` messages; returns how many were delivered.
    func run(messages: Int) -> Int {
        switch self {
        case .p2p: Self.pointToPoint(messages: messages)
        case .relay: Self.relayed(messages: messages, textSize: 60, isSealed: false)
        case .direct: Self.direct(messages: messages)
        case .relayBulk: Self.relayed(messages: messages, textSize: 1000, isSealed: false)
        case .relaySealed: Self.relayed(messages: messages, textSize: 1000, isSealed: true)
        case .relayIdle: Self.idle(keepalives: messages)
        }
    }

    /// A chat-sized payload (a SAY of about 60 bytes of text).
    static let payload: [UInt8] = ClientMessage.say(room: "#lobby", messageID: 1, flags: [],
                                                     text: String(repeating: "x", count: 60)).encoded()

    static func pointToPoint(messages: Int) -> Int {
        var pair = SimulatedPair(options: SimulatedPair.Options(seed: 7))
        var at = Timestamp.milliseconds(10)
        for _ in 0..<messages {
            pair.send(payload, from: .client, at: at)
            at = at + .microseconds(10)
        }
        pair.run(until: at + .seconds(1)) { $0.record(of: .server).received.count >= messages }
        return pair.record(of: .server).received.count
    }

    static func direct(messages: Int) -> Int {
        var client = Connection(role: .client, id: ConnectionID(rawValue: 7), now: .milliseconds(0))
        var server = Connection(role: .server, id: ConnectionID(rawValue: 7), now: .milliseconds(0))
        var now = Timestamp.milliseconds(0)
        var delivered = 0
        var datagram: [UInt8] = []
        func exchange() {
            var isMoving = true
            while isMoving {
                isMoving = false
                while client.pollTransmit(into: &datagram, at: now) { server.handleDatagram(datagram, at: now); isMoving = true }
                while server.pollTransmit(into: &datagram, at: now) { client.handleDatagram(datagram, at: now); isMoving = true }
                while let event = server.pollEvent() { if case .message = event { delivered += 1 } }
                while client.pollEvent() != nil {}
                _ = client.nextDeadline
                _ = server.nextDeadline
            }
        }
        exchange()
        for _ in 0..<messages {
            now = now + .microseconds(10)
            _ = try? client.send(payload, at: now)
            exchange()
        }
        return delivered
    }

    static func relayed(messages: Int, textSize: Int, isSealed: Bool) -> Int {
        var harness = InProcessRelay(isSealed: isSealed)
        let alice = harness.join("alice", port: 5001)
        let bob = harness.join("bob", port: 5002)
        harness.delivered = 0
        let text = String(repeating: "x", count: textSize)
        for number in 0..<messages {
            let say = ClientMessage.say(room: "#lobby", messageID: UInt64(number + 1), flags: [], text: text)
            _ = try? harness.clients[alice].send(say.encoded(), at: harness.now)
            harness.pump()
            harness.now = harness.now + .microseconds(10)
        }
        harness.pump()
        _ = bob
        return harness.delivered
    }
}

extension InstructionWorkload {
    static func idle(keepalives: Int) -> Int {
        var harness = InProcessRelay(isSealed: false)
        var configuration = Connection.Configuration.coalescing
        configuration.keepaliveInterval = .seconds(1)
        for index in 0..<100 { _ = harness.join("peer\(index)", port: UInt16(6000 + index), configuration: configuration) }
        // Let the joins' traffic settle: a second of scripted time, with nothing counted.
        harness.runTimers(until: harness.now + .seconds(2), keepalives: .max)
        harness.sentToRelay = 0
        harness.runTimers(until: harness.now + .seconds(1_000_000), keepalives: keepalives)
        return harness.sentToRelay
    }
}

/// A `RelayCore` and real Datagram clients passing bytes instantly, in scripted time.
struct InProcessRelay {
    var now = Timestamp.milliseconds(1_000)
    var core: RelayCore
    /// The clients' connections, in an array so they are updated in place; `order[i]` is `clients[i]`'s endpoint.
    var clients: [Connection] = []
    var order: [Endpoint] = []
    var indexOf: [Endpoint: Int] = [:]
    var outbox: [(bytes: [UInt8], to: Endpoint)] = []
    var delivered = 0
    /// Datagrams the clients handed the relay.
    var sentToRelay = 0
    let isSealed: Bool
    static let crypto = LibCryptoNoise()

    init(isSealed: Bool = false) {
        self.isSealed = isSealed
        var configuration = RelayConfiguration()
        if isSealed {
            configuration.connection.sealing = Sealing(crypto: Self.crypto, staticKeyPair: Self.keyPair(0x40))
        }
        core = RelayCore(configuration: configuration, cookieSecret: (0x0123, 0x4567),
                         senderIDs: { SenderID(rawValue: $0.rawValue ^ 0x5A5A) }, at: now)
    }

    /// A fixed key pair (the workload must count the same instructions on every run).
    static func keyPair(_ first: UInt8) -> NoiseKeyPair {
        try! crypto.keyPair(privateKey: Array(first..<first + 32))
    }

    mutating func join(_ name: String, port: UInt16, configuration given: Connection.Configuration = .coalescing) -> Int {
        let endpoint = Endpoint(transport: .udp, address: [127, 0, 0, 1], port: port)
        var configuration = given
        if isSealed {
            configuration.sealing = Sealing(crypto: Self.crypto, staticKeyPair: Self.keyPair(UInt8(truncatingIfNeeded: port)),
                                            ephemeralKeyPair: Self.keyPair(UInt8(truncatingIfNeeded: port) &+ 64))
        }
        clients.append(Connection(role: .client, id: ConnectionID(rawValue: UInt32(port)), configuration: configuration, now: now))
        order.append(endpoint)
        indexOf[endpoint] = order.count - 1
        pump()
        let hello = ClientMessage.hello(Hello(sessionSecret: SessionSecret(rawValue: UInt64(port)), name: name))
        _ = try? clients[clients.count - 1].send(hello.encoded(), at: now)
        pump()
        return clients.count - 1
    }

    /// Moves datagrams until nothing moves. `only`: the clients that may have something to send at
    /// the start (nil: all); after that, only the clients that were handed datagrams are polled, so the
    /// harness's own cost does not grow with the number of idle clients.
    @discardableResult
    mutating func pump(only: [Int]? = nil) -> [Int] {
        var active = only ?? Array(clients.indices)
        var touched = active
        var isMoving = true
        while isMoving {
            isMoving = false
            while let action = core.pollAction() {
                if case let .sendDatagram(bytes, to) = action { outbox.append((bytes, to)) }
            }
            // Datagrams move in batches, as `recvmmsg` hands them over: what the relay sent is read by
            // each client together, and what a client sent is read by the relay together; each side
            // acknowledges a batch once (`Connection.holdsAcknowledgements`, `RelayCore.handleDatagrams`).
            let batch = outbox
            outbox.removeAll(keepingCapacity: true)
            var received: [Int] = []
            for (bytes, endpoint) in batch {
                if let index = indexOf[endpoint] {
                    clients[index].holdsAcknowledgements = true
                    clients[index].handleDatagram(bytes, at: now)
                    if !received.contains(index) { received.append(index) }
                }
            }
            for index in received { clients[index].holdsAcknowledgements = false }
            for index in received where !active.contains(index) { active.append(index) }
            for index in received where !touched.contains(index) { touched.append(index) }
            for index in active {
                var sent: [(bytes: [UInt8], from: Endpoint)] = []
                while let bytes = clients[index].pollTransmit(at: now) { sent.append((bytes, order[index])) }
                if !sent.isEmpty {
                    isMoving = true
                    sentToRelay += sent.count
                    core.handleDatagrams(sent, at: now)
                }
                while let event = clients[index].pollEvent() {
                    if case .message = event { delivered += 1 }
                }
            }
            if only != nil { active = [] }
            isMoving = isMoving || !outbox.isEmpty
        }
        return touched
    }

    /// Moves scripted time from deadline to deadline (the relay's and the clients'), handling each
    /// client's timer alone, so each keepalive reaches the relay in a batch of its own as on a real
    /// socket; stops at `end` or once the clients have sent `keepalives` datagrams.
    mutating func runTimers(until end: Timestamp, keepalives: Int) {
        // The clients' deadlines in a heap (stale entries skipped), so the harness's own cost per
        // keepalive does not grow with the number of clients.
        var heap = DeadlineHeap()
        var scheduled = [Timestamp?](repeating: nil, count: clients.count)
        // Read through `inout`: a computed property read from an array element copies the Connection.
        func deadline(of connection: inout Connection) -> Timestamp? { connection.nextDeadline }
        func schedule(_ index: Int) {
            let deadline = deadline(of: &clients[index])
            if let deadline, deadline != scheduled[index] { heap.push(deadline, index) }
            scheduled[index] = deadline
        }
        for index in clients.indices { schedule(index) }
        while sentToRelay < keepalives {
            let next = [core.nextDeadline, heap.earliest].compactMap { $0 }.min()
            guard let next, next <= end else { return }
            now = max(now, next)
            if let deadline = core.nextDeadline, deadline <= now {
                core.handleTimeout(at: now)
                for index in pump(only: []) { schedule(index) }
            }
            while sentToRelay < keepalives, let (deadline, index) = heap.popDue(at: now) {
                guard scheduled[index] == deadline else { continue }
                scheduled[index] = nil
                clients[index].handleTimeout(at: now)
                for touched in pump(only: [index]) { schedule(touched) }
                schedule(index)
            }
        }
    }
}
