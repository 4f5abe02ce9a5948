import Datagram

extension SimulatedPair {
    /// The time of the next event, or nil when nothing is left to happen.
    public var nextEventTime: Timestamp? {
        let candidates = [client.nextDeadline, server?.nextDeadline, clientToServer.nextDeliveryTime,
                          serverToClient.nextDeliveryTime, planned.earliestTime]
        return candidates.compactMap { $0 }.min()
    }

    /// Runs events until `stopWhen` holds (checked after every step), nothing is left to happen, the next
    /// event lies after `limit`, or time stops advancing.
    @discardableResult
    public mutating func run(until limit: Timestamp,
                             stopWhen isDone: (SimulatedPair) -> Bool = { _ in false }) -> RunOutcome {
        while true {
            if isDone(self) { return .finished }
            guard let next = nextEventTime else { return .quiescent }
            if next > limit { return .timeLimit }
            if !step(to: next) { return .stalled(at: now) }
        }
    }

    /// Moves time to `time` (or keeps it, if earlier) and runs everything due; false if stalled.
    mutating func step(to time: Timestamp) -> Bool {
        if time > now {
            now = time
            stepsAtThisInstant = 0
        }
        stepsAtThisInstant += 1
        if stepsAtThisInstant > options.maximumStepsPerInstant { return false }
        deliverDue()
        fireTimeouts()
        sendDue()
        checkCaps()
        return true
    }

    private mutating func deliverDue() {
        while let datagram = clientToServer.pollDelivery(at: now) {
            note("client→server \(datagram.count) bytes delivered")
            receiveAtServer(datagram)
            retryBlocked()
        }
        while let datagram = serverToClient.pollDelivery(at: now) {
            note("server→client \(datagram.count) bytes delivered")
            client.handleDatagram(datagram, at: now)
            flush(.client)
            retryBlocked()
        }
    }

    /// The server's demultiplexer: its live connection, or else the stateless cookie jar.
    private mutating func receiveAtServer(_ datagram: [UInt8]) {
        if isServerLive {
            server!.handleDatagram(datagram, at: now)
            flush(.server)
            return
        }
        switch cookieJar.respond(to: datagram, from: Self.clientAddress, at: now) {
        case let .reply(bytes):
            cookieJarReplies += 1
            let fate = serverToClient.send(bytes, at: now)
            note("cookie jar→client \(bytes.count) bytes enter the link: \(fate)")
        case let .accept(id):
            guard server == nil else {
                cookieJarDrops.append("HELLO after the server connection closed")
                return
            }
            server = Connection(role: .server, id: id, configuration: options.serverConfiguration, now: now,
                                firstPacketNumber: options.serverFirstPacketNumber
                                    ?? UInt32(truncatingIfNeeded: SplitMix64.derive(options.seed, 0x5E)))
            server!.resetToken = cookieJar.resetToken(for: id)
            server!.handleDatagram(datagram, at: now)
            flush(.server)
        case let .drop(reason):
            cookieJarDrops.append(reason)
        }
    }

    /// True when the server connection exists and has not closed (a real server forgets closed ones).
    private var isServerLive: Bool {
        guard let server else { return false }
        if case .closed = server.state { return false }
        return true
    }

    private mutating func fireTimeouts() {
        for side in Side.allCases {
            guard let deadline = connection(side)?.nextDeadline, deadline <= now else { continue }
            withConnection(side) { $0.handleTimeout(at: $1) }
            flush(side)
        }
    }

    private mutating func sendDue() {
        while let send = planned.popDue(at: now) {
            blocked[send.side, default: []].append(send)
        }
        retryBlocked()
    }

    /// Offers each side's waiting messages in order, stopping at the first the send queue pushes back.
    private mutating func retryBlocked() {
        for side in Side.allCases where !(blocked[side]?.isEmpty ?? true) {
            guard connection(side) != nil else { continue }
            while let first = blocked[side]?.first, offer(first) {
                blocked[side]!.removeFirst()
            }
            flush(side)
        }
    }

