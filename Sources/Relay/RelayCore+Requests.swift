import Chat
import Datagram

extension RelayCore {
    /// Acts on one decoded request (Specs/chat-protocol.md, section 4.3).
    mutating func handleClientMessage(_ message: ClientMessage, from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        if case let .hello(hello) = message {
            guard !isShuttingDown else { return }
            guard !peer.isJoined else { return sendError(.badRequest, "Already joined as \(peer.name)", to: endpoint, at: now) }
            return handleHello(hello, from: endpoint, at: now)
        }
        if case let .heartbeat(timestamp, roundTripTime) = message {
            if endpoint.transport == .tcp { peers[endpoint]?.reportedRoundTripTime = roundTripTime }
            return send(.heartbeatEcho(timestamp: timestamp), to: endpoint, at: now)
        }
        guard peer.isJoined else { return sendError(.notJoined, "Send HELLO first", to: endpoint, at: now) }
        switch message {
        case let .say(room, messageID, flags, text):
            handleSay(room: room, messageID: messageID, flags: flags, text: text, from: endpoint, at: now)
            acknowledge(messageID, to: endpoint, at: now)
        case let .privateMessage(to, messageID, flags, text):
            handlePrivate(to: to, messageID: messageID, flags: flags, text: text, from: endpoint, at: now)
            acknowledge(messageID, to: endpoint, at: now)
        case let .joinRoom(room):
            do throws(NameError) {
                try ChatNames.validateRoomName(room)
                join(endpoint, room: room, at: now)
            } catch {
                sendError(.invalidRoom, "Invalid room name '\(Self.echo(room))': \(error)", to: endpoint, at: now)
            }
        case let .partRoom(room):
            let key = ChatNames.canonical(room)
            guard peer.rooms.contains(key) else { return sendError(.notInRoom, "You are not in \(Self.echo(room))", to: endpoint, at: now) }
            part(endpoint, roomKey: key, reason: "", at: now)
        case .listRooms:
            sendRoomList(to: endpoint, at: now)
        case let .who(room):
            handleWho(room: room, from: endpoint, at: now)
        case let .nick(name):
            handleNick(name, from: endpoint, at: now)
        case let .quit(reason):
            log(.info, "\(peer.name) [\(endpoint)] quit: \(reason)")
            removePeer(endpoint, departure: .quit(String(reason.utf8.prefix(ChatLimits.maximumReasonLength)) ?? ""), at: now)
        case .hello, .heartbeat:
            break
        }
    }

    private mutating func handleHello(_ hello: Hello, from endpoint: Endpoint, at now: Timestamp) {
        guard hello.protocolVersion == ChatLimits.protocolVersion else {
            return sendError(.unsupportedVersion, "Protocol version \(hello.protocolVersion) is not supported; this relay speaks \(ChatLimits.protocolVersion)",
                             to: endpoint, at: now)
        }
        do throws(NameError) {
            try ChatNames.validateUserName(hello.name)
        } catch {
            return sendError(.invalidName, "Invalid name '\(Self.echo(hello.name))': \(error)", to: endpoint, at: now)
        }
        let key = ChatNames.canonical(hello.name)
        if let holder = names[key], holder != endpoint {
            guard peers[holder]?.sessionID == hello.sessionID else {
                return sendError(.nameTaken, "The name \(hello.name) is taken", to: endpoint, at: now)
            }
            log(.info, "\(hello.name): session \(hello.sessionID) moved from \(holder) to \(endpoint)")
            removePeer(holder, departure: .replaced, at: now)
        }
        admit(hello, key: key, from: endpoint, at: now)
    }

    private mutating func admit(_ hello: Hello, key: String, from endpoint: Endpoint, at now: Timestamp) {
        peers[endpoint]?.phase = .joined
        peers[endpoint]?.name = hello.name
        peers[endpoint]?.sessionID = hello.sessionID
        names[key] = endpoint
        statistics.joinsAccepted += 1
        statistics.joinedPeers = peers.values.count(where: \.isJoined)
        log(.info, "\(hello.name) [\(endpoint)] joined (session \(hello.sessionID)\(hello.software.isEmpty ? "" : ", \(hello.software)"))")
        send(.welcome(name: hello.name, defaultRoom: configuration.defaultRoom, peerTimeout: configuration.peerTimeout), to: endpoint, at: now)
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
                sendError(.invalidRoom, "Invalid room name '\(Self.echo(room))': \(error)", to: endpoint, at: now)
            }
        }
        for room in wanted.isEmpty ? [configuration.defaultRoom] : wanted { join(endpoint, room: room, at: now) }
    }

    private mutating func handleSay(room: String, messageID: UInt64, flags: MessageFlags, text: String,
                                    from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint], checkTextLength(text, messageID: messageID, from: endpoint, at: now) else { return }
        let key = ChatNames.canonical(room)
        guard peer.rooms.contains(key), let members = rooms[key]?.members else {
            return sendError(.notInRoom, "You are not in \(Self.echo(room))", messageID: messageID, to: endpoint, at: now)
        }
        statistics.messagesRouted += 1
        let message = RelayMessage.message(room: rooms[key]?.name ?? room, from: peer.name, fromSession: peer.sessionID,
                                           messageID: messageID, flags: flags, text: text).encoded()
        for member in members where member != endpoint {
            statistics.deliveries += 1
            send(encoded: message, to: member, at: now)
        }
    }

    private mutating func handlePrivate(to target: String, messageID: UInt64, flags: MessageFlags, text: String,
                                        from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint], checkTextLength(text, messageID: messageID, from: endpoint, at: now) else { return }
        guard let recipient = names[ChatNames.canonical(target)] else {
            return sendError(.noSuchUser, "No such user: \(Self.echo(target))", messageID: messageID, to: endpoint, at: now)
        }
        statistics.privateMessagesRouted += 1
        statistics.deliveries += 1
        send(.privateMessage(from: peer.name, fromSession: peer.sessionID, messageID: messageID, flags: flags, text: text),
             to: recipient, at: now)
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
        sendWhoList(room: room, entries: listed.map(whoEntry), to: endpoint, at: now)
    }

    private mutating func handleNick(_ name: String, from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        do throws(NameError) {
            try ChatNames.validateUserName(name)
        } catch {
            return sendError(.invalidName, "Invalid name '\(Self.echo(name))': \(error)", to: endpoint, at: now)
        }
        let key = ChatNames.canonical(name), oldKey = ChatNames.canonical(peer.name)
        if let holder = names[key], holder != endpoint {
            return sendError(.nameTaken, "The name \(name) is taken", to: endpoint, at: now)
        }
        names[oldKey] = nil
        names[key] = endpoint
        peers[endpoint]?.name = name
        log(.info, "\(peer.name) [\(endpoint)] is now \(name)")
        let notice = RelayMessage.notice(Notice(kind: .nickChanged, name: peer.name, detail: name))
        var told: Set<Endpoint> = [endpoint]
        send(notice, to: endpoint, at: now)
        for key in peer.rooms {
            for member in rooms[key]?.members ?? [] where told.insert(member).inserted { send(notice, to: member, at: now) }
        }
    }
}
