import Chat
import Datagram

/// Where a session is in its life.
enum SessionPhase: Equatable {
    /// Not started yet.
    case idle
    /// A connection attempt is under way (handshake, TCP connect, or HELLO sent) since `since`.
    case connecting(since: Timestamp)
    /// WELCOME received: requests go straight out (unless a rejoin grace holds them).
    case joined
    /// The link was lost; the next attempt starts at `at`.
    case waitingToReconnect(at: Timestamp)
    /// `close()` was called; nothing more happens.
    case closed
}

/// A message sent on the current link and not yet acknowledged.
struct SentMessage {
    /// UDP: the Datagram `MessageID`; TCP: the chat message id.
    var key: UInt64
    /// The SAY/PRIVATE message id, or 0 for other requests.
    var chatID: UInt64
    var message: ClientMessage
}

/// The bookkeeping of a chat session that does not depend on the transport: who we are, where we
/// are, what waits to be sent, what waits for acknowledgement, what was already shown.
struct SessionLedger {
    var name: String
    /// The rooms we are in, in the order we joined them (rejoined by HELLO after a reconnect).
    var rooms: [String]
    var nextMessageID: UInt64 = 1
    /// Requests that wait for the link: typed while connecting, or resent after a reconnection.
    var held: [ClientMessage] = []
    /// Requests on the current link without acknowledgement, oldest first.
    var unacknowledged = UnacknowledgedRequests()
    /// SAY and PRIVATE messages the relay acknowledged in the last `retention`, by id. A relay that
    /// stops may not have passed them on to everyone, so they are sent again after a reconnection
    /// (receivers show only the ones they missed: `DuplicateFilter`).
    /// Kept in acknowledgement order, which is also time order, so expiry pops from the front.
    var recentlyAcknowledged: [(id: UInt64, at: Timestamp, message: ClientMessage)] = []
    var recentlyAcknowledgedHead = 0
    /// The ids of the recently acknowledged messages still kept, oldest first.
    var recentlyAcknowledgedIDs: [UInt64] { recentlyAcknowledged[recentlyAcknowledgedHead...].map(\.id) }
    var retention: Duration
    var retentionLimit: Int
    var duplicates = DuplicateFilter()
    /// Lines shown lately (live or from history), so a room's history sent again on rejoining shows
    /// only what was missed (Specs/chat-protocol.md, section 4.11).
    var shownLines = RecentLines()
    /// The relay announced a data directory (STORED_UP_TO): its acknowledgement means "saved".
    var relayStoresMessages = false
    /// Answer PRIVATE_MESSAGEs with RECEIPT (`/receipts on|off`).
    var sendsReceipts: Bool
    var phase = SessionPhase.idle
    var hasJoinedBefore = false
    /// While set, held messages wait until this time after a rejoin.
    var holdUntil: Timestamp?
    var lastContact: Timestamp?
    /// When NOTICE serverShutdown arrived on the current link, if it did.
    var shutdownNoticeAt: Timestamp?
    var startedAt: Timestamp?
    var reconnectAttempt = 0
    var statistics: ChatSessionStatistics

    init(configuration: ChatClientConfiguration) {
        name = configuration.name
        rooms = configuration.rooms
        retention = configuration.resendRetention
        sendsReceipts = configuration.sendsReceipts
        retentionLimit = configuration.resendRetentionLimit
        statistics = ChatSessionStatistics(transport: configuration.transport)
    }

    /// True when requests may go out now rather than wait in `held`.
    var isSending: Bool { phase == .joined && holdUntil == nil }

    /// Nothing waits to be sent and nothing sent waits for acknowledgement.
    var isAllAcknowledged: Bool {
        held.isEmpty && unacknowledged.awaitedCount == 0
    }

    /// What was not delivered, oldest first, for an end-of-input report.
    var pendingMessages: [PendingMessage] {
        let sent = unacknowledged.all.filter { !$0.message.isAcknowledgedByRelayReply }
            .map { PendingMessage(messageID: $0.chatID, summary: $0.message.summary) }
        return sent + held.map { PendingMessage(messageID: $0.textMessageID ?? 0, summary: $0.summary) }
    }

