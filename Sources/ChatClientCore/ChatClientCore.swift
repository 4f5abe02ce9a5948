import Chat
import Datagram

/// Every rule of one user's chat session with a relay, as a sans-IO state machine: handshake and
/// join, reconnection with backoff and jitter, resending after a reconnection, the backlog and its
/// order, heartbeats and their timeouts, duplicate hiding, status.
///
/// The contract is `RelayCore`'s: feed it inputs with the current time (`handle…(at:)`, the
/// requests), then drain `pollAction()` and perform each action in order (send a datagram or a
/// frame, open or close a stream, show an event); call `handleTimeout(at:)` at `nextDeadline`.
/// Time and randomness come from outside; nothing here touches a socket or a clock.
///
/// Over UDP the core owns the Datagram `Connection` (a new one per reconnection, on the shell's one
/// socket) and asks the shell to send its datagrams. Over TCP it asks the shell to open a stream,
/// hands it frames, and is told what was read and how much output is still buffered.
public struct ChatClientCore: Sendable {
    public let configuration: ChatClientConfiguration
    var ledger: SessionLedger
    var random: any RandomNumberGenerator & Sendable

    /// Requests the link refused for now (a full send queue or output buffer), retried in order.
    var backlog: [ClientMessage] = []
    var actions: [ClientAction] = []
    var actionHead = 0
    var lastStatus: ClientStatus?
    var isTracing: Bool

    // Leaving
    var leaveDeadline: Timestamp?
    /// The relay closed the link after our QUIT: leaving is complete.
    var isLinkEndedWhileLeaving = false
    /// NOTICE `sessionResumed` arrived: another run took the session; no reconnection follows.
    var isSessionTaken = false

    // UDP
    var connection: Connection?
    /// The keepalive interval the current Datagram connection was made with.
    var connectionKeepaliveInterval: Duration = .zero
    /// The smoothed RTT of the last connection that measured one, for the next handshake.
    var rememberedRoundTripTime: Duration?

    // TCP
    var isStreamOpen = false
    var decoder = FrameDecoder()
    var lastRead: Timestamp?
    var streamPendingBytes = 0

    // Heartbeats
    var lastHeartbeat: Timestamp?
    /// The peer timeout the relay announced in its last WELCOME.
    var announcedPeerTimeout: Duration?

    /// A core for `configuration`; `random` gives connection ids and reconnection jitter.
    public init(configuration: ChatClientConfiguration, random: some RandomNumberGenerator & Sendable) {
        self.configuration = configuration
        self.ledger = SessionLedger(configuration: configuration)
        self.random = random
        self.isTracing = configuration.isTracing
    }

    // MARK: Actions

    /// The next thing the shell must do, or nil when there is nothing.
    public mutating func pollAction() -> ClientAction? {
        guard actionHead < actions.count else {
            if actionHead > 0 { actions.removeAll(keepingCapacity: true); actionHead = 0 }
            return nil
        }
        defer { actionHead += 1 }
        return actions[actionHead]
    }

    mutating func show(_ event: ChatSessionEvent) {
        actions.append(.event(event))
    }

    /// Queues `.status` when the status changed.
    mutating func reportStatus(at now: Timestamp) {
        let status = status(at: now)
        if status != lastStatus {
            lastStatus = status
            actions.append(.status(status))
        }
    }

    // MARK: Requests

    /// Connects and joins. Over UDP the first datagrams are queued at once.
    public mutating func start(at now: Timestamp) {
        guard ledger.phase == .idle else { return }
        ledger.startedAt = now
        beginConnection(at: now)
        finish(at: now)
    }

    /// Says `text` in `room` (an action for `/me` when `isAction`); returns the message id.
    public mutating func say(_ text: String, in room: String, isAction: Bool = false, at now: Timestamp) throws(ChatSendError) -> UInt64 {
        try sendText(text, at: now) { id in .say(room: room, messageID: id, flags: isAction ? .action : [], text: text) }
    }

    /// Says `text` to the user `name` only; returns the message id.
    public mutating func sendPrivate(_ text: String, to name: String, isAction: Bool = false, at now: Timestamp) throws(ChatSendError) -> UInt64 {
        try sendText(text, at: now) { id in .privateMessage(to: name, messageID: id, flags: isAction ? .action : [], text: text) }
    }

