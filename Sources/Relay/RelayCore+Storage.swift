import Chat
import Datagram

/// The canonical room name → settings table, remembering which rooms changed since storage last
/// took them, so that only those are saved (and saving costs nothing while storage is detached).
public struct RoomSettingsTable: Sendable {
    var values: [String: RoomSettings] = [:]
    var changed: Set<String> = []
    var isTracking = false

    /// The settings of the room with canonical name `room`.
    public internal(set) subscript(room: String) -> RoomSettings? {
        get { values[room] }
        _modify {
            if isTracking { changed.insert(room) }
            yield &values[room]
        }
    }

    /// Rooms with settings.
    public var count: Int { values.count }

    /// Canonical names of the rooms with settings.
    public var rooms: Dictionary<String, RoomSettings>.Keys { values.keys }
}

extension RelayCore {
    /// Attaches the data directory: `state` is what `RelayStorage.load` returned at start (bans and
    /// room settings are restored as they were saved); from now on every change is emitted as a
    /// `StorageAction` (`pollStorageAction`), and SAY lines are appended to their room's history.
    public mutating func attachStorage(_ state: StoredRelayState, at now: Timestamp) {
        isStoring = true
        for (room, settings) in state.roomSettings {
            var settings = settings
            settings.pruneBans(at: now)
            roomSettings.values[room] = settings
        }
        relayBans = state.relayBans.filter { ban in ban.expires.map { $0 > now } ?? true }
        handledMessageIDs = state.lastMessageIDs
        accounts = state.accounts
        // Within the limits the relay keeps while running, whatever the file holds.
        mailboxes = state.offlineMessages.filter { accounts[$0.key] != nil }.mapValues { Array($0.prefix(Self.maximumMailboxMessages)) }
        mailboxBytes = mailboxes.values.reduce(0) { total, box in box.reduce(total) { $0 + $1.cost } }
        savedRelayBans = relayBans
        roomSettings.changed = []
        roomSettings.isTracking = true
    }

    /// Whether storage is attached.
    public var hasStorage: Bool { isStoring }

    /// The next change for the data directory, or nil. The driver takes them all after each input and
    /// performs them in one transaction before the input's other actions (its sends): so nothing is
    /// acknowledged or forwarded before it is saved.
    public mutating func pollStorageAction() -> StorageAction? {
        guard isStoring else { return nil }
        collectStorageChanges()
        guard !storageActions.isEmpty else { return nil }
        return storageActions.removeFirst()
    }

    /// Every change since the last call, in order (a batch for one transaction).
    public mutating func takeStorageActions() -> [StorageAction] {
        guard isStoring else { return [] }
        collectStorageChanges()
        defer { storageActions.removeAll(keepingCapacity: true) }
        return storageActions
    }

    private mutating func collectStorageChanges() {
        if !roomSettings.changed.isEmpty {
            for room in roomSettings.changed.sorted() {
                storageActions.append(.saveRoomSettings(room: room, roomSettings.values[room]))
            }
            roomSettings.changed.removeAll(keepingCapacity: true)
        }
        if !changedSessions.isEmpty {
            for sender in changedSessions.sorted(by: { $0.rawValue < $1.rawValue }) {
                storageActions.append(.recordMessageID(sender, handledMessageIDs[sender] ?? 0))
            }
            changedSessions.removeAll(keepingCapacity: true)
        }
        if relayBans != savedRelayBans {
            savedRelayBans = relayBans
            storageActions.append(.saveRelayBans(relayBans))
        }
    }

    /// A line said in a room, for its history.
    mutating func recordHistory(roomKey: String, roomName: String, from peer: Peer, messageID: UInt64,
                                flags: MessageFlags, text: String) {
        guard isStoring else { return }
        storageActions.append(.appendHistory(room: roomKey, HistoryLine(room: roomName, from: peer.name, sender: peer.senderID,
                                                                        messageID: messageID, flags: flags, text: text)))
        noteLaterLine(in: roomKey, sender: peer.senderID, messageID: messageID)
    }
}

