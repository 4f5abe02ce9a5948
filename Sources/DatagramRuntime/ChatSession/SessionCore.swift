import Chat
import Datagram
import LinkSimulator

/// A caller waiting for `leave` to finish.
struct Leaving {
    var deadline: Timestamp
    var completion: @Sendable () -> Void
}

/// A caller of `waitUntilAllAcknowledged`.
struct DrainWaiter {
    var deadline: Timestamp
    var completion: @Sendable (Bool) -> Void
}

/// Everything a `ChatSession` guards with its lock: the ledger, the transport's handles and sources,
/// and the callbacks. Sources are created under the lock and fire on the session's queue.
struct SessionCore {
    /// At most this many requests wait (held, backlogged or unacknowledged) before `say` pushes back.
    static let waitingLimit = 4096

    var ledger: SessionLedger
    var onEvent: (@Sendable (ChatSessionEvent) -> Void)?
    var timer: RearmableTimer?
    /// Requests the link refused for now (a full send queue or socket buffer), retried in order.
    var backlog: [ClientMessage] = []
    var leaving: Leaving?
    /// The relay closed the link after our QUIT: leaving is complete.
    var isLinkEndedWhileLeaving = false
    var drainWaiters: [DrainWaiter] = []
    var linkConditions: LinkConditions?
    var isTracing = false

    // UDP
    var driver: ConnectionDriver?
    var isDriverConnectionFresh = false
    /// The smoothed RTT of the last connection that measured one, for the next handshake.
    var rememberedRoundTripTime: Duration?
    var datagramsSeen = 0

    // TCP
    var stream: StreamHandles?
    var streamGeneration = 0
    var lastHeartbeat: Timestamp?

    init(ledger: SessionLedger) {
        self.ledger = ledger
    }

    /// Sends `request` now if the session is joined, or holds it until it is.
    mutating func submit(_ request: ClientMessage, chatID: UInt64, session: ChatSession, at now: Timestamp) {
        if case .nick(let newName) = request, ledger.phase != .joined {
            ledger.name = newName
            if isLinkUp { transmit(ledger.hello(session.configuration), chatID: 0, session: session, at: now) }
            return
        }
        guard ledger.isSending, backlog.isEmpty else {
            if ledger.isSending { backlog.append(request) } else { ledger.held.append(request) }
            return
        }
        transmit(request, chatID: chatID, session: session, at: now)
    }

    /// Puts `request` on the current link, tracking it until acknowledged.
    mutating func transmit(_ request: ClientMessage, chatID: UInt64, session: ChatSession, at now: Timestamp) {
        switch session.configuration.transport {
        case .udp: transmitDatagram(request, chatID: chatID, session: session, at: now)
        case .tcp: transmitStream(request, chatID: chatID, session: session, at: now)
        }
    }

    /// True when a link exists that HELLO can go out on.
    var isLinkUp: Bool {
        driver != nil || stream != nil
    }

    /// Sends every held request, oldest first.
    mutating func flushHeld(session: ChatSession, at now: Timestamp) {
        let waiting = ledger.held
        ledger.held = []
        for request in waiting {
            submit(request, chatID: request.textMessageID ?? 0, session: session, at: now)
        }
    }

    /// Retries requests the link pushed back, in order, until it pushes back again.
    mutating func retryBacklog(session: ChatSession, at now: Timestamp) {
        guard ledger.isSending else { return }
        while !backlog.isEmpty {
            let request = backlog.removeFirst()
            let before = backlog.count
            transmit(request, chatID: request.textMessageID ?? 0, session: session, at: now)
            if backlog.count > before {
                // Pushed back again: `transmit` appended it, but it must stay ahead of everything
                // newer, or receivers (whose duplicate filter keeps the highest id per sender) would
                // take it for a resend and drop it.
                backlog.insert(backlog.removeLast(), at: 0)
                break
            }
        }
    }

    /// Handles one chat message from the relay.
    mutating func handleRelayBytes(_ bytes: [UInt8], session: ChatSession, at now: Timestamp) {
        ledger.lastContact = now
        let message: RelayMessage
        do {
            message = try RelayMessage(decoding: bytes)
        } catch {
            ledger.statistics.malformedReceived += 1
            ledger.events.append(.warning("dropped a malformed message from the relay: \(error)"))
            return
        }
        switch message {
        case .welcome:
            _ = ledger.absorb(message)
            ledger.events.append(.received(message))
            joined(session: session, at: now)
        case let .error(code, _, text) where ledger.phase != .joined
            && [.nameTaken, .invalidName, .unsupportedVersion].contains(code):
            ledger.events.append(.received(message))
            ledger.events.append(.connection(.refused(reason: text)))
        case let .received(upTo):
            ledger.acknowledge(throughChatID: upTo, at: now)
        case let .notice(notice) where notice.kind == .serverShutdown:
            ledger.shutdownNoticeAt = now
            ledger.events.append(.received(message))
        case let .heartbeatEcho(timestamp):
            let sent = Timestamp(sinceOrigin: .microseconds(Int64(truncatingIfNeeded: timestamp)))
            if sent <= now { ledger.statistics.heartbeatRoundTripTime = now - sent }
        default:
            if ledger.absorb(message) { ledger.events.append(.received(message)) }
        }
    }