    /// Sends a request that carries no text: JOIN_ROOM, PART_ROOM, LIST_ROOMS, WHO, NICK.
    public mutating func send(_ request: ClientMessage, at now: Timestamp) {
        guard ledger.phase != .closed else { return }
        submit(request, at: now)
        finish(at: now)
    }

    /// How many requests wait (held, backlogged or unacknowledged).
    public var waitingCount: Int { ledger.held.count + backlog.count + ledger.unacknowledged.count }

    /// True when `say` would refuse for a full window (`waitingLimit`).
    public var isWindowFull: Bool { waitingCount >= configuration.waitingLimit }

    private mutating func sendText(_ text: String, at now: Timestamp, _ make: (UInt64) -> ClientMessage) throws(ChatSendError) -> UInt64 {
        let size = text.utf8.count
        guard size <= ChatLimits.maximumTextLength else {
            throw .textTooLong(bytes: size, limit: ChatLimits.maximumTextLength)
        }
        guard ledger.phase != .closed else { throw .sessionClosed }
        guard !isWindowFull else { throw .queueFull(waiting: waitingCount) }
        let id = ledger.takeMessageID()
        ledger.statistics.messagesSent += 1
        submit(make(id), at: now)
        finish(at: now)
        return id
    }

    /// Sends QUIT with `reason` and waits at most `timeout` for it to be delivered; then closes and
    /// queues `.left`. Anything not yet acknowledged stays unacknowledged.
    public mutating func leave(reason: String, timeout: Duration, at now: Timestamp) {
        guard ledger.phase != .closed else {
            actions.append(.left)
            return
        }
        if ledger.phase == .joined {
            ledger.holdUntil = nil
            flushHeld(at: now)
            submit(.quit(reason: reason), at: now)
        }
        leaveDeadline = now + timeout
        finish(at: now)
    }

    /// Closes at once without QUIT (the relay sees the connection go) and stops all activity.
    public mutating func close(at now: Timestamp) {
        shutDown(at: now)
        finish(at: now)
    }

    /// Switches `.trace` events on or off (UDP).
    public mutating func setTracing(_ isOn: Bool) {
        isTracing = isOn
        connection?.isTracing = isOn
    }

    // MARK: Inputs from the shell

    /// A datagram from the relay's address (UDP).
    public mutating func handleDatagram(_ datagram: [UInt8], at now: Timestamp) {
        guard ledger.phase != .closed, connection != nil else { return }
        ledger.lastContact = now
        connection?.handleDatagram(datagram, at: now)
        finish(at: now)
    }

    /// The stream asked for by `.openStream` is connected (TCP).
    public mutating func handleStreamConnected(at now: Timestamp) {
        guard case .connecting = ledger.phase, !isStreamOpen else { return }
        isStreamOpen = true
        decoder = FrameDecoder()
        streamPendingBytes = 0
        lastRead = now
        lastHeartbeat = now
        transmit(ledger.hello(configuration), at: now)
        finish(at: now)
    }

    /// Bytes read from the stream (TCP).
    public mutating func handleStreamBytes(_ bytes: [UInt8], at now: Timestamp) {
        guard isStreamOpen, !bytes.isEmpty else { return }
        lastRead = now
        ledger.statistics.streamBytesReceived += bytes.count
        decoder.append(bytes)
        do throws(FrameError) {
            while let frame = try decoder.nextFrame() {
                handleRelayBytes(frame, at: now)
                guard isStreamOpen else { break }
            }
        } catch {
            linkLost("bad frame from the relay: \(error)", at: now)
        }
        finish(at: now)
    }

    /// The stream ended, failed, or could not be opened (TCP); `reason` in words.
    public mutating func handleStreamEnded(reason: String, at now: Timestamp) {
        if !isStreamOpen {
            guard case .connecting = ledger.phase else { return }
        }
        linkLost(reason, at: now)
        finish(at: now)
    }

