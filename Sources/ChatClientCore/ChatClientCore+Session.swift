import Chat
import Datagram

// The session's rules: what the connection reports, requests and their backlog, what the relay
// says, joining, losing the link, and the ways a session ends.
extension ChatClientCore {
    /// Queues what the connection has to send and handles what it reports, then the status.
    mutating func finish(at now: Timestamp) {
        pumpFiles(at: now)
        // The connection is changed where it lies (`connection!.…`), never copied into a local and
        // stored back: while both copies were alive, each change copied every queue it holds (the whole
        // send queue per message sent), which made a long send queue cost quadratic time.
        while connection != nil {
            var events: [Connection.Event] = []
            while let event = connection!.pollEvent() { events.append(event) }
            while let datagram = connection!.pollTransmit(at: now) { actions.append(.sendDatagram(datagram)) }
            if events.isEmpty { break }
            for event in events { handleConnectionEvent(event, at: now) }
        }
        if pumpFiles(at: now), connection != nil {
            while let datagram = connection!.pollTransmit(at: now) { actions.append(.sendDatagram(datagram)) }
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
        case .closed(.handshakeFailed(let why)):
            shutDown(at: now, reporting: .handshakeFailed(reason: why))
        case .closed(.peer(code: .encryptionRequired)):
            shutDown(at: now, reporting: .refusedForGood(reason: Self.encryptionRequiredReason))
        case .closed(let reason):
            linkLost(Self.describe(reason), at: now)
        case .trace(let fate):
            if isTracing { show(.trace(fate)) }
        }
    }

    /// What happened and what to do when a relay refuses a plaintext session (Datagram CLOSE code 5,
    /// or ERROR `encryptionRequired` over TCP).
    public static let encryptionRequiredReason = "the relay accepts encrypted sessions only, and this client speaks plaintext "
        + "(--plaintext): drop --plaintext, or run the relay with --allow-plaintext"

