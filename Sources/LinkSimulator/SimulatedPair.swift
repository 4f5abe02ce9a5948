import Datagram

/// A client and a server `Connection` joined by two `SimulatedLink`s, driven in virtual time.
///
/// The server side is built exactly as a real server builds it: datagrams from the client reach a
/// stateless `CookieJar` until it answers `.accept`, which creates the server `Connection`; once that
/// connection has closed, later datagrams go back to the cookie jar (which answers with a RESET).
///
/// Time jumps straight to the next event, the earliest of both connections' `nextDeadline`, both links'
/// `nextDeliveryTime` and the next planned send, so a minute of simulated traffic costs only the work of
/// its events. At one instant, events run in a fixed order (client-to-server deliveries, server-to-client
/// deliveries, timeouts, planned sends), and each link orders its own datagrams by `(time, entry)`, so a
/// run is a pure function of its `Options` and the planned sends. Each link has its own generator,
/// derived from `Options.seed` and the direction.
///
/// Driving: plan messages with `send(_:on:from:at:)`, then `run(until:stopWhen:)`; read `record(of:)`,
/// `statistics(of:)` and the links' statistics afterwards.
public struct SimulatedPair: Sendable {
    /// Everything that fixes a run.
    public struct Options: Sendable {
        /// The run's seed: link decisions, the connection id and the cookie secret all derive from it.
        public var seed: UInt64
        /// The client's configuration.
        public var clientConfiguration = Connection.Configuration()
        /// The server's configuration.
        public var serverConfiguration = Connection.Configuration()
        /// What the client-to-server direction does to datagrams.
        public var clientToServer = LinkConditions()
        /// What the server-to-client direction does to datagrams.
        public var serverToClient = LinkConditions()
        /// The client's first packet number (set near `UInt32.max` to test wraparound); nil: drawn
        /// from the seed, as a real client draws it at random (wire format, section 4).
        public var clientFirstPacketNumber: UInt32?
        /// The server's first packet number; nil: drawn from the seed.
        public var serverFirstPacketNumber: UInt32?
        /// Keep a line of text per delivery and per traced packet fate in `trace`.
        public var isRecordingTrace = false
        /// Steps allowed at a single instant before the run is declared stalled.
        public var maximumStepsPerInstant = 10_000

        /// Options with perfect links and default configurations.
        public init(seed: UInt64) { self.seed = seed }
    }

    /// The options the pair was built with.
    public let options: Options
    /// The current virtual time.
    public internal(set) var now: Timestamp
    /// The client's connection.
    public internal(set) var client: Connection
    /// The server's connection, once the cookie jar accepted the client.
    public internal(set) var server: Connection?
    /// The link carrying the client's datagrams to the server.
    public internal(set) var clientToServer: SimulatedLink
    /// The link carrying the server's datagrams to the client.
    public internal(set) var serverToClient: SimulatedLink
    /// Datagrams the cookie jar answered (with a COOKIE or a RESET).
    public internal(set) var cookieJarReplies = 0
    /// Reasons the cookie jar gave for dropping datagrams, in order.
    public internal(set) var cookieJarDrops: [String] = []
    /// Server connections lost to `crashServer()`, oldest first.
    public internal(set) var crashedServers: [Connection] = []
    /// One line per delivery and traced packet fate, when `Options.isRecordingTrace` is on.
    public internal(set) var trace: [String] = []

    let cookieJar: CookieJar
    var records: [Side: SideRecord] = [.client: SideRecord(), .server: SideRecord()]
    var planned = TimedQueue<PlannedSend>()
    var blocked: [Side: [PlannedSend]] = [.client: [], .server: []]
    var stepsAtThisInstant = 0

    struct PlannedSend: Sendable {
        var side: Side
        var channel: Channel
        var bytes: [UInt8]
    }

    /// The client's IP address and port as the cookie jar sees them (10.0.0.1:49153).
    public static let clientAddress: [UInt8] = [10, 0, 0, 1, 0xC0, 0x01]

