import Chat
import Datagram

/// Operators, bans and modes (Specs/chat-protocol.md, section 4.8): every MODERATE request is checked
/// against the asker's rights here, carried out, announced to the room with who did it and why, and
/// logged (through `quoted`, the log's safe-text helper) — or refused with an ERROR that says why.
extension RelayCore {
    /// The most bans one room, or the relay, holds; a ban beyond is refused (`badRequest`).
    static let maximumBansPerList = 64
    /// The most sessions one room's operator, voice, mute, invitation or admitted list holds: one more
    /// operator, voice, mute or invitation is refused (`badRequest`); one more admitted session is
    /// simply not remembered (it needs the key or an invitation to rejoin).
    static let maximumSessionsPerList = 1_024
    /// The most rooms whose settings are kept while nobody is in them.
    var maximumKeptRoomSettings: Int { max(1, configuration.maximumRooms) }

    /// Whether the session at `endpoint` is a relay administrator: it holds a name given with
    /// `relay --admin` and, when the relay has an administrator token, presented it with `/oper`
    /// (Specs/chat-protocol.md, section 4.8).
    func isAdministrator(_ endpoint: Endpoint) -> Bool {
        guard let peer = peers[endpoint], peer.isJoined, isAdministratorName(peer.name) else { return false }
        // A registered administrator's account is proof enough (section 4.11.5): its keys, or its
        // password this session. Registering an administrator's name needs the token first.
        if let (key, account) = account(protecting: peer.name),
           ChatNames.canonical(account.name) == ChatNames.canonical(peer.name), owns(key, account, peer: peer) {
            return true
        }
        guard configuration.administratorToken != nil else { return true }
        return operSessions[peer.senderID].map { ChatNames.canonical($0) == ChatNames.canonical(peer.name) } ?? false
    }

    func isAdministratorName(_ name: String) -> Bool {
        configuration.administrators.contains { ChatNames.canonical($0) == ChatNames.canonical(name) }
    }

    /// `/oper TOKEN`: an administrator's name plus the relay's token make the session an
    /// administrator. The token is compared in constant time and never logged or echoed.
    private mutating func handleOper(_ request: Moderation, by actor: Peer, at now: Timestamp) {
        let endpoint = actor.endpoint
        guard let token = configuration.administratorToken, isAdministratorName(actor.name) else {
            return sendError(.notOperator, "\(quoted(actor.name)) is not a relay administrator's name", to: endpoint, at: now)
        }
        guard Self.constantTimeEqual(Array(request.text.utf8), Array(token.utf8)) else {
            failedOperAttempts += 1
            log(.warning, .moderation, at: now, "\(quoted(actor.name)) [\(endpoint)]: wrong administrator token (\(failedOperAttempts) failed so far)")
            return sendError(.notOperator, "Wrong administrator token", to: endpoint, at: now)
        }
        operSessions[actor.senderID] = actor.name
        log(.info, .moderation, at: now, "\(quoted(actor.name)) [\(endpoint)] is a relay administrator (sender \(actor.senderID))")
        send(.notice(Notice(kind: .moderation, detail: "You are a relay administrator")), to: endpoint, at: now)
    }

    /// True when `a` and `b` are equal, in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// Operator of the room `key` (or an administrator, who is an operator everywhere).
    func isOperator(_ endpoint: Endpoint, roomKey key: String) -> Bool {
        guard let peer = peers[endpoint] else { return false }
        return isAdministrator(endpoint) || roomSettings[key]?.operators.contains(peer.senderID) == true
    }

    /// Why `endpoint` may not SAY in room `key`, or nil when it may.
    func speakingRefusal(_ endpoint: Endpoint, roomKey key: String) -> String? {
        guard let peer = peers[endpoint], let settings = roomSettings[key] else { return nil }
        if isOperator(endpoint, roomKey: key) { return nil }
        let room = rooms[key]?.name ?? key
        if settings.muted.contains(peer.senderID) { return "You are muted in \(room)" }
        if settings.isModerated, !settings.voiced.contains(peer.senderID) {
            return "\(room) is moderated (+m): only operators and voiced users speak"
        }
        return nil
    }

