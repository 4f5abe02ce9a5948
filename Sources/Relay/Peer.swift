import Chat
import Datagram

/// One connection in the relay's table, keyed by its endpoint.
struct Peer: Sendable {
    enum Phase: Sendable, Hashable {
        /// Connected; only HELLO is accepted.
        case awaitingHello
        /// WELCOME sent: a user with a name and rooms.
        case joined
    }

    var endpoint: Endpoint
    /// Creation order, so that iteration over peers is deterministic.
    let serial: Int
    var phase: Phase = .awaitingHello
    /// Set by `beginShutdown`: NOTICE sent; the peer is closed once its connection is idle, or at this time.
    var drainDeadline: Timestamp?
    var name = ""
    /// The secret HELLO presented: only a HELLO with the same secret resumes this session. Never sent
    /// to anyone and never logged.
    var sessionSecret = SessionSecret(rawValue: 0)
    /// What others see as the sender of this user's messages: derived from the secret by the relay.
    var senderID = SenderID(rawValue: 0)
    /// The static key the peer proved in the Noise handshake (Specs/noise.md); nil until the
    /// handshake completes, and for a peer on a plaintext session (`--allow-plaintext`).
    var identityKey: IdentityKey?
    /// The account (by skeleton) this session registered or proved the password of (`/identify`).
    var identifiedAccount: String?
    /// Canonical room keys, in join order.
    var rooms: [String] = []
    var lastHeard: Timestamp
    /// UDP only: the Datagram connection's id (the connection itself lives in `RelayCore.connections`,
    /// so that copying a `Peer` never copies, or forces a copy-on-write of, a connection's buffers).
    var connectionID: ConnectionID?
    /// TCP only: the stream's frame decoder.
    var frames: FrameDecoder?
    /// TCP only: the RTT the client last reported in HEARTBEAT.
    var reportedRoundTripTime: Duration?
    /// TCP only: the highest SAY/PRIVATE id handled, acknowledged with RECEIVED.
    var highestHandledMessageID: UInt64 = 0
    var messagesReceived = 0
    var messagesSent = 0
    /// PRIVATE messages routed to this user whose RECEIPT the relay would pass on (sender, id),
    /// oldest first, at most `RelayCore.maximumAwaitedReceipts` (RelayCore+Receipts.swift).
    var awaitedReceipts: [AwaitedReceipt] = []
    /// With storage: what waits to be sent behind a history read not answered yet
    /// (RelayCore+HistoryOrder.swift); nil almost always.
    var heldOutput: HeldOutput?

    var isJoined: Bool { phase == .joined }

    /// UDP: the connection's smoothed RTT once it has a sample (before that the estimator still holds
    /// `initialRTT`, with no latest sample); TCP: the client's last report.
    func roundTripTime(connection: Connection.Statistics?, initialRTT: Duration) -> Duration? {
        guard let statistics = connection else { return reportedRoundTripTime }
        let hasSample = statistics.latestRTT != .zero || statistics.smoothedRTT != initialRTT
        return hasSample ? statistics.smoothedRTT : nil
    }
}

/// Why a user left, which decides the notice the others get.
enum Departure: Sendable, Hashable, CustomStringConvertible {
    /// The user sent QUIT (with this reason).
    case quit(String)
    /// Silent longer than the peer timeout.
    case timedOut
    /// The stream closed, the connection was reset or gave up, the peer closed.
    case connectionLost
    /// The user's send queue overflowed.
    case sendQueueOverflow
    /// The stream sent something that is not a frame.
    case protocolError(String)
    /// A new connection presented the same session secret and resumed this user's session.
    case replaced
    /// The relay shut down.
    case shutdown
    /// A congested receiver held back its rooms longer than the stalled-receiver timeout.
    case stalled(Duration)
    /// No accepted HELLO within the hello timeout.
    case noHello(Duration)
    /// An administrator disconnected the user (`/kill`, or a relay-wide ban).
    case killed(by: String, reason: String)

    /// How the relay's log says it.
    var description: String {
        switch self {
        case let .quit(reason): reason.isEmpty ? "quit" : "quit (\(SafeText.loggable(reason)))"
        case .timedOut: "timed out"
        case .connectionLost: "connection lost"
        case .sendQueueOverflow: "send queue overflow"
        case let .protocolError(problem): "protocol error: \(problem)"
        case .replaced: "session resumed by a new connection"
        case .shutdown: "relay shut down"
        case let .stalled(time): "too slow: stopped reading for \(RelayCore.describe(time))"
        case let .noHello(time): "no HELLO within \(RelayCore.describe(time))"
        case let .killed(by, reason): "killed by \(SafeText.loggable(by)) (\(SafeText.loggable(reason)))"
        }
    }

    /// The Datagram CLOSE code (wire format, section 7) for this departure.
    var closeCode: CloseCode {
        switch self {
        case .quit, .replaced, .sendQueueOverflow, .connectionLost, .stalled, .killed: .normal
        case .timedOut: .idleTimeout
        case .protocolError, .noHello: .protocolError
        case .shutdown: .shuttingDown
        }
    }

    /// The NOTICE the others get, or nil when they are not told.
    func notice(name: String) -> Notice? {
        switch self {
        case let .quit(reason): Notice(kind: .quit, name: name, detail: reason.isEmpty ? "quit" : reason)
        case .timedOut: Notice(kind: .timedOut, name: name)
        case .connectionLost: Notice(kind: .quit, name: name, detail: "connection lost")
        case .sendQueueOverflow: Notice(kind: .quit, name: name, detail: "send queue overflow")
        case let .protocolError(problem): Notice(kind: .quit, name: name, detail: "protocol error: \(problem)")
        case let .stalled(time): Notice(kind: .quit, name: name, detail: "too slow: stopped reading for \(RelayCore.describe(time))")
        case let .killed(by, reason):
            Notice(kind: .quit, name: name, detail: RelayCore.detail("killed by \(by)\(reason.isEmpty ? "" : ": \(reason)")"))
        case .replaced, .shutdown, .noHello: nil
        }
    }
}

/// A room: its name as first spelled, and its members in join order.
struct Room: Sendable {
    var name: String
    var members: [Endpoint] = []
}
