import Chat
import ChatClientCore
import Datagram
import LinkSimulator

/// A chat client core driven by a script: a relay played by the test over TCP frames, and a clock
/// that moves only when told. Everything the core asks for is recorded, in order.
struct ScriptedClient {
    var core: ChatClientCore
    var now = Timestamp.zero
    /// Requests the client wrote, decoded from its frames, since the last `takeSent()`.
    var sent: [ClientMessage] = []
    var events: [ChatSessionEvent] = []
    var opened = 0
    var closed = 0
    var left = 0
    var statuses: [ClientStatus] = []

    init(transport: TransportKind = .tcp, seed: UInt64 = 1, _ adjust: (inout ChatClientConfiguration) -> Void = { _ in }) {
        var configuration = ChatClientConfiguration(name: "alice", transport: transport, sessionSecret: SessionSecret(rawValue: 42))
        adjust(&configuration)
        core = ChatClientCore(configuration: configuration, random: SplitMix64(seed: seed))
    }

    /// Starts the core and lets the stream connect.
    mutating func startAndConnect() {
        core.start(at: now)
        drain()
        connect()
    }

    mutating func connect() {
        core.handleStreamConnected(at: now)
        drain()
    }

    /// The relay says `message`.
    mutating func relay(_ message: RelayMessage) {
        core.handleStreamBytes(Framing.frame(message.encoded()), at: now)
        drain()
    }

    /// The relay welcomes the client (announcing `peerTimeout`).
    mutating func welcome(peerTimeout: Duration = .seconds(10)) {
        relay(.welcome(name: core.name, defaultRoom: "#lobby", peerTimeout: peerTimeout))
    }

    /// The stream ends (the relay went away).
    mutating func streamEnds(_ reason: String = "the relay closed the connection") {
        core.handleStreamEnded(reason: reason, at: now)
        drain()
    }

    /// Moves the clock to `time`, running every deadline on the way.
    mutating func advance(to time: Timestamp) {
        while let deadline = core.nextDeadline, deadline <= time {
            now = max(now, deadline)
            core.handleTimeout(at: now)
            drain()
        }
        now = time
        core.handleTimeout(at: now)
        drain()
    }

    mutating func advance(by duration: Duration) { advance(to: now + duration) }

    mutating func drain() {
        while let action = core.pollAction() {
            switch action {
            case .sendFrame(let frame):
                var decoder = FrameDecoder()
                decoder.append(frame)
                if let payload = try? decoder.nextFrame(), let message = try? ClientMessage(decoding: payload) {
                    sent.append(message)
                }
            case .sendDatagram: break
            case .openStream: opened += 1
            case .closeStream, .finishStream: closed += 1
            case .event(let event): events.append(event)
            case .status(let status): statuses.append(status)
            case .left: left += 1
            }
        }
    }

    /// The requests sent since the last call.
    mutating func takeSent() -> [ClientMessage] {
        defer { sent = [] }
        return sent
    }

    /// The SAY ids sent since the last call (other requests left out).
    mutating func takeSaid() -> [UInt64] {
        takeSent().compactMap { if case let .say(_, id, _, _) = $0 { id } else { nil } }
    }

    /// The connection changes reported since the last call.
    mutating func takeChanges() -> [ConnectionChange] {
        defer { events = [] }
        return events.compactMap { if case .connection(let change) = $0 { change } else { nil } }
    }
}

extension ClientMessage {
    var isHello: Bool { if case .hello = self { true } else { false } }
    var isHeartbeat: Bool { if case .heartbeat = self { true } else { false } }
}
