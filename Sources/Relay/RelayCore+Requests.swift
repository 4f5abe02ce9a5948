import Chat
import Datagram

extension RelayCore {
    /// Acts on one decoded request (Specs/chat-protocol.md, section 4.3).
    mutating func handleClientMessage(_ message: ClientMessage, from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        if case let .hello(hello) = message {
            // HELLO errors, first that applies wins (section 4.3, "HELLO errors").
            guard !peer.isJoined else { return sendError(.badRequest, "Already joined as \(peer.name)", to: endpoint, at: now) }
            guard !isShuttingDown else { return }
            return handleHello(hello, from: endpoint, at: now)
        }
        if case let .heartbeat(timestamp, roundTripTime) = message {
            // Answered in every phase, before WELCOME too: liveness, not a request (section 4.3).
            if endpoint.transport == .tcp { peers[endpoint]?.reportedRoundTripTime = roundTripTime }
            return send(.heartbeatEcho(timestamp: timestamp), to: endpoint, at: now)
        }
        guard peer.isJoined else { return sendError(.notJoined, "Send HELLO first", to: endpoint, at: now) }
        switch message {
        case let .say(room, messageID, flags, text):
            if isAlreadyHandled(messageID, from: peer) {
                statistics.resendsDropped += 1
            } else {
                handleSay(room: room, messageID: messageID, flags: flags, text: text, from: endpoint, at: now)
                noteHandled(messageID, from: peer)
            }
            acknowledge(messageID, to: endpoint, at: now)
        case let .privateMessage(to, messageID, flags, text):
            if isAlreadyHandled(messageID, from: peer) {
                statistics.resendsDropped += 1
            } else {
                handlePrivate(to: to, messageID: messageID, flags: flags, text: text, from: endpoint, at: now)
                noteHandled(messageID, from: peer)
            }
            acknowledge(messageID, to: endpoint, at: now)
        case .joinRoom(let room), .joinRoomWithKey(let room, _):
            do throws(NameError) {
                try ChatNames.validateRoomName(room)
                var key: String?
                if case let .joinRoomWithKey(_, given) = message { key = given }
                join(endpoint, room: room, key: key, at: now)
            } catch {
                sendError(.invalidRoom, "Invalid room name \(quoted(room)): \(error)", to: endpoint, at: now)
            }
        case let .moderate(request):
            handleModeration(request, from: endpoint, at: now)
        case let .whois(name):
            handleWhois(name, from: endpoint, at: now)
        case let .sealedPrivate(to, messageID, sealed):
            // Exactly once across restarts, as PRIVATE (Specs/chat-protocol.md, section 4.11).
            if isAlreadyHandled(messageID, from: peer) {
                statistics.resendsDropped += 1
            } else {
                handleSealedPrivate(to: to, messageID: messageID, sealed: sealed, from: endpoint, at: now)
                noteHandled(messageID, from: peer)
            }
            acknowledge(messageID, to: endpoint, at: now)
        case let .receipt(sender, messageID):
            handleReceipt(sender: sender, messageID: messageID, from: endpoint, at: now)
        case let .account(request):
            handleAccount(request, from: endpoint, at: now)
        case let .history(room, count, since):
            handleHistoryRequest(room: room, count: count, since: since, from: endpoint, at: now)
        case let .partRoom(room):
            let key = ChatNames.canonical(room)
            guard peer.rooms.contains(key) else { return sendError(.notInRoom, "You are not in \(quoted(room))", to: endpoint, at: now) }
            part(endpoint, roomKey: key, reason: "", at: now)
        case .listRooms:
            sendRoomList(to: endpoint, at: now)
        case let .who(room):
            handleWho(room: room, from: endpoint, at: now)
        case let .nick(name):
            handleNick(name, from: endpoint, at: now)
        case let .quit(reason):
            // A reason over the limit is refused and the user stays; a QUIT that is carried out closes
            // the transport after the notices (section 4.3, item 4).
            guard reason.utf8.count <= ChatLimits.maximumReasonLength else {
                return sendError(.messageTooLarge, "Quit reason of \(reason.utf8.count) bytes exceeds the limit of "
                                 + "\(ChatLimits.maximumReasonLength) bytes", to: endpoint, at: now)
            }
            log(.info, .membership, at: now, "\(quoted(peer.name)) [\(endpoint)] quit: \(quoted(reason))")
            removePeer(endpoint, departure: .quit(reason), at: now)
        case .fileOffer, .fileAccept, .fileCancel, .fileChunk, .fileConfirm, .fileDone:
            handleFileMessage(message, from: endpoint, at: now)
        case .hello, .heartbeat:
            break
        }
    }