    /// Why `endpoint` may not join room `key` with `key given`, as an ERROR, or nil when it may.
    /// Operators and administrators pass every check.
    mutating func joinRefusal(_ endpoint: Endpoint, roomKey key: String, roomName: String, givenKey: String?,
                              at now: Timestamp) -> (ErrorCode, String)? {
        guard let peer = peers[endpoint], roomSettings[key] != nil else { return nil }
        roomSettings[key]?.pruneBans(at: now)
        guard let settings = roomSettings[key], !isOperator(endpoint, roomKey: key) else { return nil }
        if let ban = settings.bans.first(where: { $0.mask.matches(senderID: peer.senderID, address: endpoint.address) }) {
            return (.banned, "You are banned from \(roomName)\(ban.reason.isEmpty ? "" : ": \(ban.reason)")")
        }
        if settings.admitted.contains(peer.senderID) { return nil }
        if settings.isInviteOnly, !settings.invited.contains(peer.senderID) {
            return (.inviteOnly, "\(roomName) is invite-only (+i): an operator must /invite you")
        }
        if let roomKey = settings.key, givenKey != roomKey {
            return (.badKey, givenKey == nil ? "\(roomName) has a key (+k): /join \(roomName) KEY" : "Wrong key for \(roomName)")
        }
        return nil
    }

    /// The relay-wide ban matching a HELLO from `endpoint` with `senderID`, if any.
    mutating func relayBan(senderID: SenderID, endpoint: Endpoint, at now: Timestamp) -> Ban? {
        relayBans.removeAll { ban in ban.expires.map { $0 <= now } ?? false }
        return relayBans.first { $0.mask.matches(senderID: senderID, address: endpoint.address) }
    }

    /// A room was just created by `endpoint`: it is the room's operator (unless settings were kept
    /// from before, which keep their operators; a kept room with none gets the newcomer).
    mutating func roomCreated(_ key: String, by endpoint: Endpoint) {
        guard let peer = peers[endpoint] else { return }
        if roomSettings[key] == nil { roomSettings[key] = RoomSettings() }
        if roomSettings[key]?.operators.isEmpty == true { roomSettings[key]?.operators.insert(peer.senderID) }
    }

    /// `endpoint` joined room `key`: remembered as admitted (bounded).
    mutating func roomAdmitted(_ key: String, endpoint: Endpoint) {
        guard let peer = peers[endpoint], let count = roomSettings[key]?.admitted.count,
              count < Self.maximumSessionsPerList else { return }
        roomSettings[key]?.admitted.insert(peer.senderID)
    }

    /// The room `key` has no members left: its settings go, unless they say something worth keeping
    /// and there is space for them.
    mutating func roomEmptied(_ key: String) {
        guard let settings = roomSettings[key] else { return }
        let kept = roomSettings.count - rooms.count
        if !settings.isWorthKeeping || kept > maximumKeptRoomSettings { roomSettings[key] = nil }
    }

    // MARK: - Requests