    /// The HELLO for the next connection: same session secret, current name, current rooms.
    func hello(_ configuration: ChatClientConfiguration) -> ClientMessage {
        .hello(Hello(sessionSecret: configuration.sessionSecret, name: name, rooms: rooms, software: configuration.software))
    }

    /// Takes a new SAY or PRIVATE message id.
    mutating func takeMessageID() -> UInt64 {
        defer { nextMessageID += 1 }
        return nextMessageID
    }

    /// Removes the request the transport acknowledged by `key` (Datagram's `MessageID`).
    @discardableResult
    mutating func acknowledge(key: UInt64, at now: Timestamp) -> SentMessage? {
        guard let sent = unacknowledged.remove(key: key) else { return nil }
        recordAcknowledged(sent, at: now)
        return sent
    }

    /// Removes every chat message up to and including `chatID` (TCP's cumulative RECEIVED).
    @discardableResult
    mutating func acknowledge(throughChatID chatID: UInt64, at now: Timestamp) -> [SentMessage] {
        let covered = unacknowledged.removeFirst { $0.chatID != 0 && $0.chatID <= chatID }
        for sent in covered { recordAcknowledged(sent, at: now) }
        return covered
    }

    /// Counts and reports one acknowledged request, keeps a chat message as recent, expires old ones.
    private mutating func recordAcknowledged(_ sent: SentMessage, at now: Timestamp) {
        if sent.chatID != 0 {
            statistics.messagesAcknowledged += 1
            recentlyAcknowledged.append((sent.chatID, now, sent.message))
        }
        while recentlyAcknowledgedHead < recentlyAcknowledged.count,
              now - recentlyAcknowledged[recentlyAcknowledgedHead].at >= retention
                || recentlyAcknowledged.count - recentlyAcknowledgedHead > retentionLimit {
            recentlyAcknowledgedHead += 1
        }
        if recentlyAcknowledgedHead > 256, recentlyAcknowledgedHead * 2 > recentlyAcknowledged.count {
            recentlyAcknowledged.removeFirst(recentlyAcknowledgedHead)
            recentlyAcknowledgedHead = 0
        }
    }

    /// STORED_UP_TO from a relay with a data directory: every SAY and PRIVATE up to `upTo` is saved
    /// there, so none of them is sent again (the rest of what waits goes out, in order, as before).
    /// Replaces, for such a relay, the guess that the last `retention` of acknowledged messages may
    /// need sending again.
    mutating func relayHolds(upTo: UInt64) {
        relayStoresMessages = true
        held.removeAll { ($0.textMessageID ?? .max) <= upTo }
    }

    /// After a lost link: puts what the relay may not have passed on in front of what waits, oldest
    /// id first: the recently acknowledged, then `undelivered` (sent, never acknowledged), then
    /// `backlog`. Messages already waiting are not added twice. Returns how many go again.
    @discardableResult
    mutating func requeue(undelivered: [ClientMessage], backlog: [ClientMessage]) -> Int {
        let waiting = Set((held + backlog).compactMap(\.textMessageID))
        var again: [UInt64: ClientMessage] = [:]
        for entry in recentlyAcknowledged[recentlyAcknowledgedHead...] where !waiting.contains(entry.id) {
            again[entry.id] = entry.message
        }
        for message in undelivered {
            if let id = message.textMessageID, !waiting.contains(id) { again[id] = message }
        }
        let others = undelivered.filter { $0.textMessageID == nil && !$0.isPerConnection }
        held = again.keys.sorted().compactMap { again[$0] } + others + backlog + held
        unacknowledged.removeAll()
        return again.count
    }

    /// Updates names, rooms and the duplicate filter for a message from the relay; returns false
    /// when it is a resend already shown.
    mutating func absorb(_ message: RelayMessage) -> Bool {
        switch message {
        case let .welcome(name, _, _):
            self.name = name
        case let .message(_, _, sender, id, _, _), let .privateMessage(_, sender, id, _, _):
            guard duplicates.isNew(messageID: id, from: sender) else {
                statistics.duplicatesSuppressed += 1
                return false
            }
            statistics.messagesReceived += 1
            shownLines.insert(sender: sender, messageID: id)
        case let .history(line):
            guard shownLines.insert(sender: line.sender, messageID: line.messageID) || line.isAsked else {
                statistics.duplicatesSuppressed += 1
                return false
            }
        case let .notice(notice):
            absorb(notice)
        default:
            break
        }
        return true
    }