    /// Hands one message to its side's connection; false when the send queue pushed back.
    private mutating func offer(_ send: PlannedSend) -> Bool {
        var result: Result<MessageID, SendError> = .failure(.connectionClosed)
        let queuedBefore = connection(send.side)?.statistics.queuedBytes ?? 0
        withConnection(send.side) { connection, time in
            result = Result { () throws(SendError) -> MessageID in
                try connection.send(send.bytes, on: send.channel, at: time)
            }
        }
        switch result {
        case let .success(id):
            records[send.side]!.sent.append(SentMessage(id: id, channel: send.channel, bytes: send.bytes, time: now))
            let limit = configuration(of: send.side).sendQueueLimit
            if queuedBefore > 0, queuedBefore + send.bytes.count > limit {
                records[send.side]!.capViolations.append(
                    "\(now): accepted \(send.bytes.count) bytes with \(queuedBefore) queued and a limit of \(limit)")
            }
            return true
        case .failure(.sendQueueFull):
            records[send.side]!.pushbacks += 1
            return false
        case let .failure(error):
            records[send.side]!.refused.append((send.bytes, error))
            return true
        }
    }

    /// Drains `side`'s transmissions into its outgoing link and its events into its record.
    mutating func flush(_ side: Side) {
        let before = connection(side)?.statistics
        var outgoing: [[UInt8]] = []
        var events: [Connection.Event] = []
        withConnection(side) { connection, time in
            while let datagram = connection.pollTransmit(at: time) { outgoing.append(datagram) }
            while let event = connection.pollEvent() { events.append(event) }
        }
        for datagram in outgoing {
            let fate = side == .client ? clientToServer.send(datagram, at: now) : serverToClient.send(datagram, at: now)
            note("\(side)→\(side.peer) \(datagram.count) bytes enter the link: \(fate)")
        }
        for event in events { record(event, on: side) }
        if let before, let after = connection(side)?.statistics { checkWindow(on: side, before: before, after: after) }
    }

    /// A sender may put new data in flight only while under its congestion window, then overshoot it by at
    /// most one datagram; probes may go beyond it, two datagrams at most (RFC 9002 sections 7 and 7.5).
    /// The window itself may drop below what is in flight when a loss halves it: that is not a violation.
    private mutating func checkWindow(on side: Side, before: Connection.Statistics, after: Connection.Statistics) {
        guard configuration(of: side).congestionControl == .newReno, after.congestionWindow > 0 else { return }
        let added = after.bytesInFlight - before.bytesInFlight
        let allowance = max(0, after.congestionWindow - before.bytesInFlight) + Limits.maximumDatagramSize
        if added > allowance + 2 * Limits.maximumDatagramSize {
            records[side]!.capViolations.append(
                "\(now): \(added) bytes put in flight with \(before.bytesInFlight) already in flight and a congestion "
                + "window of \(after.congestionWindow)")
        }
    }

    private mutating func record(_ event: Connection.Event, on side: Side) {
        if records[side]!.closed != nil, event.isAfterCloseViolation {
            records[side]!.contractViolations.append("\(event) after .closed at \(now)")
        }
        switch event {
        case .connected:
            if records[side]!.connectedAt != nil { records[side]!.contractViolations.append("second .connected at \(now)") }
            records[side]!.connectedAt = now
        case let .message(bytes, channel):
            if records[side]!.connectedAt == nil {
                records[side]!.contractViolations.append("message before .connected at \(now)")
            }
            records[side]!.received.append(ReceivedMessage(channel: channel, bytes: bytes, time: now))
        case let .acknowledged(id):
            records[side]!.acknowledged.append(id)
        case let .closed(reason):
            if records[side]!.closed != nil { records[side]!.contractViolations.append("second .closed at \(now)") }
            records[side]!.closed = (reason, now)
        case let .trace(fate):
            note("\(side) \(fate)")
        }
    }

    private mutating func checkCaps() {
        for side in Side.allCases {
            guard let connection = connection(side) else { continue }
            let statistics = connection.statistics
            records[side]!.peakQueuedBytes = max(records[side]!.peakQueuedBytes, statistics.queuedBytes)
            records[side]!.peakBytesInFlight = max(records[side]!.peakBytesInFlight, statistics.bytesInFlight)
            // One message is always accepted into an empty queue, so the cap is the larger of the two.
            let cap = max(configuration(of: side).sendQueueLimit, Limits.maximumMessageSize)
            if statistics.queuedBytes > cap {
                records[side]!.capViolations.append("\(now): queuedBytes \(statistics.queuedBytes) > \(cap)")
            }
        }
    }

    mutating func note(_ line: @autoclosure () -> String) {
        if options.isRecordingTrace { trace.append("\(now) \(line())") }
    }
}

extension Connection.Event {
    /// True for events a closed connection must never produce (it may still trace).
    fileprivate var isAfterCloseViolation: Bool {
        switch self {
        case .trace: false
        default: true
        }
    }
}