    mutating func handleModeration(_ request: Moderation, from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        for (field, value, limit) in [("target", request.target, 64), ("text", request.text, ChatLimits.maximumReasonLength)]
        where value.utf8.count > limit {
            return sendError(.messageTooLarge, "The \(field) of /\(request.action) is \(value.utf8.count) bytes; the limit is \(limit)",
                             to: endpoint, at: now)
        }
        if request.action == .kill { return handleKill(request, by: peer, at: now) }
        if request.action == .oper { return handleOper(request, by: peer, at: now) }
        if request.room.isEmpty, [.ban, .unban, .bans].contains(request.action) {
            return handleRelayBans(request, by: peer, at: now)
        }
        let key = ChatNames.canonical(request.room)
        let roomName = rooms[key]?.name ?? request.room
        guard roomSettings[key] != nil, peer.rooms.contains(key) || isAdministrator(endpoint) else {
            return sendError(.notInRoom, "You are not in \(quoted(request.room))", to: endpoint, at: now)
        }
        if request.action == .bans { return sendBanList(roomKey: key, roomName: roomName, to: endpoint, at: now) }
        guard isOperator(endpoint, roomKey: key) else {
            return sendError(.notOperator, "You are not an operator of \(roomName): /\(request.action) is for operators",
                             to: endpoint, at: now)
        }
        switch request.action {
        case .op, .deop, .voice, .devoice, .mute, .unmute:
            changeRight(request, roomKey: key, roomName: roomName, by: endpoint, at: now)
        case .kick:
            guard let target = member(named: request.target, roomKey: key, roomName: roomName, asker: endpoint, at: now) else { return }
            let reason = request.text
            announce(roomKey: key, by: peer.name, target: request.target,
                     "kicked \(request.target)\(reason.isEmpty ? "" : ": \(reason)")", at: now)
            expel(target, roomKey: key, detail: "kicked by \(peer.name)\(reason.isEmpty ? "" : ": \(reason)")", at: now)
        case .ban:
            addRoomBan(request, roomKey: key, roomName: roomName, by: endpoint, at: now)
        case .unban:
            guard let mask = banMask(request.target, asker: endpoint, at: now) else { return }
            let before = roomSettings[key]?.bans.count ?? 0
            roomSettings[key]?.bans.removeAll { $0.mask == mask }
            guard (roomSettings[key]?.bans.count ?? 0) < before else {
                return sendError(.badRequest, "No ban on \(mask) in \(roomName)", to: endpoint, at: now)
            }
            announce(roomKey: key, by: peer.name, target: mask.description, "lifted the ban on \(mask)", at: now)
        case .topic:
            roomSettings[key]?.topic = request.text
            roomSettings[key]?.topicSetBy = peer.name
            announce(roomKey: key, by: peer.name, target: "", "changed the topic to: \(request.text)", at: now)
        case .mode:
            setMode(request, roomKey: key, roomName: roomName, by: endpoint, at: now)
        case .invite:
            guard let target = user(named: request.target, asker: endpoint, at: now), let invitee = peers[target] else { return }
            guard (roomSettings[key]?.invited.count ?? 0) < Self.maximumSessionsPerList else {
                return sendError(.badRequest, "\(roomName) has \(Self.maximumSessionsPerList) invitations", to: endpoint, at: now)
            }
            roomSettings[key]?.invited.insert(invitee.senderID)
            announce(roomKey: key, by: peer.name, target: invitee.name, "invited \(invitee.name)", at: now)
            if !invitee.rooms.contains(key) {
                send(.notice(Notice(kind: .moderation, name: peer.name, room: roomName, endpoint: invitee.name,
                                    detail: "invited you to \(roomName): /join \(roomName)")), to: target, at: now)
            }
        case .bans, .kill, .oper:
            break
        }
    }

    private mutating func changeRight(_ request: Moderation, roomKey key: String, roomName: String, by endpoint: Endpoint, at now: Timestamp) {
        guard let actor = peers[endpoint],
              let target = member(named: request.target, roomKey: key, roomName: roomName, asker: endpoint, at: now),
              let subject = peers[target] else { return }
        let id = subject.senderID
        let lists: [Set<SenderID>] = [\.operators, \.voiced, \.muted].compactMap { (path: KeyPath<RoomSettings, Set<SenderID>>) in
            roomSettings[key]?[keyPath: path]
        }
        if [.op, .voice, .mute].contains(request.action), lists.contains(where: { $0.count >= Self.maximumSessionsPerList }) {
            return sendError(.badRequest, "\(roomName) has \(Self.maximumSessionsPerList) sessions on a list; remove some first",
                             to: endpoint, at: now)
        }
        let what: String
        switch request.action {
        case .op: roomSettings[key]?.operators.insert(id); what = "made \(subject.name) an operator"
        case .deop: roomSettings[key]?.operators.remove(id); what = "took operator rights from \(subject.name)"
        case .voice: roomSettings[key]?.voiced.insert(id); what = "gave voice to \(subject.name)"
        case .devoice: roomSettings[key]?.voiced.remove(id); what = "took voice from \(subject.name)"
        case .mute: roomSettings[key]?.muted.insert(id); what = "muted \(subject.name)"
        default: roomSettings[key]?.muted.remove(id); what = "unmuted \(subject.name)"
        }
        announce(roomKey: key, by: actor.name, target: subject.name, what, at: now)
    }

