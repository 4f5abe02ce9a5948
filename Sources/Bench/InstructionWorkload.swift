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
enum InstructionWorkload: String {
    case p2p
    case relay
    case direct
    case relayBulk = "relay-bulk"
    case relaySealed = "relay-sealed"

    /// Runs the workload with `messages` messages; returns how many were delivered.
    func run(messages: Int) -> Int {
        switch self {
        case .p2p: Self.pointToPoint(messages: messages)
        case .relay: Self.relayed(messages: messages, textSize: 60, isSealed: false)
        case .direct: Self.direct(messages: messages)
        case .relayBulk: Self.relayed(messages: messages, textSize: 1000, isSealed: false)
        case .relaySealed: Self.relayed(messages: messages, textSize: 1000, isSealed: true)
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

/// A `RelayCore` and real Datagram clients passing bytes instantly, in scripted time.
struct InProcessRelay {
    var now = Timestamp.milliseconds(1_000)
    var core: RelayCore
    /// The clients' connections, in an array so they are updated in place; `order[i]` is `clients[i]`'s endpoint.
    var clients: [Connection] = []
    var order: [Endpoint] = []
    var outbox: [(bytes: [UInt8], to: Endpoint)] = []
    var delivered = 0
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

    mutating func join(_ name: String, port: UInt16) -> Int {
        let endpoint = Endpoint(transport: .udp, address: [127, 0, 0, 1], port: port)
        var configuration = Connection.Configuration.coalescing
        if isSealed {
            configuration.sealing = Sealing(crypto: Self.crypto, staticKeyPair: Self.keyPair(UInt8(truncatingIfNeeded: port)),
                                            ephemeralKeyPair: Self.keyPair(UInt8(truncatingIfNeeded: port) &+ 64))
        }
        clients.append(Connection(role: .client, id: ConnectionID(rawValue: UInt32(port)), configuration: configuration, now: now))
        order.append(endpoint)
        pump()
        let hello = ClientMessage.hello(Hello(sessionSecret: SessionSecret(rawValue: UInt64(port)), name: name))
        _ = try? clients[clients.count - 1].send(hello.encoded(), at: now)
        pump()
        return clients.count - 1
    }

    mutating func pump() {
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
            for (bytes, endpoint) in batch {
                if let index = order.firstIndex(of: endpoint) {
                    clients[index].holdsAcknowledgements = true
                    clients[index].handleDatagram(bytes, at: now)
                }
            }
            for index in clients.indices { clients[index].holdsAcknowledgements = false }
            for index in clients.indices {
                var sent: [(bytes: [UInt8], from: Endpoint)] = []
                while let bytes = clients[index].pollTransmit(at: now) { sent.append((bytes, order[index])) }
                if !sent.isEmpty {
                    isMoving = true
                    core.handleDatagrams(sent, at: now)
                }
                while let event = clients[index].pollEvent() {
                    if case .message = event { delivered += 1 }
                }
            }
            isMoving = isMoving || !outbox.isEmpty
        }
    }
}