    /// The stream's output buffer now holds `pendingBytes` (TCP): after a write or a flush.
    public mutating func handleStreamOutput(pendingBytes: Int, at now: Timestamp) {
        guard isStreamOpen else { return }
        streamPendingBytes = pendingBytes
        retryBacklog(at: now)
        finish(at: now)
    }

    /// Time passed: timers of the connection, heartbeats, silence, reconnection, grace periods.
    public mutating func handleTimeout(at now: Timestamp) {
        guard ledger.phase != .closed else { return }
        if var connection, let deadline = connection.nextDeadline, deadline <= now {
            connection.handleTimeout(at: now)
            self.connection = connection
        }
        switch configuration.transport {
        case .udp: datagramHousekeeping(at: now)
        case .tcp: streamHousekeeping(at: now)
        }
        switch ledger.phase {
        case .waitingToReconnect(let at) where at <= now:
            beginConnection(at: now)
        case .joined:
            if let notice = ledger.shutdownNoticeAt, now - notice >= configuration.shutdownNoticeGrace {
                linkLost("the relay announced its shutdown and went quiet", at: now)
                break
            }
            if let until = ledger.holdUntil, until <= now {
                ledger.holdUntil = nil
                flushHeld(at: now)
            }
            sendHeartbeatIfDue(at: now)
        default:
            break
        }
        finish(at: now)
    }

    /// The earliest time `handleTimeout` has something to do, or nil.
    public var nextDeadline: Timestamp? {
        guard ledger.phase != .closed else { return nil }
        var deadlines: [Timestamp?] = [connection?.nextDeadline, leaveDeadline]
        switch ledger.phase {
        case .waitingToReconnect(let at):
            deadlines.append(at)
        case .connecting(let since):
            switch configuration.transport {
            case .udp:
                let isUnanswered = ledger.lastContact.map { $0 < since } ?? true
                if isUnanswered { deadlines.append(since + configuration.handshakeUnansweredLimit) }
                deadlines.append(since + configuration.handshakeLimit)
            case .tcp:
                deadlines.append(isStreamOpen ? nil : since + configuration.streamConnectLimit)
            }
        case .joined:
            deadlines.append(ledger.holdUntil)
            deadlines.append(ledger.shutdownNoticeAt.map { $0 + configuration.shutdownNoticeGrace })
            deadlines.append(nextHeartbeat)
        default:
            break
        }
        if configuration.transport == .tcp, isStreamOpen {
            deadlines.append(lastRead.map { $0 + configuration.streamSilenceLimit })
            if ledger.phase != .joined { deadlines.append(nextHeartbeat) }
        }
        return deadlines.compactMap { $0 }.min()
    }

    // MARK: Observation

    /// True when nothing waits to be sent and the relay acknowledged every SAY, PRIVATE and room change.
    public var isAllAcknowledged: Bool { ledger.isAllAcknowledged && backlog.isEmpty }

    /// What has not been acknowledged yet, oldest first.
    public var pendingMessages: [PendingMessage] {
        ledger.pendingMessages + backlog.map { PendingMessage(messageID: $0.textMessageID ?? 0, summary: $0.summary) }
    }

    /// The name the relay knows us by.
    public var name: String { ledger.name }
    /// The rooms we are in, in the order joined.
    public var rooms: [String] { ledger.rooms }
    /// True once WELCOME has arrived on the current link.
    public var isJoined: Bool { ledger.phase == .joined }
    /// True after `close`, or once `leave` finished.
    public var isClosed: Bool { ledger.phase == .closed }
    /// The session's counters, with the current Datagram connection's.
    public var statistics: ChatSessionStatistics {
        var statistics = ledger.statistics
        statistics.connection = connection?.statistics
        return statistics
    }

    /// The interval between heartbeats now: derived from WELCOME's peer timeout once announced.
    public var currentHeartbeatInterval: Duration {
        configuration.heartbeatInterval(peerTimeout: announcedPeerTimeout)
    }