    private mutating func setMode(_ request: Moderation, roomKey key: String, roomName: String, by endpoint: Endpoint, at now: Timestamp) {
        guard let actor = peers[endpoint] else { return }
        switch request.target {
        case "+m": roomSettings[key]?.isModerated = true
        case "-m": roomSettings[key]?.isModerated = false
        case "+i": roomSettings[key]?.isInviteOnly = true
        case "-i": roomSettings[key]?.isInviteOnly = false
        case "-k": roomSettings[key]?.key = nil
        case "+k":
            let valid = !request.text.isEmpty && request.text.utf8.count <= 32
                && request.text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
            guard valid else {
                return sendError(.badRequest, "A room key is 1-32 printable ASCII characters without spaces", to: endpoint, at: now)
            }
            roomSettings[key]?.key = request.text
        default:
            return sendError(.badRequest, "Unknown mode \(quoted(request.target)): +m -m +i -i +k KEY -k", to: endpoint, at: now)
        }
        announce(roomKey: key, by: actor.name, target: "", "set mode \(request.target)", at: now)
    }

    private mutating func addRoomBan(_ request: Moderation, roomKey key: String, roomName: String, by endpoint: Endpoint, at now: Timestamp) {
        guard let actor = peers[endpoint], let mask = banMask(request.target, asker: endpoint, at: now) else { return }
        roomSettings[key]?.pruneBans(at: now)
        var bans = roomSettings[key]?.bans ?? []
        bans.removeAll { $0.mask == mask }
        guard bans.count < Self.maximumBansPerList else {
            return sendError(.badRequest, "\(roomName) has \(Self.maximumBansPerList) bans; lift one first", to: endpoint, at: now)
        }
        let ban = Ban(mask: mask, setBy: actor.name, reason: request.text,
                      expires: request.durationSeconds == 0 ? nil : now + .seconds(Int64(request.durationSeconds)))
        bans.append(ban)
        roomSettings[key]?.bans = bans
        announce(roomKey: key, by: actor.name, target: mask.description, "banned \(describe(request.target, mask))"
                 + "\(Self.describe(duration: request.durationSeconds))\(request.text.isEmpty ? "" : ": \(request.text)")", at: now)
        // Members the ban matches leave the room now (operators and administrators are not banned).
        for member in rooms[key]?.members ?? [] where member != endpoint && !isOperator(member, roomKey: key) {
            guard let peer = peers[member], mask.matches(senderID: peer.senderID, address: member.address) else { continue }
            expel(member, roomKey: key, detail: "banned by \(actor.name)\(request.text.isEmpty ? "" : ": \(request.text)")", at: now)
        }
    }

    private mutating func handleKill(_ request: Moderation, by actor: Peer, at now: Timestamp) {
        guard isAdministrator(actor.endpoint) else {
            return sendError(.notOperator, "Only relay administrators can /kill", to: actor.endpoint, at: now)
        }
        guard let target = user(named: request.target, asker: actor.endpoint, at: now) else { return }
        disconnect(target, by: actor.name, reason: request.text, at: now)
    }