    private mutating func absorb(_ notice: Notice) {
        switch notice.kind {
        case .roomJoined:
            if !rooms.contains(notice.room) { rooms.append(notice.room) }
        case .roomParted:
            rooms.removeAll { $0 == notice.room }
        case .nickChanged where notice.name == name:
            name = notice.detail
        default:
            break
        }
    }
}

extension ClientMessage {
    /// The SAY or PRIVATE message id, or nil for other requests.
    var textMessageID: UInt64? {
        switch self {
        case let .say(_, id, _, _), let .privateMessage(_, id, _, _), let .sealedPrivate(_, id, _): id
        default: nil
        }
    }

    /// True for requests that are not resent after a reconnection: HELLO starts every connection
    /// anew, HEARTBEAT is per connection, QUIT ends it.
    var isPerConnection: Bool {
        switch self {
        case .hello, .heartbeat, .quit: true
        // An account request is answered or refused once; a reconnection does not repeat it.
        case .account: true
        // File transfers resume their own way after a reconnection (FileTransferBook).
        case .fileOffer, .fileAccept, .fileCancel, .fileChunk, .fileConfirm, .fileDone: true
        default: false
        }
    }

    /// Requests whose acknowledgement nobody waits for at end of input (queries and HELLO).
    var isAcknowledgedByRelayReply: Bool {
        switch self {
        case .hello, .heartbeat, .listRooms, .who, .whois, .history, .receipt, .account: true
        case let .moderate(request): request.action == .bans
        default: false
        }
    }

    /// A short description for reports: `SAY #lobby "hello"`.
    var summary: String {
        switch self {
        case let .say(room, _, _, text): "SAY \(room) \"\(SafeText.sanitized(text))\""
        case let .privateMessage(to, _, _, text): "PRIVATE to \(to) \"\(SafeText.sanitized(text))\""
        case let .joinRoom(room): "JOIN_ROOM \(room)"
        case let .partRoom(room): "PART_ROOM \(room)"
        case .listRooms: "LIST_ROOMS"
        case let .who(room): "WHO \(room)"
        case let .nick(name): "NICK \(name)"
        case let .quit(reason): "QUIT \(reason)"
        case .hello: "HELLO"
        case .heartbeat: "HEARTBEAT"
        case let .moderate(request): "MODERATE \(request.action) \(request.room) \(SafeText.sanitized(request.target))"
        case let .joinRoomWithKey(room, _): "JOIN_ROOM \(room) (with key)"
        case let .whois(name): "WHOIS \(SafeText.sanitized(name))"
        case let .sealedPrivate(to, _, sealed): "SEALED_PRIVATE to \(SafeText.sanitized(to)) (\(sealed.count) bytes)"
        case let .fileOffer(offer): "FILE_OFFER \(offer.offerID) to \(offer.target)"
        case let .fileAccept(transfer, offset): "FILE_ACCEPT \(transfer) at \(offset)"
        case let .fileCancel(id, reason, _): "FILE_CANCEL \(id) \(reason)"
        case let .fileChunk(transfer, offset, bytes): "FILE_CHUNK \(transfer) \(offset)+\(bytes.count)"
        case let .fileConfirm(transfer, offset): "FILE_CONFIRM \(transfer) \(offset)"
        case let .fileDone(transfer, result): "FILE_DONE \(transfer) \(result)"
        case let .receipt(sender, id): "RECEIPT \(sender) #\(id)"
        case let .history(room, count, since): "HISTORY \(room) \(count)\(since == 0 ? "" : " since \(since)")"
        // Never the passwords.
        case let .account(request): "ACCOUNT \(request.action) \(SafeText.sanitized(request.name))"
        }
    }
}