    /// Where the session stands.
    public func status(at now: Timestamp) -> ClientStatus {
        switch ledger.phase {
        case .closed: return isSessionTaken ? .sessionTaken : .closed
        case .idle: return .connecting(heardFromRelay: false)
        default: break
        }
        guard ledger.hasJoinedBefore else { return .connecting(heardFromRelay: ledger.lastContact != nil) }
        let isJoined = ledger.phase == .joined
        if let last = ledger.lastContact, now - last > configuration.statusQuietAfter {
            return .quiet(silence: now - last, isReconnecting: !isJoined)
        }
        return isJoined ? .joined : .reconnecting
    }

    /// The status worth telling the user (in the manner of mosh), or nil when all is well: nothing
    /// during the first `statusConnectingAfter`, nothing while joined and in contact.
    public func noticeableStatus(at now: Timestamp) -> ClientStatus? {
        let status = status(at: now)
        switch status {
        case .joined, .closed: return nil
        case .connecting:
            guard let started = ledger.startedAt, now - started > configuration.statusConnectingAfter else { return nil }
            return status
        default: return status
        }
    }

    // MARK: Rules

    /// Queues what the connection has to send and handles what it reports, then the status.
    mutating func finish(at now: Timestamp) {
        while var connection {
            var events: [Connection.Event] = []
            while let event = connection.pollEvent() { events.append(event) }
            while let datagram = connection.pollTransmit(at: now) { actions.append(.sendDatagram(datagram)) }
            self.connection = connection
            if events.isEmpty { break }
            for event in events { handleConnectionEvent(event, at: now) }
        }
        finishLeavingIfDone(at: now)
        reportStatus(at: now)
    }

    mutating func handleConnectionEvent(_ event: Connection.Event, at now: Timestamp) {
        switch event {
        case .connected:
            ledger.lastContact = now
        case .message(let bytes, _):
            handleRelayBytes(bytes, at: now)
        case .acknowledged(let id):
            if let sent = ledger.acknowledge(key: id.rawValue, at: now), sent.chatID != 0 {
                show(.acknowledged(messageID: sent.chatID))
            }
            retryBacklog(at: now)
        case .closed(.local):
            break
        case .closed(let reason):
            linkLost(Self.describe(reason), at: now)
        case .trace(let fate):
            if isTracing { show(.trace(fate)) }
        }
    }

    /// Words for why a Datagram connection closed.
    public static func describe(_ reason: Connection.CloseReason) -> String {
        switch reason {
        case .local: "closed"
        case .peer(code: .shuttingDown): "the relay is shutting down"
        case .peer(code: .refused): "the relay refused the connection (full)"
        case .peer(code: .protocolError): "the relay reported a protocol error (code 2)"
        case .peer(let code): "the relay closed the connection (code \(code.rawValue))"
        case .reset: "the relay does not know this connection (it restarted?)"
        case .idleTimeout: "nothing heard from the relay (idle timeout)"
        case .probeTimeout: "the relay stopped answering (probe timeout)"
        case .protocolViolation: "the relay broke the protocol (undeliverable data; CLOSE code 2 sent)"
        }
    }

    /// Sends `request` now if the session is joined, or holds it until it is.
    mutating func submit(_ request: ClientMessage, at now: Timestamp) {
        if case .nick(let newName) = request, ledger.phase != .joined {
            ledger.name = newName
            if isLinkUp { transmit(ledger.hello(configuration), at: now) }
            return
        }
        guard ledger.isSending, backlog.isEmpty else {
            if ledger.isSending { backlog.append(request) } else { ledger.held.append(request) }
            return
        }
        transmit(request, at: now)
    }

    /// True when a link exists that HELLO can go out on.
    var isLinkUp: Bool {
        switch configuration.transport {
        case .udp: connection.map { !$0.isClosed } ?? false
        case .tcp: isStreamOpen
        }
    }