extension RelayCore {
    /// The host could not save a batch of `lost` changes: said in the log, with what to do.
    public mutating func noteStorageFailure(_ error: StorageError, lost: Int) {
        statistics.storageFailures += 1
        log(.error, "storage: \(lost) changes not saved: \(error.message)")
    }
}

/// A read of a room's history the host performs for the core right after saving the input's batch,
/// and answers with `handleHistory` before the next input. What the relay sends the user after
/// asking waits behind the answer; lines said after the read was asked (in the same input) are left
/// out of it, since they reach the user live, behind it (RelayCore+HistoryOrder.swift).
public struct HistoryQuery: Sendable, Hashable {
    /// Who asked (or joined).
    public var endpoint: Endpoint
    /// The room's canonical name.
    public var room: String
    /// At most this many lines, the newest.
    public var limit: Int
    /// Only lines said at or after this time (milliseconds since the epoch).
    public var since: Int64?
    /// False for the history sent on joining: the joiner's own session's lines are left out (that
    /// client showed them when they were typed).
    public var includesOwnLines = true
    /// Which read this is, for `handleHistory` (set by the relay).
    public internal(set) var ticket: UInt64 = 0
}

extension RelayCore {
    /// Lines one HISTORY request may ask for.
    public static let maximumHistoryRequest = 1_000
    /// Bytes of HISTORY one answer may queue for a user (the newest lines are kept), well under the
    /// send queue's limit so that history never disconnects anyone.
    static let maximumHistoryAnswerBytes = 256 << 10

    /// The history reads asked for since the last call. Each asks for enough lines to hold its
    /// `limit` of lines said before it was asked, besides those said since (which the answer leaves out).
    public mutating func takeHistoryQueries() -> [HistoryQuery] {
        guard !historyQueries.isEmpty else { return [] }
        defer { historyQueries.removeAll(keepingCapacity: true) }
        return historyQueries.map { query in
            var query = query
            query.limit += laterLines(of: query).count
            return query
        }
    }

    /// The host read `lines` for `query` (nil: the read failed, `error` says why): sends them to the
    /// user, oldest first, as HISTORY, then what the relay sent the user since the query was asked.
    /// Lines said after the query was asked are left out: the user gets them live, right after
    /// (section 4.11, "Order across restarts").
    public mutating func handleHistory(_ lines: [HistoryLine]?, error: StorageError? = nil, for query: HistoryQuery, at now: Timestamp) {
        let later = laterLines(of: query)
        var encoded: [[UInt8]] = []
        defer {
            answerHistoryRead(query.ticket, asked: query.endpoint, with: encoded.reversed(), at: now)
            flushConnections(at: now)
        }
        guard let holder = historyHolder(of: query.ticket, askedBy: query.endpoint), let peer = peers[holder], peer.isJoined else { return }
        guard let lines else {
            log(.error, "storage: history of \(query.room) not read: \(error?.message ?? "unknown error")")
            statistics.errorsSent += 1
            encoded = [RelayMessage.error(code: .badRequest, messageID: 0,
                                          text: Self.bounded("The relay could not read the history of \(query.room)", to: Self.errorTextLimit)).encoded()]
            return
        }
        var budget = Self.maximumHistoryAnswerBytes
        for line in lines.reversed() where (query.includesOwnLines || line.sender != peer.senderID)
            && !later.contains(HistoryLineKey(sender: line.sender, messageID: line.messageID)) {
            let time = UInt64(clamping: max(0, line.unixMilliseconds))
            let bytes: [UInt8]
            if let sealed = line.sealed {
                // A sealed private message kept under this session: sent again as it was sealed,
                // with the time the relay took it in (section 4.11).
                bytes = RelayMessage.sealedPastMessage(from: line.from, sender: line.sender, messageID: line.messageID,
                                                       time: time, sealed: sealed).encoded()
            } else {
                bytes = RelayMessage.history(PastMessage(room: line.room, from: line.from, sender: line.sender, messageID: line.messageID,
                                                         flags: line.flags, text: line.text, time: time,
                                                         isAsked: query.includesOwnLines)).encoded()
            }
            budget -= bytes.count
            guard budget >= 0 else { break }
            encoded.append(bytes)
        }
    }

