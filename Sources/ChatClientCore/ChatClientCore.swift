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
    var backlog = RequestQueue()
    var actions: [ClientAction] = []
    var actionHead = 0
    var lastStatus: ClientStatus?
    var isTracing: Bool
    /// Contacts' keys, lookups in progress and messages waiting for them (ChatClientCore+Identity).
    var identityState: IdentityState

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
    /// Bytes of the stream's frames not yet in the kernel, as far as the core knows: the shell's last
    /// report (`handleStreamOutput`) plus every frame queued since. Nothing more is queued while it
    /// would pass `streamOutputLimit`.
    var streamPendingBytes = 0
    /// Bytes of `.sendFrame` actions not yet taken by `pollAction`. A shell's report covers only the
    /// frames it has taken, so these are added to it: forgetting them let the core queue a second
    /// output buffer's worth behind the first (a refused write, a gap in a sealed stream, a stall).
    var unpolledFrameBytes = 0
    /// The stream's handshake and keys (ChatClientCore+StreamSealing.swift).
    var streamSeal = ClientStreamSeal.none

    // Heartbeats
    var lastHeartbeat: Timestamp?
    /// The peer timeout the relay announced in its last WELCOME.
    var announcedPeerTimeout: Duration?

    // Files (ChatClientCore+Files.swift)
    var files = FileTransferBook()

    /// A core for `configuration`; `random` gives connection ids and reconnection jitter.
    public init(configuration: ChatClientConfiguration, random: some RandomNumberGenerator & Sendable) {
        self.configuration = configuration
        self.ledger = SessionLedger(configuration: configuration)
        self.random = random
        self.isTracing = configuration.isTracing
        var generator = random
        self.identityState = IdentityState(identity: configuration.identity, runTag: UInt32(truncatingIfNeeded: generator.next()))
        self.random = generator
    }

    // MARK: Actions

    /// The next thing the shell must do, or nil when there is nothing.
    public mutating func pollAction() -> ClientAction? {
        guard actionHead < actions.count else {
            if actionHead > 0 { actions.removeAll(keepingCapacity: true); actionHead = 0 }
            return nil
        }
        defer { actionHead += 1 }
        if case .sendFrame(let frame) = actions[actionHead] { unpolledFrameBytes -= frame.count }
        return actions[actionHead]
    }

    /// The next action, only if it is a datagram to send (nil otherwise, and the action stays for
    /// `pollAction`). A shell sends what a request produced from the caller's thread with it, while
    /// events and everything else wait for its queue: a chat line leaves without waiting for the
    /// queue's next turn (issue 13).
    public mutating func pollDatagram() -> [UInt8]? {
        guard actionHead < actions.count, case .sendDatagram(let datagram) = actions[actionHead] else { return nil }
        actionHead += 1
        return datagram
    }

    /// Queues one frame for the stream and counts it until the shell reports it written.
    mutating func queueFrame(_ frame: [UInt8]) {
        streamPendingBytes += frame.count
        unpolledFrameBytes += frame.count
        ledger.statistics.streamBytesSent += frame.count
        actions.append(.sendFrame(frame))
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

    /// `/receipts on|off`: whether PRIVATE_MESSAGEs shown from now on are answered with RECEIPT.
    public mutating func setReceipts(_ isOn: Bool) {
        ledger.sendsReceipts = isOn
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

    /// Datagrams read together (one `recvmmsg`), in order: as `handleDatagram` for each, but what
    /// they call for is acknowledged once, after the last (`Connection.holdsAcknowledgements`).
    public mutating func handleDatagrams(_ datagrams: [[UInt8]], at now: Timestamp) {
        guard datagrams.count > 1 else {
            if let datagram = datagrams.first { handleDatagram(datagram, at: now) }
            return
        }
        for datagram in datagrams {
            connection?.holdsAcknowledgements = true
            handleDatagram(datagram, at: now)
        }
        guard connection != nil else { return }
        connection!.holdsAcknowledgements = false
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
        startStreamSession(at: now)
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
                if let message = openStreamFrame(frame, at: now) { handleRelayBytes(message, at: now) }
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

    /// The shell still holds `pendingBytes` of the stream's frames (TCP): after a write or a flush.
    ///
    /// `pendingBytes` counts every byte of every `.sendFrame` the shell has taken from `pollAction`
    /// and not yet handed to the kernel: its output buffer *and* any frame it has taken but not yet
    /// written (a shell that takes a batch of actions and reports after each write adds the rest of
    /// the batch). Frames not yet taken the core counts itself. With both counted, the core never
    /// queues more than `streamOutputLimit`, so a write is never refused.
    public mutating func handleStreamOutput(pendingBytes: Int, at now: Timestamp) {
        guard isStreamOpen else { return }
        streamPendingBytes = pendingBytes + unpolledFrameBytes
        retryBacklog(at: now)
        finish(at: now)
    }

    /// Time passed: timers of the connection, heartbeats, silence, reconnection, grace periods.
    public mutating func handleTimeout(at now: Timestamp) {
        guard ledger.phase != .closed else { return }
        if let deadline = connection?.nextDeadline, deadline <= now {
            connection!.handleTimeout(at: now)
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
            files.joined(at: now)
            retryLookupsIfDue(at: now)
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
            deadlines.append(files.nextRetry)
            deadlines.append(identityState.nextLookupRetry)
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
    public var isAllAcknowledged: Bool { ledger.isAllAcknowledged && backlog.isEmpty && identityState.waiting.isEmpty }

    /// What has not been acknowledged yet, oldest first.
    public var pendingMessages: [PendingMessage] {
        ledger.pendingMessages + backlog.all.map { PendingMessage(messageID: $0.textMessageID ?? 0, summary: $0.summary) }
            + identityState.waiting.sorted { $0.key < $1.key }.flatMap { name, texts in
                texts.map { PendingMessage(messageID: 0, summary: "PRIVATE to \(name) \"\(SafeText.sanitized($0))\" (waiting for the key)") }
            }
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
}