    /// Puts `request` on the current link, tracking it until acknowledged; a full link puts it in
    /// the backlog.
    mutating func transmit(_ request: ClientMessage, at now: Timestamp) {
        let chatID = request.textMessageID ?? 0
        switch configuration.transport {
        case .udp:
            guard var connection else { return }
            do throws(SendError) {
                let id = try connection.send(request.encoded(), at: now)
                ledger.unacknowledged.append(SentMessage(key: id.rawValue, chatID: chatID, message: request))
            } catch .sendQueueFull {
                backlog.append(request)
            } catch .connectionClosed {
                if !request.isPerConnection { ledger.held.append(request) }
            } catch {
                show(.warning("not sent: \(error)"))
            }
            self.connection = connection
        case .tcp:
            guard isStreamOpen else {
                if !request.isPerConnection { ledger.held.append(request) }
                return
            }
            let frame = Framing.frame(request.encoded())
            guard streamPendingBytes == 0 || streamPendingBytes + frame.count <= configuration.streamOutputLimit else {
                backlog.append(request)
                return
            }
            streamPendingBytes += frame.count
            actions.append(.sendFrame(frame))
            ledger.statistics.streamBytesSent += frame.count
            if chatID != 0 {
                ledger.unacknowledged.append(SentMessage(key: chatID, chatID: chatID, message: request))
            }
        }
    }

    /// Sends every held request, oldest first.
    mutating func flushHeld(at now: Timestamp) {
        let waiting = ledger.held
        ledger.held = []
        for request in waiting { submit(request, at: now) }
    }