    private mutating func handleHello(_ hello: Hello, from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        guard hello.protocolVersion == ChatLimits.protocolVersion else {
            return sendError(.unsupportedVersion, "Protocol version \(hello.protocolVersion) is not supported; this relay speaks \(ChatLimits.protocolVersion)",
                             to: endpoint, at: now)
        }
        do throws(NameError) {
            try ChatNames.validateUserName(hello.name)
        } catch {
            return sendError(.invalidName, "Invalid name \(quoted(hello.name)): \(error)", to: endpoint, at: now)
        }
        let key = ChatNames.skeleton(hello.name)
        let senderID = senderIDs(hello.sessionSecret)
        if let ban = relayBan(senderID: senderID, endpoint: endpoint, at: now) {
            log(.info, .moderation, at: now, "\(quoted(hello.name)) [\(endpoint), sender \(senderID)] refused: banned from the relay (\(ban.mask))")
            return sendError(.banned, "You are banned from this relay\(ban.reason.isEmpty ? "" : ": \(ban.reason)")", to: endpoint, at: now)
        }
        // A session resumed under the same secret keeps the account it proved with /identify.
        if let holder = names[key], holder != endpoint, let current = peers[holder], current.sessionSecret == hello.sessionSecret {
            peers[endpoint]?.identifiedAccount = current.identifiedAccount
        }
        if let refusal = registrationRefusal(hello.name, peer: peers[endpoint] ?? peer) {
            log(.info, .membership, at: now, "\(quoted(hello.name)) [\(endpoint)] refused: the name is registered")
            return sendError(.nameRegistered, refusal, to: endpoint, at: now)
        }
        if let holder = names[key], holder != endpoint, let current = peers[holder] {
            // A name held by another identity key is never taken over, not even with the holder's
            // secret (section 4.10); when neither side has a key, the secret alone decides.
            if let refusal = keyRefusal(hello.name, holder: current, newcomer: peer.identityKey) {
                log(.info, .membership, at: now, "\(quoted(hello.name)) [\(endpoint)] refused: the name is held by another identity key")
                return sendError(.nameKeyMismatch, refusal, to: endpoint, at: now)
            }
            // Only the same secret resumes a session; a look-alike or an equal name under another
            // secret is taken. The secret itself is never logged: the sender id stands for it.
            guard current.sessionSecret == hello.sessionSecret else {
                return sendError(.nameTaken, nameTakenText(hello.name, holder: current.name), to: endpoint, at: now)
            }
            log(.info, .membership, at: now, "\(quoted(hello.name)): session \(senderID) resumed, moved from \(holder) to \(endpoint)")
            send(.notice(Notice(kind: .sessionResumed, name: current.name)), to: holder, at: now)
            transmitNow(holder, at: now)
            removePeer(holder, departure: .replaced, at: now)
        }
        admit(hello, key: key, senderID: senderID, from: endpoint, at: now)
    }

    /// Best effort before a close: hands a UDP peer's queued datagrams to the driver now (a Datagram
    /// CLOSE discards what is still queued).
    mutating func transmitNow(_ endpoint: Endpoint, at now: Timestamp) {
        while let bytes = connections[endpoint]?.pollTransmit(at: now) { actions.append(.sendDatagram(bytes, to: endpoint)) }
    }