    private mutating func handleRelayBans(_ request: Moderation, by actor: Peer, at now: Timestamp) {
        let endpoint = actor.endpoint
        guard isAdministrator(endpoint) else {
            return sendError(.notOperator, "Only relay administrators can /kline, /unkline and /klines", to: endpoint, at: now)
        }
        relayBans.removeAll { ban in ban.expires.map { $0 <= now } ?? false }
        switch request.action {
        case .bans:
            send(.banList(room: "", entries: relayBans.map { banEntry($0, at: now) }), to: endpoint, at: now)
        case .unban:
            guard let mask = banMask(request.target, asker: endpoint, at: now) else { return }
            let before = relayBans.count
            relayBans.removeAll { $0.mask == mask }
            guard relayBans.count < before else { return sendError(.badRequest, "No relay-wide ban on \(mask)", to: endpoint, at: now) }
            log(.info, .moderation, at: now, "\(quoted(actor.name)) [\(actor.senderID)] lifted the relay-wide ban on \(mask)")
            send(.notice(Notice(kind: .moderation, name: actor.name, endpoint: mask.description,
                                detail: "lifted the relay-wide ban on \(mask)")), to: endpoint, at: now)
        default:
            guard let mask = banMask(request.target, asker: endpoint, at: now) else { return }
            relayBans.removeAll { $0.mask == mask }
            guard relayBans.count < Self.maximumBansPerList else {
                return sendError(.badRequest, "The relay has \(Self.maximumBansPerList) bans; lift one first", to: endpoint, at: now)
            }
            relayBans.append(Ban(mask: mask, setBy: actor.name, reason: request.text,
                                 expires: request.durationSeconds == 0 ? nil : now + .seconds(Int64(request.durationSeconds))))
            let what = "banned \(describe(request.target, mask)) from the relay\(Self.describe(duration: request.durationSeconds))"
                + (request.text.isEmpty ? "" : ": \(request.text)")
            log(.info, .moderation, at: now, "\(quoted(actor.name)) [\(actor.senderID)] \(SafeText.loggable(what, limit: 200))")
            send(.notice(Notice(kind: .moderation, name: actor.name, endpoint: mask.description, detail: Self.detail(what))),
                 to: endpoint, at: now)
            for other in orderedEndpoints() where other != endpoint {
                guard let peer = peers[other], peer.isJoined, mask.matches(senderID: peer.senderID, address: other.address) else { continue }
                disconnect(other, by: actor.name, reason: "banned from the relay\(request.text.isEmpty ? "" : ": \(request.text)")", at: now)
            }
        }
    }

    /// Sends the target NOTICE killed, then removes it; the others get NOTICE quit `killed by NAME: reason`.
    private mutating func disconnect(_ target: Endpoint, by actor: String, reason: String, at now: Timestamp) {
        guard let peer = peers[target] else { return }
        log(.info, .moderation, at: now, "\(quoted(actor)) killed \(quoted(peer.name)) [\(target), sender \(peer.senderID)]: \(quoted(reason))")
        send(.notice(Notice(kind: .killed, name: actor, detail: Self.detail(reason))), to: target, at: now)
        transmitNow(target, at: now)
        removePeer(target, departure: .killed(by: actor, reason: reason), at: now)
    }

    /// Takes a member out of a room: it gets NOTICE roomParted with `detail`; the others were told by
    /// the announcement that caused it.
    private mutating func expel(_ target: Endpoint, roomKey key: String, detail: String, at now: Timestamp) {
        guard let room = rooms[key] else { return }
        if let id = peers[target]?.senderID {
            roomSettings[key]?.admitted.remove(id)
            roomSettings[key]?.invited.remove(id)
        }
        peers[target]?.rooms.removeAll { $0 == key }
        rooms[key]?.members.removeAll { $0 == target }
        if rooms[key]?.members.isEmpty == true {
            rooms[key] = nil
            roomEmptied(key)
        }
        send(.notice(Notice(kind: .roomParted, room: room.name, detail: Self.detail(detail))), to: target, at: now)
    }