    /// WELCOME arrived: send what waited (after the rejoin grace when this is a reconnection).
    private mutating func joined(session: ChatSession, at now: Timestamp) {
        let isReconnection = ledger.hasJoinedBefore
        ledger.phase = .joined
        ledger.shutdownNoticeAt = nil
        ledger.hasJoinedBefore = true
        ledger.reconnectAttempt = 0
        let resent = ledger.held.filter { $0.textMessageID != nil }.count
        if isReconnection {
            ledger.statistics.reconnections += 1
            ledger.statistics.messagesResent += resent
        }
        ledger.events.append(.connection(.joined(name: ledger.name, isReconnection: isReconnection, resent: resent)))
        let grace = session.configuration.rejoinGrace
        if isReconnection, grace > .zero, !ledger.held.isEmpty {
            ledger.holdUntil = now + grace
        } else {
            flushHeld(session: session, at: now)
        }
    }

    /// The link is gone: requeue what it did not deliver and plan the next attempt.
    mutating func linkLost(_ reason: String, session: ChatSession, at now: Timestamp) {
        guard ledger.phase != .closed else { return }
        if case .waitingToReconnect = ledger.phase { return }
        if leaving != nil {
            isLinkEndedWhileLeaving = true
            return
        }
        tearDownStream()
        if session.configuration.transport == .tcp {
            ledger.requeue(undelivered: ledger.unacknowledged.all.map(\.message), backlog: backlog)
        } else {
            ledger.held = backlog + ledger.held
        }
        backlog = []
        ledger.holdUntil = nil
        let attempt = min(ledger.reconnectAttempt, 2)
        let delay: Duration = .milliseconds(250 << attempt)
        let wasJoined = ledger.phase == .joined
        ledger.phase = .waitingToReconnect(at: now + delay)
        ledger.events.append(.connection(wasJoined ? .lost(reason: reason) : .attemptFailed(reason: reason)))
    }

    /// Runs every tick: contact, heartbeats, timeouts, reconnection, the rejoin grace, the backlog.
    mutating func housekeeping(session: ChatSession, at now: Timestamp) {
        if ledger.phase != .closed {
            switch session.configuration.transport {
            case .udp: datagramHousekeeping(session: session, at: now)
            case .tcp: streamHousekeeping(session: session, at: now)
            }
        }
        switch ledger.phase {
        case .waitingToReconnect(let at) where at <= now:
            session.beginConnection(&self, at: now)
        case .joined:
            if let notice = ledger.shutdownNoticeAt, now - notice > session.configuration.shutdownNoticeGrace {
                linkLost("the relay announced its shutdown and went quiet", session: session, at: now)
                return
            }
            if let until = ledger.holdUntil, until <= now {
                ledger.holdUntil = nil
                flushHeld(session: session, at: now)
            }
            retryBacklog(session: session, at: now)
        default:
            break
        }
    }

    /// Callbacks whose condition is met or whose time is up; removed from the core.
    mutating func takeFinishedWaiters(at now: Timestamp) -> [@Sendable () -> Void] {
        var callbacks: [@Sendable () -> Void] = []
        let isDone = ledger.isAllAcknowledged
        var remaining: [DrainWaiter] = []
        for waiter in drainWaiters {
            if isDone || waiter.deadline <= now {
                let completion = waiter.completion
                callbacks.append { completion(isDone) }
            } else {
                remaining.append(waiter)
            }
        }
        drainWaiters = remaining
        if let leaving, isQuitDelivered || leaving.deadline <= now || ledger.phase != .joined {
            shutDown(at: now)
            callbacks.append(leaving.completion)
            self.leaving = nil
        }
        return callbacks
    }

    /// True when the QUIT sent by `leave` has reached the relay (UDP) or the kernel (TCP).
    private var isQuitDelivered: Bool {
        let quitWaiting = ledger.unacknowledged.all.contains { if case .quit = $0.message { true } else { false } }
        let streamWaiting = (stream?.stream.pendingOutputBytes ?? 0) > 0
        return isLinkEndedWhileLeaving || (!quitWaiting && !streamWaiting && backlog.isEmpty)
    }

    /// Stops everything: closes the link, cancels sources and the timer.
    mutating func shutDown(at now: Timestamp) {
        guard ledger.phase != .closed else { return }
        ledger.phase = .closed
        if let driver {
            driver.close(code: 0)
            driver.stop(closingSocket: true)
        }
        if let handles = stream {
            _ = try? handles.stream.flush()
            try? handles.stream.shutdownOutput()
        }
        tearDownStream()
        timer?.cancel()
        timer = nil
        ledger.events.append(.connection(.closed))
    }

    /// The mosh-style status line, or nil when the relay was heard from recently.
    func connectionStatus(relay: SocketAddress, at now: Timestamp) -> String? {
        guard ledger.phase != .closed, let started = ledger.startedAt else { return nil }
        guard ledger.hasJoinedBefore else {
            guard now - started > .seconds(1) else { return nil }
            return ledger.lastContact == nil ? "Nothing received from relay \(relay) yet…" : "Connecting to relay \(relay)…"
        }
        let isJoined = ledger.phase == .joined
        if let last = ledger.lastContact, now - last > .seconds(4) {
            let seconds = (now - last).components.seconds
            return "Last contact \(seconds) second\(seconds == 1 ? "" : "s") ago." + (isJoined ? "" : " Reconnecting…")
        }
        return isJoined ? nil : "Reconnecting to relay \(relay)…"
    }

    /// The ledger's counters with the transport's.
    func currentStatistics() -> ChatSessionStatistics {
        var statistics = ledger.statistics
        if let driver {
            statistics.connection = driver.connectionStatistics
            statistics.driver = driver.statistics
            (statistics.outgoingLink, statistics.incomingLink) = driver.linkStatistics
        }
        return statistics
    }
}