    /// Words for why a Datagram connection closed.
    public static func describe(_ reason: Connection.CloseReason) -> String {
        switch reason {
        case .local: "closed"
        case .peer(code: .shuttingDown): "the relay is shutting down"
        case .peer(code: .refused): "the relay refused the connection (it is full)"
        case .peer(code: .encryptionRequired): encryptionRequiredReason
        case .peer(code: .protocolError): "the relay reported a protocol error (code 2)"
        case .peer(let code): "the relay closed the connection (code \(code.rawValue))"
        case .reset: "the relay does not know this connection (it restarted?)"
        case .idleTimeout: "nothing heard from the relay (idle timeout)"
        case .probeTimeout: "the relay stopped answering (probe timeout)"
        case .protocolViolation: "the relay broke the protocol (undeliverable data; CLOSE code 2 sent)"
        case .tooManyFailedOpenings: "too many packets that did not open (the forgery limit); a new handshake brings new keys"
        case .handshakeFailed(let why): "the encrypted handshake failed: \(why)"
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
    /// A request over `ChatLimits.maximumChatMessageSize` is refused here, in every transport, before
    /// anything is sent: counted and reported (Specs/chat-protocol.md section 6).
    mutating func transmit(_ request: ClientMessage, at now: Timestamp) {
        let chatID = request.textMessageID ?? 0
        let bytes = request.encoded()
        guard bytes.count <= ChatLimits.maximumChatMessageSize else {
            ledger.statistics.oversizedRefused += 1
            show(.warning("not sent: \(request.summary.prefix(80)) is \(bytes.count) bytes encoded, over the limit of "
                          + "\(ChatLimits.maximumChatMessageSize) bytes for one chat message; shorten it"))
            return
        }
        switch configuration.transport {
        case .udp:
            guard connection != nil else { return }
            do throws(SendError) {
                let id = try connection!.send(bytes, at: now)
                ledger.unacknowledged.append(SentMessage(key: id.rawValue, chatID: chatID, message: request))
            } catch .sendQueueFull {
                backlog.append(request)
            } catch .connectionClosed {
                if !request.isPerConnection { ledger.held.append(request) }
            } catch {
                show(.warning("not sent: \(error)"))
            }
        case .tcp:
            guard isStreamOpen, isStreamReady else {
                if !request.isPerConnection { ledger.held.append(request) }
                return
            }
            // The budget is checked before the frame is sealed: sealing takes the stream's next nonce,
            // so a sealed frame that then waited in the backlog (to be sealed again later) left a gap
            // the relay cannot open past; it closed the stream, and the resend burst after every
            // reconnection met a full buffer and did the same (issue 13's bulk stall).
            let frameSize = streamFrameSize(forPayload: bytes.count)
            guard streamPendingBytes == 0 || streamPendingBytes + frameSize <= configuration.streamOutputLimit else {
                backlog.append(request)
                return
            }
            guard let frame = streamFrame(for: bytes) else {
                // Within the limit, sealing fails only on a broken cipher state: the link is unusable;
                // the request waits for the next one.
                if !request.isPerConnection { ledger.held.append(request) }
                linkLost("a message could not be sealed", at: now)
                return
            }
            queueFrame(frame)
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
        while let request = backlog.first {
            let before = backlog.count
            transmit(request, at: now)
            if backlog.count > before {
                // Pushed back again: `transmit` appended it, but it must stay ahead of everything
                // newer, or receivers (whose duplicate filter keeps the highest id per sender) would
                // take it for a resend and drop it. So the copy goes and the original stays first.
                backlog.removeLast()
                break
            }
            backlog.removeFirst()
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
        case .error(.encryptionRequired, _, _):
            // Refused for good: a plaintext session at a relay that accepts encrypted ones only.
            show(.received(message))
            shutDown(at: now, reporting: .refusedForGood(reason: Self.encryptionRequiredReason))
        case let .error(code, _, text) where ledger.phase != .joined
            && [.nameTaken, .nameKeyMismatch, .nameRegistered, .invalidName, .unsupportedVersion, .banned].contains(code):
            show(.received(message))
            show(.connection(.refused(reason: text)))
        case let .storedUpTo(upTo):
            // The relay holds every message of this session up to `upTo` (Specs/chat-protocol.md,
            // section 4.11): what waits to go again resumes exactly after it.
            ledger.relayHolds(upTo: upTo)
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
        case let .whoisReply(entry):
            handleWhoisReply(entry, at: now)
        case let .sealedPrivateMessage(from, sender, messageID, sealed):
            handleSealedPrivateMessage(from: from, sender: sender, messageID: messageID, sealed: sealed, at: now)
        case let .sealedPastMessage(from, sender, messageID, time, sealed):
            handleSealedPrivateMessage(from: from, sender: sender, messageID: messageID, sealed: sealed, time: time, at: now)
        case let .heartbeatEcho(timestamp):
            let sent = Timestamp(sinceOrigin: .microseconds(Int64(truncatingIfNeeded: timestamp)))
            if sent <= now { ledger.statistics.heartbeatRoundTripTime = now - sent }
        case let .privateMessage(_, sender, messageID, _, _):
            guard ledger.absorb(message) else { return }
            show(.received(message))
            if ledger.sendsReceipts { submit(.receipt(sender: sender, messageID: messageID), at: now) }
        default:
            if handleFileMessage(message, at: now) { return }
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
        // File messages of the old link are stale (the relay forgot those transfers); the book
        // offers again what was interrupted.
        ledger.held.removeAll(where: \.isFileMessage)
        files.joined()
        if isReconnection { repeatLookups(at: now) }
        let grace = configuration.rejoinGrace
        if isReconnection, grace > .zero, !ledger.held.isEmpty {
            ledger.holdUntil = now + grace
        } else {
            flushHeld(at: now)
        }
        retryBacklog(at: now)
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
            ledger.requeue(undelivered: ledger.unacknowledged.all.map(\.message), backlog: backlog.all)
        } else {
            ledger.held = backlog.all + ledger.held
        }
        backlog.removeAll()
        ledger.holdUntil = nil
        files.linkLost()
        showFileEvents()
        var generator = random
        let delay = Self.reconnectDelay(attempt: ledger.reconnectAttempt, configuration: configuration, random: &generator)
        random = generator
        let wasJoined = ledger.phase == .joined
        ledger.phase = .waitingToReconnect(at: now + delay)
        show(.connection(wasJoined ? .lost(reason: reason) : .attemptFailed(reason: reason)))
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
        files.discardAll()
        if connection != nil {
            if !connection!.isClosed { connection!.close(code: .normal, at: now) }
            while let datagram = connection!.pollTransmit(at: now) { actions.append(.sendDatagram(datagram)) }
        }
        if isStreamOpen {
            actions.append(.finishStream)
            isStreamOpen = false
        }
        show(.connection(change))
    }
}
