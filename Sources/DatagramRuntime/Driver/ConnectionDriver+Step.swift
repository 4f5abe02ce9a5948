import Transport
import Datagram
import LinkSimulator

/// Everything a `ConnectionDriver` guards with its lock. The sources are created under the lock
/// and touched afterwards only from steps, which run on the driver's queue.
struct DriverState {
    var connection: Connection
    var path: SimulatedPath
    var statistics = DriverStatistics()
    var onEvent: (@Sendable (Connection.Event) -> Void)?
    var readSource: SocketReader?
    var timer: RearmableTimer?
    /// Events and datagrams produced outside a step (by `replaceConnection`), delivered by the next one.
    var pendingEvents: [Connection.Event] = []
    var pendingDatagrams: [[UInt8]] = []
    var isStepScheduled = false
    var isStopped = false

    /// What a step hands to the unlocked part: datagrams for `sendto`, events for the callback.
    struct Output {
        var datagrams: [[UInt8]] = []
        var events: [Connection.Event] = []
        var onEvent: (@Sendable (Connection.Event) -> Void)?
    }

    /// Feeds `datagrams` and the time, drains the connection and the links, re-arms the timer.
    mutating func step(receiving datagrams: [[UInt8]], timerFired: Bool, at now: Timestamp) -> Output {
        guard !isStopped else { return Output() }
        for datagram in datagrams {
            if let direct = path.sendIncoming(datagram, at: now) { connection.handleDatagram(direct, at: now) }
        }
        while let delayed = path.pollIncoming(at: now) {
            connection.handleDatagram(delayed, at: now)
        }
        if timerFired, let deadline = connection.nextDeadline, deadline <= now {
            connection.handleTimeout(at: now)
        }
        var output = Output(datagrams: pendingDatagrams, events: pendingEvents, onEvent: onEvent)
        pendingDatagrams = []
        pendingEvents = []
        while let datagram = connection.pollTransmit(at: now) {
            if let direct = path.sendOutgoing(datagram, at: now) { output.datagrams.append(direct) }
        }
        while let delayed = path.pollOutgoing(at: now) {
            output.datagrams.append(delayed)
        }
        while let event = connection.pollEvent() {
            output.events.append(event)
        }
        let deadlines = [connection.nextDeadline, path.nextDeliveryTime].compactMap { $0 }
        timer?.arm(at: deadlines.min(), now: now)
        return output
    }

    /// Swaps in `replacement`, keeping what the old connection still had to say.
    mutating func replaceConnection(with replacement: Connection, at now: Timestamp) -> Connection {
        var old = connection
        if case .closed = old.state {} else { old.close(code: .normal, at: now) }
        while let datagram = old.pollTransmit(at: now) { pendingDatagrams.append(datagram) }
        while let event = old.pollEvent() { pendingEvents.append(event) }
        connection = replacement
        return old
    }
}

extension ConnectionDriver {
    /// The inputs a step can have.
    enum StepInput {
        case datagrams([[UInt8]])
        case timer
        case flush
    }

    /// Runs one step on the queue: the locked part, then `sendto` and the callback.
    func step(_ input: StepInput) {
        queue.preconditionOnQueue()
        let now = clock.now()
        let output = state.withLock { state -> DriverState.Output in
            switch input {
            case .datagrams(let datagrams):
                return state.step(receiving: datagrams, timerFired: false, at: now)
            case .timer:
                return state.step(receiving: [], timerFired: true, at: now)
            case .flush:
                state.isStepScheduled = false
                return state.step(receiving: [], timerFired: false, at: now)
            }
        }
        transmit(output.datagrams)
        if let onEvent = output.onEvent {
            for event in output.events { onEvent(event) }
        }
    }

    /// Asks for a step on the queue, unless one is already on its way.
    func scheduleStep() {
        let shouldSchedule = state.withLock { state -> Bool in
            guard !state.isStepScheduled, !state.isStopped else { return false }
            state.isStepScheduled = true
            return true
        }
        if shouldSchedule {
            queue.async { [weak self] in self?.step(.flush) }
        }
    }

    /// Reads up to `readBatchLimit` datagrams from the socket and steps with those from the peer.
    func handleReadable() {
        var batch: [[UInt8]] = []
        var others = 0
        var failure: SystemError?
        // recvmmsg: up to 32 datagrams per system call (UDPSocket+Batch.swift).
        do throws(SystemError) {
            for (bytes, sender) in try socket.receiveBatch(maximum: ConnectionDriver.readBatchLimit) {
                if sender == peer { batch.append(bytes) } else { others += 1 }
            }
        } catch {
            failure = error
        }
        let received = batch.count
        state.withLock { state in
            state.statistics.datagramsReceived += received
            state.statistics.datagramsFromOtherAddresses += others
            if let failure { state.record(failure) }
            // A closed descriptor would make the level-triggered source fire forever.
            if failure?.isBadDescriptor == true { state.readSource?.cancel() }
        }
        step(.datagrams(batch))
    }

    /// Puts datagrams on the socket, counting failures; runs outside the lock.
    private func transmit(_ datagrams: [[UInt8]]) {
        guard !datagrams.isEmpty else { return }
        // sendmmsg: up to 32 datagrams per system call (UDPSocket+Batch.swift).
        let result = socket.sendBatch(datagrams.map { ($0, peer) })
        let sent = result.sent, dropped = result.dropped, failure = result.failure
        state.withLock { state in
            state.statistics.datagramsSent += sent
            state.statistics.sendsDropped += dropped
            if let failure { state.record(failure) }
        }
    }
}

extension DriverState {
    mutating func record(_ failure: SystemError) {
        statistics.socketErrors += 1
        statistics.lastSocketError = failure
    }
}
