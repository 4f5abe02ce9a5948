import Transport
import Chat
import Datagram
import Relay
import Noise
import Synchronization

/// Runs a `RelayCore` on real sockets: one UDP socket and one TCP listener on the same port, one
/// serial queue, one timer.
///
/// Every input (a datagram, an accepted or readable stream, the timer, shutdown) runs the same step
/// on `queue`: inside the lock, feed `RelayCore`, drain `pollAction()` into a local list and re-arm
/// the one timer to `nextDeadline`; after unlocking, perform the actions (`sendto`, stream writes,
/// closes, log lines). TCP write backlogs are reported back to the core (`handleStreamBacklog`) so a
/// reader that cannot keep up is disconnected instead of growing the relay's memory.
///
/// `shutDown(reason:completion:)` (on SIGINT or SIGTERM) tells every peer, drains for a bounded time
/// (the core's `shutdownDrainTimeout`, plus one second for TCP buffers), then calls `completion`.
public final class RelayHost: Sendable {
    /// The address both sockets are bound to, with the real port (after `--port 0`).
    public let localAddress: SocketAddress
    /// The serial queue every source, step and timer runs on.
    public let queue: SerialQueue
    let clock: MonotonicClock
    let logger: Logger
    let udp: UDPSocket
    let listener: TCPListener
    let state: Mutex<HostState>

    /// Binds UDP and TCP on `address` (port 0: a free port, the same for both) and prepares the relay.
    /// Nothing is read until `start()`.
    ///
    /// UDP sessions are sealed with `relayKeyPair` (nil: an ephemeral key pair for this run) unless
    /// `configuration.connection.sealing` is set already; `configuration.allowsPlaintext` admits
    /// plaintext sessions too.
    ///
    /// With `storage` (the data directory, already loaded into `storedState`), every change the core
    /// makes is saved there, one transaction per step, before anything that step sends
    /// (RelayHost+Storage.swift).
    public init(bindingTo address: SocketAddress, configuration: RelayConfiguration = RelayConfiguration(),
                relayKeyPair: NoiseKeyPair? = nil,
                logger: Logger, clock: MonotonicClock = .process, storage: sending (any RelayStorage)? = nil,
                storedState: StoredRelayState = StoredRelayState()) throws(SystemError) {
        let configuration = RelayConfiguration.sealedForHost(configuration, keyPair: relayKeyPair)
        (udp, listener) = try RelayHost.bindBoth(address)
        localAddress = try udp.localAddress
        self.clock = clock
        self.logger = logger
        queue = SerialQueue(label: "relay.host")
        let now = clock.now()
        var core = RelayCore(configuration: configuration, cookieSecret: SystemRandom.secret(),
                             senderIDs: SenderIDDerivation.sha256, at: now)
        if storage != nil { core.attachStorage(storedState, at: now) }
        core.passwordHashing = RelayPasswords.hashing
        core.wallClock = StorageClock(now: now, unixMilliseconds: WallClock.millisecondsSinceEpoch())
        state = Mutex(HostState(core: core, storage: storage))
    }

    /// Binds a UDP socket, then a TCP listener on the same port. With port 0 the kernel picks the
    /// UDP port; if TCP finds that number taken, both are tried again (at most 32 times).
    static func bindBoth(_ address: SocketAddress) throws(SystemError) -> (UDPSocket, TCPListener) {
        var attempt = 0
        while true {
            attempt += 1
            let udp = try UDPSocket(bindingTo: address)
            let port = try udp.localAddress.port
            do throws(SystemError) {
                return (udp, try TCPListener(bindingTo: address.withPort(port)))
            } catch where error.isAddressInUse && address.port == 0 && attempt < 32 {
                udp.close()
            }
        }
    }

    /// Starts reading both sockets and arms the timer.
    public func start() {
        state.withLock { host in
            guard host.udpReader == nil else { return }
            // A thread of its own for the UDP socket: one wake-up per datagram, not Dispatch's two
            // (ReadThread.swift).
            host.udpReader = SocketReader(fileDescriptor: udp.fileDescriptor, queue: queue,
                                          onCancel: { [udp] in udp.close() }) { [weak self] in
                self?.handleDatagramsReadable()
            }
            host.listenerSource = ReadSource(fileDescriptor: listener.fileDescriptor, queue: queue,
                                             onCancel: { [listener] in listener.close() }) { [weak self] in
                self?.handleAcceptable()
            }
            host.timer = RearmableTimer(queue: queue) { [weak self] in
                guard let self else { return }
                step { core, now in core.handleTimeout(at: now) }
            }
        }
        logger.debug("reading UDP and TCP on \(localAddress)")
    }

