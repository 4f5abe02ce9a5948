import Chat
import Datagram
import Relay

/// Real Datagram client connections talking to the harness's relay by passing bytes, in virtual time.
struct UDPClients {
    var connections: [Endpoint: Connection] = [:]
    /// Chat messages each client received since the last `take`.
    var inbox: [Endpoint: [RelayMessage]] = [:]
    /// How each client's connection ended, if it did.
    var closeReasons: [Endpoint: Connection.CloseReason] = [:]
    /// Endpoints whose traffic is lost in both directions (the client vanished).
    var silenced: Set<Endpoint> = []
}

extension RelayHarness {
    /// Creates a client connection at `port` and lets the handshake run.
    @discardableResult
    mutating func connectUDP(port: UInt16, id: UInt32? = nil) -> Endpoint {
        let endpoint = Self.udp(port)
        udp.connections[endpoint] = Connection(role: .client, id: ConnectionID(rawValue: id ?? UInt32(port)), now: now)
        pump()
        return endpoint
    }

    /// Connects over UDP and joins as `name`; returns the endpoint with its inbox emptied.
    @discardableResult
    mutating func joinUDP(_ name: String, port: UInt16, id: UInt32? = nil, session: UInt64? = nil, rooms: [String] = []) -> Endpoint {
        let endpoint = connectUDP(port: port, id: id)
        sendUDP(.hello(Hello(sessionSecret: SessionSecret(rawValue: session ?? UInt64(port)), name: name, rooms: rooms)), from: endpoint)
        _ = takeUDP(endpoint)
        return endpoint
    }

    mutating func sendUDP(_ message: ClientMessage, from endpoint: Endpoint) {
        _ = try? udp.connections[endpoint]?.send(message.encoded(), at: now)
        pump()
    }

    mutating func takeUDP(_ endpoint: Endpoint) -> [RelayMessage] {
        pump()
        defer { udp.inbox[endpoint] = [] }
        return udp.inbox[endpoint] ?? []
    }

    /// Passes datagrams both ways, instantly, until nobody has anything more to send now; returns
    /// every datagram the relay sent, with where it went.
    @discardableResult
    mutating func pump() -> [(bytes: [UInt8], to: Endpoint)] {
        var sent: [(bytes: [UInt8], to: Endpoint)] = []
        var isMoving = true
        while isMoving {
            isMoving = false
            collect()
            let delivered = datagrams
            datagrams = []
            sent += delivered
            for (bytes, endpoint) in delivered where udp.connections[endpoint] != nil && !udp.silenced.contains(endpoint) {
                udp.connections[endpoint]?.handleDatagram(bytes, at: now)
            }
            for endpoint in udp.connections.keys.sorted(by: { $0.port < $1.port }) {
                while let bytes = udp.connections[endpoint]?.pollTransmit(at: now) {
                    isMoving = true
                    if !udp.silenced.contains(endpoint) { core.handleDatagram(bytes, from: endpoint, at: now) }
                }
                while let event = udp.connections[endpoint]?.pollEvent() { record(event, at: endpoint) }
            }
            isMoving = isMoving || !datagrams.isEmpty
        }
        return sent
    }

    /// Runs virtual time forward by `duration`, firing every timer (relay and clients) on time.
    mutating func run(for duration: Duration) {
        let end = now + duration
        for _ in 0..<100_000 {
            let deadlines = [core.nextDeadline] + udp.connections.values.map(\.nextDeadline)
            guard let next = deadlines.compactMap({ $0 }).min(), next <= end else { break }
            now = max(now, next)
            core.handleTimeout(at: now)
            for endpoint in udp.connections.keys { udp.connections[endpoint]?.handleTimeout(at: now) }
            pump()
        }
        now = end
    }

    private mutating func record(_ event: Connection.Event, at endpoint: Endpoint) {
        switch event {
        case let .message(bytes, _):
            udp.inbox[endpoint, default: []].append(try! RelayMessage(decoding: bytes))
        case let .closed(reason):
            udp.closeReasons[endpoint] = reason
        case .connected, .acknowledged, .trace:
            break
        }
    }
}