    private func nameTakenText(_ name: String, holder: String) -> String {
        ChatNames.canonical(name) == ChatNames.canonical(holder)
            ? "The name \(quoted(name)) is taken"
            : "The name \(quoted(name)) is taken: it looks like \(quoted(holder))"
    }

    private mutating func admit(_ hello: Hello, key: String, senderID: SenderID, from endpoint: Endpoint, at now: Timestamp) {
        peers[endpoint]?.phase = .joined
        peers[endpoint]?.name = hello.name
        peers[endpoint]?.sessionSecret = hello.sessionSecret
        peers[endpoint]?.senderID = senderID
        joinedBySender[senderID, default: []].append(endpoint)
        names[key] = endpoint
        statistics.joinsAccepted += 1
        // Counted, not recounted: a scan of every peer per join made joining 50,000 users quadratic
        // (`bench relay-scale --peers 50000` stalled near 46,000, the relay at 100 % of a core).
        statistics.joinedPeers += 1
        log(.info, .membership, at: now, "\(quoted(hello.name)) [\(endpoint)] joined (sender \(senderID), software \(quoted(hello.software)))")
        announceStoredMessages(to: endpoint, senderID: senderID, at: now)
        send(.welcome(name: hello.name, defaultRoom: configuration.defaultRoom, peerTimeout: configuration.peerTimeout), to: endpoint, at: now)
        requestPrivateHistory(for: endpoint, senderID: senderID)
        deliverOfflineMessages(to: endpoint, at: now)
        var wanted: [String] = []
        if hello.rooms.count > ChatLimits.maximumRoomsPerUser {
            sendError(.tooManyRooms, "Only the first \(ChatLimits.maximumRoomsPerUser) of \(hello.rooms.count) rooms were joined",
                      to: endpoint, at: now)
        }
        for room in hello.rooms.prefix(ChatLimits.maximumRoomsPerUser) {
            do throws(NameError) {
                try ChatNames.validateRoomName(room)
                wanted.append(room)
            } catch {
                sendError(.invalidRoom, "Invalid room name \(quoted(room)): \(error)", to: endpoint, at: now)
            }
        }
        for room in wanted.isEmpty ? [configuration.defaultRoom] : wanted { join(endpoint, room: room, at: now) }
    }