    /// Begins a graceful shutdown: every peer is told, UDP peers are drained (bounded), streams are
    /// flushed and closed; then the sockets close and `completion` runs on `queue`. A second call only
    /// replaces nothing.
    public func shutDown(reason: String, completion: @escaping @Sendable () -> Void) {
        let now = clock.now()
        let isFirst = state.withLock { host -> Bool in
            guard host.shutdownCompletion == nil else { return false }
            host.shutdownCompletion = completion
            host.shutdownDeadline = now + host.core.configuration.shutdownDrainTimeout + .seconds(1)
            return true
        }
        guard isFirst else { return }
        // On the queue, like every other step: two threads performing actions at once could write a
        // stream's sealed frames out of order.
        queue.async { [self] in step { core, now in core.beginShutdown(reason: reason, at: now) } }
    }

    /// The relay's counters.
    public var statistics: RelayStatistics {
        state.withLock { $0.core.statistics }
    }

    /// The users joined now, as WHO shows them.
    public var users: [WhoEntry] {
        state.withLock { $0.core.users }
    }

    /// Runs one input through the core under the lock, then performs the actions it produced.
    func step(_ input: (inout RelayCore, Timestamp) -> Void) {
        let now = clock.now()
        let actions = state.withLock { host -> [RelayAction] in
            input(&host.core, now)
            host.saveChanges(at: now)
            host.applyBackpressureToStreams()
            return host.drain(at: now)
        }
        perform(actions)
        finishShutdownIfDone()
    }
}

/// Everything a `RelayHost` guards with its lock. Sources are created under it and fire on the queue.
struct HostState {
    var core: RelayCore
    var udpReader: SocketReader?
    var listenerSource: ReadSource?
    var timer: RearmableTimer?
    var streams: [Endpoint: StreamEntry] = [:]
    var shutdownCompletion: (@Sendable () -> Void)?
    var shutdownDeadline: Timestamp?
    var isShutDown = false
    /// The data directory, if the relay has one.
    var storage: (any RelayStorage)?

    init(core: RelayCore, storage: (any RelayStorage)? = nil) {
        self.core = core
        self.storage = storage
    }

    /// Streams whose reading is paused because the core holds their sender back.
    var pausedStreams: Set<Endpoint> = []

    /// Pauses reading from TCP senders the core holds back, and resumes the others. Costs nothing
    /// while no peer is congested and no stream is paused.
    mutating func applyBackpressureToStreams() {
        guard core.hasCongestion || !pausedStreams.isEmpty else { return }
        for (endpoint, entry) in streams {
            let isHeld = core.isHeldBack(endpoint)
            entry.readSource.setEnabled(!isHeld)
            if isHeld { pausedStreams.insert(endpoint) } else { pausedStreams.remove(endpoint) }
        }
    }

    /// Takes the core's actions and re-arms the timer to the earliest deadline.
    mutating func drain(at now: Timestamp) -> [RelayAction] {
        var actions: [RelayAction] = []
        while let action = core.pollAction() { actions.append(action) }
        let deadlines = [core.nextDeadline, shutdownDeadline].compactMap { $0 }
        timer?.arm(at: deadlines.min().map { Self.timerGranule(after: $0, now: now) }, now: now)
        return actions
    }

    /// The relay's timer granularity: 1 ms, RFC 9002's kGranularity.
    static let timerGranularity: Int64 = 1_000

    /// A future deadline rounded up to the next whole millisecond of the clock, so the timers of many
    /// peers that fall in the same millisecond (10,000 peers' delayed acknowledgements, at 15,000 a
    /// second) are handled in one wake-up instead of one each. A deadline already due stays `now`.
    /// Nothing is handled more than 1 ms late, which the probe timeout allows for (kGranularity).
    static func timerGranule(after deadline: Timestamp, now: Timestamp) -> Timestamp {
        guard deadline > now else { return now }
        // + 1: `microsecondsSinceOrigin` rounds down, and the granule must never be before the deadline.
        let micros = deadline.microsecondsSinceOrigin + 1
        let rounded = (micros + timerGranularity - 1) / timerGranularity * timerGranularity
        return .microseconds(rounded)
    }
}

/// One accepted TCP stream with its sources.
struct StreamEntry {
    var stream: TCPStream
    var readSource: ReadSource
    var writeSource: WriteSource
    /// The core asked to close it once its buffer is written.
    var isClosing = false
}

extension Endpoint {
    /// The endpoint of `address` over `transport`.
    init(_ address: SocketAddress, transport: TransportKind) {
        self.init(transport: transport, ip: address.ip, port: address.port)
    }

    /// The socket address to send to.
    var socketAddress: SocketAddress {
        SocketAddress(ip: ip, port: port)
    }
}