    /// Retries requests the link pushed back, in order, until it pushes back again.
    mutating func retryBacklog(at now: Timestamp) {
        guard ledger.isSending else { return }
        while !backlog.isEmpty {
            let request = backlog.removeFirst()
            let before = backlog.count
            transmit(request, at: now)
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
    mutating func handleRelayBytes(_ bytes: [UInt8], at now: Timestamp) {
        ledger.lastContact = now
        let message: RelayMessage
        do {
            message = try RelayMessage(decoding: bytes)
        } catch {
            ledger.statistics.malformedReceived += 1
            show(.warning("dropped a malformed message from the relay: \(error)"))
            return
        }
        switch message {
        case let .welcome(_, _, peerTimeout):
            _ = ledger.absorb(message)
            announcedPeerTimeout = peerTimeout
            show(.received(message))
            joined(at: now)
        case let .error(code, _, text) where ledger.phase != .joined
            && [.nameTaken, .invalidName, .unsupportedVersion, .banned].contains(code):
            show(.received(message))
            show(.connection(.refused(reason: text)))
        case let .received(upTo):
            for sent in ledger.acknowledge(throughChatID: upTo, at: now) { show(.acknowledged(messageID: sent.chatID)) }
        case let .notice(notice) where notice.kind == .serverShutdown:
            ledger.shutdownNoticeAt = now
            show(.received(message))
        case let .notice(notice) where notice.kind == .sessionResumed:
            show(.received(message))
            sessionTaken(name: notice.name, at: now)
        case let .notice(notice) where notice.kind == .killed:
            // An administrator disconnected this session: reconnecting on its own would undo it.
            show(.received(message))
            shutDown(at: now)
        case let .heartbeatEcho(timestamp):
            let sent = Timestamp(sinceOrigin: .microseconds(Int64(truncatingIfNeeded: timestamp)))
            if sent <= now { ledger.statistics.heartbeatRoundTripTime = now - sent }
        default:
            if ledger.absorb(message) { show(.received(message)) }
        }
    }

    /// WELCOME arrived: send what waited (after the rejoin grace when this is a reconnection).
    mutating func joined(at now: Timestamp) {
        let isReconnection = ledger.hasJoinedBefore
        ledger.phase = .joined
        ledger.shutdownNoticeAt = nil
        ledger.hasJoinedBefore = true
        ledger.reconnectAttempt = 0
        lastHeartbeat = now
        let resent = ledger.held.filter { $0.textMessageID != nil }.count
        if isReconnection {
            ledger.statistics.reconnections += 1
            ledger.statistics.messagesResent += resent
        }
        show(.connection(.joined(name: ledger.name, isReconnection: isReconnection, resent: resent)))
        let grace = configuration.rejoinGrace
        if isReconnection, grace > .zero, !ledger.held.isEmpty {
            ledger.holdUntil = now + grace
        } else {
            flushHeld(at: now)
        }
        retryBacklog(at: now)
    }

    /// The wait before reconnection attempt `attempt` (0 for the first after a loss): doubling from
    /// `reconnectDelay` up to `reconnectDelayLimit`, shortened by up to `reconnectJitter` of itself.
    public static func reconnectDelay(attempt: Int, configuration: ChatClientConfiguration,
                                      random: inout some RandomNumberGenerator) -> Duration {
        var delay = configuration.reconnectDelay
        for _ in 0..<min(max(attempt, 0), 16) where delay < configuration.reconnectDelayLimit { delay = delay * 2 }
        delay = min(delay, configuration.reconnectDelayLimit)
        let jitter = min(max(configuration.reconnectJitter, 0), 1)
        guard jitter > 0 else { return delay }
        return delay * (1 - jitter * Double.random(in: 0..<1, using: &random))
    }

    /// The link is gone: requeue what it did not deliver and plan the next attempt.
    mutating func linkLost(_ reason: String, at now: Timestamp) {
        guard ledger.phase != .closed else { return }
        if case .waitingToReconnect = ledger.phase { return }
        if leaveDeadline != nil {
            isLinkEndedWhileLeaving = true
            return
        }
        if isStreamOpen || configuration.transport == .tcp {
            if isStreamOpen { actions.append(.closeStream) }
            isStreamOpen = false
            ledger.requeue(undelivered: ledger.unacknowledged.all.map(\.message), backlog: backlog)
        } else {
            ledger.held = backlog + ledger.held
        }
        backlog = []
        ledger.holdUntil = nil
        var generator = random
        let delay = Self.reconnectDelay(attempt: ledger.reconnectAttempt, configuration: configuration, random: &generator)
        random = generator
        let wasJoined = ledger.phase == .joined
        ledger.phase = .waitingToReconnect(at: now + delay)
        show(.connection(wasJoined ? .lost(reason: reason) : .attemptFailed(reason: reason)))
    }

    /// Starts a connection attempt: a new Datagram handshake (UDP) or a new stream (TCP), then HELLO.
    mutating func beginConnection(at now: Timestamp) {
        ledger.phase = .connecting(since: now)
        if ledger.hasJoinedBefore {
            ledger.reconnectAttempt += 1
            show(.connection(.reconnecting(attempt: ledger.reconnectAttempt)))
        }
        switch configuration.transport {
        case .udp:
            connectDatagram(at: now)
        case .tcp:
            if isStreamOpen { actions.append(.closeStream) }
            isStreamOpen = false
            actions.append(.openStream)
        }
    }

    /// A fresh Datagram connection (on the shell's same socket) with HELLO queued, which a
    /// connection accepts before its handshake finishes.
    ///
    /// A reconnection starts from the previous connection's smoothed RTT (RFC 9002, section 6.2.2:
    /// a resumed connection over the same path may reuse it), kept between `minimumRememberedRTT`
    /// and the configured initial RTT, so its probe timeouts suit the path instead of the guess for
    /// an unknown one.
    mutating func connectDatagram(at now: Timestamp) {
        var datagram = configuration.datagramConfiguration
        datagram.isTracing = isTracing
        if let announcedPeerTimeout {
            datagram.keepaliveInterval = configuration.heartbeatInterval(peerTimeout: announcedPeerTimeout)
        }
        if var old = connection {
            let previous = old.statistics.smoothedRTT
            if previous > .zero {
                rememberedRoundTripTime = min(max(previous, configuration.minimumRememberedRTT), datagram.initialRTT)
            }
            if !old.isClosed { old.close(code: .normal, at: now) }
            while let datagram = old.pollTransmit(at: now) { actions.append(.sendDatagram(datagram)) }
            let undelivered = old.takeUnacknowledgedMessages().compactMap { try? ClientMessage(decoding: $0) }
            ledger.requeue(undelivered: undelivered, backlog: backlog)
            backlog = []
        }
        if let remembered = rememberedRoundTripTime { datagram.initialRTT = remembered }
        let id = ConnectionID(rawValue: UInt32.random(in: 1...UInt32.max, using: &random))
        let firstPacketNumber = UInt32.random(in: 0...UInt32.max, using: &random)
        connection = Connection(role: .client, id: id, configuration: datagram, now: now, firstPacketNumber: firstPacketNumber)
        connectionKeepaliveInterval = datagram.keepaliveInterval
        transmit(ledger.hello(configuration), at: now)
    }

    /// Restarts a handshake nobody answers.
    mutating func datagramHousekeeping(at now: Timestamp) {
        guard case .connecting(let since) = ledger.phase else { return }
        let isUnanswered = ledger.lastContact.map { $0 < since } ?? true
        if (isUnanswered && now - since >= configuration.handshakeUnansweredLimit) || now - since >= configuration.handshakeLimit {
            // The relay is probably restarting, or the handshake lost packets and backed off. A
            // fresh handshake starts with a fresh probe timeout instead of waiting out the backoff.
            ledger.phase = .waitingToReconnect(at: now)
        }
    }

    /// Gives up a stream that has gone silent or a connect that hangs.
    mutating func streamHousekeeping(at now: Timestamp) {
        if case .connecting(let since) = ledger.phase, !isStreamOpen, now - since >= configuration.streamConnectLimit {
            actions.append(.closeStream)
            linkLost("connecting took too long", at: now)
            return
        }
        guard isStreamOpen else { return }
        if let lastRead, now - lastRead >= configuration.streamSilenceLimit {
            linkLost("nothing heard from the relay for \(configuration.streamSilenceLimit)", at: now)
            return
        }
        if ledger.phase != .joined { sendHeartbeatIfDue(at: now) }
    }

    /// When the next heartbeat is due: TCP always; UDP only once WELCOME announced a timeout that
    /// Datagram's own keepalive interval would not honour.
    var nextHeartbeat: Timestamp? {
        switch configuration.transport {
        case .tcp:
            guard isStreamOpen else { return nil }
        case .udp:
            guard ledger.phase == .joined,
                  currentHeartbeatInterval < connectionKeepaliveInterval else { return nil }
        }
        return (lastHeartbeat ?? .zero) + currentHeartbeatInterval
    }


    mutating func sendHeartbeatIfDue(at now: Timestamp) {
        guard let due = nextHeartbeat, due <= now else { return }
        lastHeartbeat = now
        let heartbeat = ClientMessage.heartbeat(timestamp: UInt64(max(0, now.microsecondsSinceOrigin)),
                                                roundTripTime: ledger.statistics.heartbeatRoundTripTime)
        transmit(heartbeat, at: now)
    }

    /// Finishes `leave` once QUIT was delivered, the link ended, or the time ran out.
    mutating func finishLeavingIfDone(at now: Timestamp) {
        guard let deadline = leaveDeadline else { return }
        let quitWaiting = ledger.unacknowledged.all.contains { if case .quit = $0.message { true } else { false } }
        let isFlushed = configuration.transport == .udp || streamPendingBytes == 0
        let isDelivered = isLinkEndedWhileLeaving || (!quitWaiting && backlog.isEmpty && isFlushed)
        guard isDelivered || deadline <= now || ledger.phase != .joined else { return }
        leaveDeadline = nil
        shutDown(at: now)
        actions.append(.left)
    }

    /// NOTICE `sessionResumed`: another connection presented this session's secret and took the
    /// session. It MUST NOT be taken back by reconnecting (Specs/chat-protocol.md, section 4.3,
    /// "Resuming a session"): the session closes for good and says why. What was not acknowledged
    /// stays unacknowledged, for the end-of-input report.
    mutating func sessionTaken(name: String, at now: Timestamp) {
        guard ledger.phase != .closed else { return }
        isSessionTaken = true
        shutDown(at: now, reporting: .sessionTaken(name: name))
    }

    /// Stops everything: closes the link.
    mutating func shutDown(at now: Timestamp, reporting change: ConnectionChange = .closed) {
        guard ledger.phase != .closed else { return }
        ledger.phase = .closed
        if var connection {
            if !connection.isClosed { connection.close(code: .normal, at: now) }
            while let datagram = connection.pollTransmit(at: now) { actions.append(.sendDatagram(datagram)) }
            self.connection = connection
        }
        if isStreamOpen {
            actions.append(.finishStream)
            isStreamOpen = false
        }
        show(.connection(change))
    }
}
