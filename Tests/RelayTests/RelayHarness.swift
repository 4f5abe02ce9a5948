import Chat
import Datagram
import LibCrypto
import Relay

/// Drives a `RelayCore` with scripted time and decodes what it sends, per endpoint.
struct RelayHarness {
    var core: RelayCore
    var now = Timestamp.milliseconds(1_000)
    /// Chat messages each TCP endpoint received since the last `take`.
    var inbox: [Endpoint: [RelayMessage]] = [:]
    /// TCP endpoints the relay closed.
    var closedStreams: [Endpoint] = []
    /// Datagrams the relay sent, in order, not yet collected by a UDP client.
    var datagrams: [(bytes: [UInt8], to: Endpoint)] = []
    var logs: [String] = []
    /// Real Datagram clients (see `UDPClients.swift`).
    var udp = UDPClients()
    private var decoders: [Endpoint: FrameDecoder] = [:]

    init(configuration: RelayConfiguration = RelayConfiguration()) {
        core = RelayCore(configuration: configuration, cookieSecret: (0x0123, 0x4567), senderIDs: Self.senderIDs, at: now)
    }

    /// The relay's real derivation (libcrypto's SHA-256), as the relay executable passes it.
    static let senderIDs: @Sendable (SessionSecret) -> SenderID = { SenderID(deriving: $0, sha256: SHA256.hash) }

    /// The sender id others see for the session with secret `secret`.
    static func sender(_ secret: UInt64) -> SenderID { senderIDs(SessionSecret(rawValue: secret)) }

    static func tcp(_ port: UInt16) -> Endpoint { Endpoint(transport: .tcp, address: [127, 0, 0, 1], port: port) }
    static func udp(_ port: UInt16) -> Endpoint { Endpoint(transport: .udp, address: [127, 0, 0, 1], port: port) }

    mutating func advance(by duration: Duration) { now = now + duration }

    /// Drains `pollAction` into the inboxes.
    mutating func collect() {
        while let action = core.pollAction() {
            switch action {
            case let .sendStream(bytes, to):
                decoders[to, default: FrameDecoder()].append(bytes)
                while let frame = try! decoders[to]!.nextFrame() { inbox[to, default: []].append(try! RelayMessage(decoding: frame)) }
            case let .closeStream(endpoint): closedStreams.append(endpoint)
            case let .sendDatagram(bytes, to): datagrams.append((bytes, to))
            case let .log(level, line): logs.append("\(level): \(line)")
            }
        }
    }

    /// What `endpoint` received since the last call, and forgets it.
    mutating func take(_ endpoint: Endpoint) -> [RelayMessage] {
        collect()
        defer { inbox[endpoint] = [] }
        return inbox[endpoint] ?? []
    }

    mutating func open(_ endpoint: Endpoint) {
        core.handleStreamOpened(endpoint, at: now)
        collect()
    }

    mutating func send(_ message: ClientMessage, from endpoint: Endpoint) {
        core.handleStreamBytes(Framing.frame(message.encoded()), from: endpoint, at: now)
        collect()
    }

    mutating func timeout() {
        core.handleTimeout(at: now)
        collect()
    }

    /// Opens a TCP stream and joins as `name`; returns the endpoint with its inbox emptied.
    @discardableResult
    mutating func joinTCP(_ name: String, port: UInt16, session: UInt64? = nil, rooms: [String] = []) -> Endpoint {
        let endpoint = Self.tcp(port)
        open(endpoint)
        send(.hello(Hello(sessionSecret: SessionSecret(rawValue: session ?? UInt64(port)), name: name, rooms: rooms)), from: endpoint)
        _ = take(endpoint)
        return endpoint
    }
}

extension RelayMessage {
    /// The notice carried, if this is a NOTICE.
    var notice: Notice? {
        if case let .notice(notice) = self { return notice }
        return nil
    }

    /// The error code carried, if this is an ERROR.
    var errorCode: ErrorCode? {
        if case let .error(code, _, _) = self { return code }
        return nil
    }
}