    private mutating func handleSay(room: String, messageID: UInt64, flags: MessageFlags, text: String,
                                    from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint], checkTextLength(text, messageID: messageID, from: endpoint, at: now) else { return }
        let key = ChatNames.canonical(room)
        guard peer.rooms.contains(key), let members = rooms[key]?.members else {
            return sendError(.notInRoom, "You are not in \(quoted(room))", messageID: messageID, to: endpoint, at: now)
        }
        if let refusal = speakingRefusal(endpoint, roomKey: key) {
            return sendError(.cannotSpeak, refusal, messageID: messageID, to: endpoint, at: now)
        }
        statistics.messagesRouted += 1
        recordHistory(roomKey: key, roomName: rooms[key]?.name ?? room, from: peer, messageID: messageID, flags: flags, text: text)
        let message = RelayMessage.message(room: rooms[key]?.name ?? room, from: peer.name, sender: peer.senderID,
                                           messageID: messageID, flags: flags, text: text).encoded()
        for member in members where member != endpoint {
            statistics.deliveries += 1
            send(encoded: message, to: member, at: now)
        }
    }

    private mutating func handlePrivate(to target: String, messageID: UInt64, flags: MessageFlags, text: String,
                                        from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint], checkTextLength(text, messageID: messageID, from: endpoint, at: now) else { return }
        // The name table is keyed by skeleton; a look-alike of a user's name is not that user.
        guard let recipient = names[ChatNames.skeleton(target)],
              let holder = peers[recipient], ChatNames.canonical(holder.name) == ChatNames.canonical(target) else {
            if storeOffline(to: target, from: peer, messageID: messageID, flags: flags, text: text, at: now) { return }
            return sendError(.noSuchUser, "No such user: \(quoted(target))", messageID: messageID, to: endpoint, at: now)
        }
        statistics.privateMessagesRouted += 1
        statistics.deliveries += 1
        send(.privateMessage(from: peer.name, sender: peer.senderID, messageID: messageID, flags: flags, text: text),
             to: recipient, at: now)
        awaitReceipt(at: recipient, from: peer.senderID, messageID: messageID)
        recordPrivate(to: holder, from: peer, messageID: messageID, flags: flags, text: text)
    }

    private mutating func checkTextLength(_ text: String, messageID: UInt64, from endpoint: Endpoint, at now: Timestamp) -> Bool {
        guard text.utf8.count > ChatLimits.maximumTextLength else { return true }
        sendError(.messageTooLarge, "Message of \(text.utf8.count) bytes exceeds the limit of \(ChatLimits.maximumTextLength) bytes",
                  messageID: messageID, to: endpoint, at: now)
        return false
    }

    /// TCP only: RECEIVED with the highest SAY/PRIVATE id handled so far, so the client can forget it.
    private mutating func acknowledge(_ messageID: UInt64, to endpoint: Endpoint, at now: Timestamp) {
        guard endpoint.transport == .tcp, let peer = peers[endpoint] else { return }
        let highest = max(peer.highestHandledMessageID, messageID)
        peers[endpoint]?.highestHandledMessageID = highest
        send(.received(upTo: highest), to: endpoint, at: now)
    }

    private mutating func handleWho(room: String, from endpoint: Endpoint, at now: Timestamp) {
        let everyone = orderedEndpoints().compactMap { peers[$0] }.filter(\.isJoined)
        let key = ChatNames.canonical(room)
        let listed = room.isEmpty ? everyone : everyone.filter { $0.rooms.contains(key) }
        sendWhoList(room: room, entries: listed.map { whoEntry($0, for: endpoint) }, to: endpoint, at: now)
    }

    /// NICK: refused (invalidName, nameTaken) or carried out; the renamer and every member of its rooms
    /// get NOTICE nickChanged, each once (section 4.3, item 8).
    mutating func handleNick(_ name: String, from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        do throws(NameError) {
            try ChatNames.validateUserName(name)
        } catch {
            return sendError(.invalidName, "Invalid name \(quoted(name)): \(error)", to: endpoint, at: now)
        }
        let key = ChatNames.skeleton(name), oldKey = ChatNames.skeleton(peer.name)
        if let refusal = registrationRefusal(name, peer: peer) {
            return sendError(.nameRegistered, refusal, to: endpoint, at: now)
        }
        if let holder = names[key], holder != endpoint {
            if let current = peers[holder], let refusal = keyRefusal(name, holder: current, newcomer: peer.identityKey) {
                return sendError(.nameKeyMismatch, refusal, to: endpoint, at: now)
            }
            return sendError(.nameTaken, nameTakenText(name, holder: peers[holder]?.name ?? name), to: endpoint, at: now)
        }
        names[oldKey] = nil
        names[key] = endpoint
        peers[endpoint]?.name = name
        log(.info, .membership, at: now, "\(quoted(peer.name)) [\(endpoint)] is now \(quoted(name))")
        let notice = RelayMessage.notice(Notice(kind: .nickChanged, name: peer.name, detail: name))
        var told: Set<Endpoint> = [endpoint]
        send(notice, to: endpoint, at: now)
        for key in peer.rooms {
            for member in rooms[key]?.members ?? [] where told.insert(member).inserted { send(notice, to: member, at: now) }
        }
        deliverOfflineMessages(to: endpoint, at: now)
    }
}