    /// Builds the pair at `start`; the client's HELLO enters its link at once.
    public init(options: Options, start: Timestamp = .zero) {
        self.options = options
        self.now = start
        let id = ConnectionID(rawValue: UInt32(truncatingIfNeeded: SplitMix64.derive(options.seed, 0x1D)))
        client = Connection(role: .client, id: id, configuration: options.clientConfiguration, now: start,
                            firstPacketNumber: options.clientFirstPacketNumber
                                ?? UInt32(truncatingIfNeeded: SplitMix64.derive(options.seed, 0xC1)))
        cookieJar = CookieJar(secret: (SplitMix64.derive(options.seed, 0x5EC1), SplitMix64.derive(options.seed, 0x5EC2)))
        clientToServer = SimulatedLink(conditions: options.clientToServer,
                                       seed: SimulatedLink.seed(for: options.seed, direction: 1))
        serverToClient = SimulatedLink(conditions: options.serverToClient,
                                       seed: SimulatedLink.seed(for: options.seed, direction: 2))
        flush(.client)
    }

    /// What the harness saw `side` do.
    public func record(of side: Side) -> SideRecord { records[side] ?? SideRecord() }

    /// The connection statistics of `side`, or nil for a server not yet created.
    public func statistics(of side: Side) -> Connection.Statistics? {
        side == .client ? client.statistics : server?.statistics
    }

    /// The state of `side`'s connection, or nil for a server not yet created.
    public func state(of side: Side) -> ConnectionState? {
        side == .client ? client.state : server?.state
    }

    /// Plans a message: `side` hands it to `Connection.send` at `time` (now when nil). A message the send
    /// queue pushes back is offered again after every later step, ahead of messages planned after it.
    public mutating func send(_ message: [UInt8], on channel: Channel = .reliableOrdered, from side: Side,
                              at time: Timestamp? = nil) {
        planned.push(PlannedSend(side: side, channel: channel, bytes: message), at: max(time ?? now, now))
    }

    /// Closes `side` at the current time, as its application would.
    public mutating func close(_ side: Side, code: CloseCode = .normal) {
        withConnection(side) { $0.close(code: code, at: $1) }
        flush(side)
    }

    /// The server loses its state at once without sending anything, as a crashed and restarted process
    /// would: its connection is forgotten (kept in `crashedServers`), so the client's next datagrams reach
    /// the cookie jar, which answers them with RESET.
    public mutating func crashServer() {
        guard let server else { return }
        crashedServers.append(server)
        self.server = nil
        note("server crashed")
    }

    /// After `side` closed: its reliable messages never acknowledged (see `Connection`). Empties the list.
    public mutating func takeUnacknowledgedMessages(of side: Side) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        withConnection(side) { connection, _ in messages = connection.takeUnacknowledgedMessages() }
        return messages
    }

    /// Changes what one direction does to datagrams sent from now on (for example, to end a blackhole).
    public mutating func setConditions(_ conditions: LinkConditions, from side: Side) {
        if side == .client { clientToServer.conditions = conditions } else { serverToClient.conditions = conditions }
    }

    /// Planned messages not yet accepted by `send` (not yet due, or pushed back by a full send queue).
    public var pendingSendCount: Int {
        planned.count + blocked.values.reduce(0) { $0 + $1.count }
    }

    /// True when both connections are idle, every planned message was sent and the links are empty.
    public var isSettled: Bool {
        guard let server, client.isIdle, server.isIdle else { return false }
        return planned.isEmpty && blocked.values.allSatisfy(\.isEmpty)
            && clientToServer.nextDeliveryTime == nil && serverToClient.nextDeliveryTime == nil
    }

    func connection(_ side: Side) -> Connection? { side == .client ? client : server }

    func configuration(of side: Side) -> Connection.Configuration {
        side == .client ? options.clientConfiguration : options.serverConfiguration
    }

    /// Runs `body` on `side`'s connection (if it exists) with the current time.
    mutating func withConnection(_ side: Side, _ body: (inout Connection, Timestamp) -> Void) {
        let time = now
        if side == .client {
            body(&client, time)
        } else if server != nil {
            body(&server!, time)
        }
    }
}