    /// NOTICE moderation to every member of the room, and a line in the log.
    private mutating func announce(roomKey key: String, by actor: String, target: String, _ what: String, at now: Timestamp) {
        let roomName = rooms[key]?.name ?? key
        let sender = names[ChatNames.skeleton(actor)].flatMap { peers[$0]?.senderID }.map { " [\($0)]" } ?? ""
        log(.info, .moderation, at: now, "\(quoted(actor))\(sender) in \(quoted(roomName)): \(SafeText.loggable(what, limit: 200))")
        let notice = RelayMessage.notice(Notice(kind: .moderation, name: actor, room: roomName, endpoint: target,
                                                detail: Self.detail(what))).encoded()
        for member in rooms[key]?.members ?? [] { send(encoded: notice, to: member, at: now) }
    }

    /// The online user named `name` (as spelled, case-insensitively), or ERROR noSuchUser.
    private mutating func user(named name: String, asker: Endpoint, at now: Timestamp) -> Endpoint? {
        guard let endpoint = names[ChatNames.skeleton(name)], let holder = peers[endpoint],
              ChatNames.canonical(holder.name) == ChatNames.canonical(name) else {
            sendError(.noSuchUser, "No such user: \(quoted(name))", to: asker, at: now)
            return nil
        }
        return endpoint
    }

    /// The member of the room named `name`, or an ERROR (noSuchUser, or notInRoom naming the user).
    private mutating func member(named name: String, roomKey key: String, roomName: String, asker: Endpoint,
                                 at now: Timestamp) -> Endpoint? {
        guard let endpoint = user(named: name, asker: asker, at: now) else { return nil }
        guard rooms[key]?.members.contains(endpoint) == true else {
            sendError(.notInRoom, "\(quoted(name)) is not in \(roomName)", to: asker, at: now)
            return nil
        }
        return endpoint
    }

    /// A ban's mask from what was typed: an address (prefix), `id:` and a sender id, or the name of
    /// an online user (its session). Otherwise ERROR noSuchUser or badRequest.
    private mutating func banMask(_ target: String, asker: Endpoint, at now: Timestamp) -> BanMask? {
        if let mask = BanMask(target) { return mask }
        do throws(NameError) {
            try ChatNames.validateUserName(target)
        } catch {
            sendError(.badRequest, "\(quoted(target)) is not a name, an address or a ban mask", to: asker, at: now)
            return nil
        }
        guard let endpoint = user(named: target, asker: asker, at: now), let peer = peers[endpoint] else { return nil }
        return .session(peer.senderID)
    }

    private func describe(_ typed: String, _ mask: BanMask) -> String {
        typed == mask.description ? typed : "\(typed) (\(mask))"
    }

    /// A NOTICE detail within the 256-byte limit of section 6 (cut at a character boundary, with `…`).
    static func detail(_ text: String) -> String { bounded(text, to: ChatLimits.maximumReasonLength) }

    static func describe(duration seconds: UInt32) -> String {
        guard seconds > 0 else { return "" }
        for (unit, name) in [(UInt32(86_400), "d"), (3_600, "h"), (60, "min")] where seconds % unit == 0 {
            return " for \(seconds / unit) \(name)"
        }
        return " for \(seconds) s"
    }

    private mutating func sendBanList(roomKey key: String, roomName: String, to endpoint: Endpoint, at now: Timestamp) {
        roomSettings[key]?.pruneBans(at: now)
        let entries = (roomSettings[key]?.bans ?? []).map { banEntry($0, at: now) }
        send(.banList(room: roomName, entries: entries), to: endpoint, at: now)
    }

    private func banEntry(_ ban: Ban, at now: Timestamp) -> BanEntry {
        let left: UInt32 = ban.expires.map { expiry in
            let remaining = expiry - now
            let whole = remaining.components.seconds + (remaining.components.attoseconds > 0 ? 1 : 0)
            return UInt32(clamping: max(1, whole))
        } ?? 0
        return BanEntry(mask: ban.mask.description, setBy: ban.setBy, secondsLeft: left, reason: ban.reason)
    }
}