    /// HISTORY: checked, then queued for the host to read.
    mutating func handleHistoryRequest(room: String, count: UInt16, since: UInt64, from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        guard isStoring else {
            return sendError(.badRequest, "This relay keeps no history (it runs without a data directory)", to: endpoint, at: now)
        }
        guard (1...Self.maximumHistoryRequest).contains(Int(count)) else {
            return sendError(.badRequest, "History of \(count) lines: ask for 1 to \(Self.maximumHistoryRequest)", to: endpoint, at: now)
        }
        let key = ChatNames.canonical(room)
        guard peer.rooms.contains(key) else { return sendError(.notInRoom, "You are not in \(quoted(room))", to: endpoint, at: now) }
        askHistory(HistoryQuery(endpoint: endpoint, room: key, limit: Int(count), since: since == 0 ? nil : Int64(clamping: since)))
    }
}

extension RelayCore {
    /// With storage: whether a SAY or PRIVATE with `messageID` from `peer`'s session was handled
    /// before (its id is at or below the saved high-water mark): a client's resend after a relay
    /// restart of a message the relay had already saved. It is acknowledged again and not routed a
    /// second time (Specs/chat-protocol.md, section 4.11, "Exactly once").
    func isAlreadyHandled(_ messageID: UInt64, from peer: Peer) -> Bool {
        guard isStoring, let highest = handledMessageIDs[peer.senderID] else { return false }
        return messageID <= highest
    }

    /// With storage: records that `messageID` from `peer`'s session was handled.
    mutating func noteHandled(_ messageID: UInt64, from peer: Peer) {
        guard isStoring, messageID > handledMessageIDs[peer.senderID] ?? 0 else { return }
        handledMessageIDs[peer.senderID] = messageID
        changedSessions.insert(peer.senderID)
    }

    /// With storage, right before WELCOME: STORED_UP_TO with the session's saved high-water mark, so the
    /// client resends exactly what the relay does not hold.
    mutating func announceStoredMessages(to endpoint: Endpoint, senderID: SenderID, at now: Timestamp) {
        guard isStoring else { return }
        send(.storedUpTo(handledMessageIDs[senderID] ?? 0), to: endpoint, at: now)
    }
}

extension RelayCore {
    /// The history key under which the private messages to the session `recipient` are kept: not a
    /// room name (those start with `#`).
    static func privateHistoryKey(_ recipient: SenderID) -> String { "@\(recipient)" }

    /// With storage: a PRIVATE routed to `recipient` is kept (as a history line with an empty room)
    /// under the recipient's session, so that it reaches the recipient even if the relay is killed
    /// before passing it on (section 4.11, "Private messages").
    /// A SEALED_PRIVATE is kept the same way with its sealed bytes (`sealed`, and an empty `text`).
    mutating func recordPrivate(to recipient: Peer, from sender: Peer, messageID: UInt64, flags: MessageFlags, text: String,
                                sealed: [UInt8]? = nil) {
        guard isStoring else { return }
        storageActions.append(.appendHistory(room: Self.privateHistoryKey(recipient.senderID),
                                             HistoryLine(room: "", from: sender.name, sender: sender.senderID,
                                                         messageID: messageID, flags: flags, text: text, sealed: sealed)))
        noteLaterLine(in: Self.privateHistoryKey(recipient.senderID), sender: sender.senderID, messageID: messageID)
    }

    /// With storage, after WELCOME: the session's last private messages are sent again as HISTORY_LINE
    /// (empty room); its client shows only those it did not show (none, for a new session).
    mutating func requestPrivateHistory(for endpoint: Endpoint, senderID: SenderID) {
        guard isStoring, configuration.historyLinesOnJoin > 0 else { return }
        askHistory(HistoryQuery(endpoint: endpoint, room: Self.privateHistoryKey(senderID),
                                limit: Self.maximumHistoryRequest, since: nil, includesOwnLines: false))
    }
}
