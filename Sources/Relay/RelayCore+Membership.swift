import Chat
import Datagram

extension RelayCore {
    /// Queues `message` for one peer. A UDP peer whose queue is full is disconnected after the current
    /// input with the notice "send queue overflow"; nothing is dropped silently.
    mutating func send(_ message: RelayMessage, to endpoint: Endpoint, at now: Timestamp) {
        send(encoded: message.encoded(), to: endpoint, at: now)
    }

    /// Queues an already encoded relay message for one peer (a room message is encoded once).
    /// A message over `ChatLimits.maximumChatMessageSize` is sent on no transport (every reply is
    /// built or paged within it, so this is a bug in the relay): counted and logged at error level.
    mutating func send(encoded bytes: [UInt8], to endpoint: Endpoint, at now: Timestamp, channel: Channel = .reliableOrdered) {
        guard peers[endpoint] != nil, !overflowedPeers.contains(endpoint) else { return }
        guard bytes.count <= ChatLimits.maximumChatMessageSize else {
            statistics.oversizedNotSent += 1
            log(.error, "\(endpoint): a chat message of \(bytes.count) bytes (type 0x\(String(bytes.first ?? 0, radix: 16))) was not sent: "
                + "over the limit of \(ChatLimits.maximumChatMessageSize) bytes; please report this")
            return
        }
        // Behind a history read not answered yet, it waits its turn (RelayCore+HistoryOrder.swift).
        if isHeldForHistory(endpoint) { return hold(bytes, channel: channel, for: endpoint) }
        sendNow(encoded: bytes, to: endpoint, at: now, channel: channel)
    }

    /// Queues an encoded relay message for one peer now.
    mutating func sendNow(encoded bytes: [UInt8], to endpoint: Endpoint, at now: Timestamp, channel: Channel) {
        peers[endpoint]?.messagesSent += 1
        guard endpoint.transport == .udp else {
            if let payload = sealStreamPayload(bytes, to: endpoint, at: now) {
                actions.append(.sendStream(Framing.frame(payload), to: endpoint))
            }
            return
        }
        do {
            try connections[endpoint]?.send(bytes, on: channel, at: now)
            markPending(endpoint)
        } catch .sendQueueFull(let queued, let limit) {
            log(.warning, "\(endpoint): send queue full (\(queued) of \(limit) bytes)")
            overflowedPeers.append(endpoint)
        } catch {
            log(.debug, "\(endpoint): message not sent: \(error)")
        }
    }

    mutating func sendError(_ code: ErrorCode, _ text: String, messageID: UInt64 = 0, to endpoint: Endpoint, at now: Timestamp) {
        statistics.errorsSent += 1
        log(.debug, .error, at: now, "\(endpoint): error \(code): \(SafeText.loggable(text, limit: 200))")
        send(.error(code: code, messageID: messageID, text: Self.bounded(text, to: Self.errorTextLimit)), to: endpoint, at: now)
    }

    /// Disconnects the peers whose send queue overflowed during this input.
    mutating func disconnectOverflowedPeers(at now: Timestamp) {
        while !overflowedPeers.isEmpty {
            let endpoint = overflowedPeers.removeFirst()
            statistics.sendQueueOverflows += 1
            removePeer(endpoint, departure: .sendQueueOverflow, at: now)
        }
    }

    /// Removes a peer: frees its name, leaves its rooms, tells the users who shared a room with it
    /// (per `departure`), and closes its connection (CLOSE) or stream.
    mutating func removePeer(_ endpoint: Endpoint, departure: Departure, at now: Timestamp, isStreamOpen: Bool = true) {
        guard let peer = peers.removeValue(forKey: endpoint) else { return }
        streamSeals[endpoint] = nil
        pathChecks[endpoint] = nil
        if let id = peer.connectionID, connectionEndpoints[id] == endpoint { connectionEndpoints[id] = nil }
        pendingConnections.remove(endpoint)
        overflowedPeers.removeAll { $0 == endpoint }
        congestedPeers.remove(endpoint)
        wakeTimes[endpoint] = nil
        forgetLimits(of: endpoint)
        endTransfers(of: endpoint, at: now)
        if !peer.name.isEmpty {
            let neighbours = leaveAllRooms(peer)
            if names[ChatNames.skeleton(peer.name)] == endpoint { names[ChatNames.skeleton(peer.name)] = nil }
            if let notice = departure.notice(name: peer.name) {
                for neighbour in neighbours { send(.notice(notice), to: neighbour, at: now) }
            }
            log(.info, .membership, at: now, "\(quoted(peer.name)) [\(endpoint)] left: \(departure)")
        }
        if var connection = connections.removeValue(forKey: endpoint) {
            statistics.receiveBufferedBytes -= connection.statistics.receiveBufferedBytes
            if case .closed = connection.state {} else { connection.close(code: departure.closeCode, at: now) }
            while let bytes = connection.pollTransmit(at: now) { actions.append(.sendDatagram(bytes, to: endpoint)) }
        } else if isStreamOpen {
            actions.append(.closeStream(endpoint))
        }
        statistics.peers = peers.count
        // Counted, not recounted: a scan of every peer per departure made 50,000 departures quadratic.
        if peer.isJoined {
            statistics.joinedPeers -= 1
            forgetSender(peer.senderID, at: endpoint)
        }
    }

    /// Takes `peer` out of all its rooms (deleting rooms left empty) and returns the other members of
    /// those rooms, each once, in connection order.
    private mutating func leaveAllRooms(_ peer: Peer) -> [Endpoint] {
        var neighbours: Set<Endpoint> = []
        for key in peer.rooms {
            rooms[key]?.members.removeAll { $0 == peer.endpoint }
            neighbours.formUnion(rooms[key]?.members ?? [])
            if rooms[key]?.members.isEmpty == true {
                rooms[key] = nil
                roomEmptied(key)
            }
        }
        return neighbours.compactMap { peers[$0] }.sorted { $0.serial < $1.serial }.map(\.endpoint)
    }

    mutating func evictSilentPeer(_ endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        statistics.peersTimedOut += 1
        log(.info, .membership, at: now, "\(peer.isJoined ? quoted(peer.name) : "unjoined peer") [\(endpoint)] silent for \(now - peer.lastHeard): timed out")
        removePeer(endpoint, departure: .timedOut, at: now)
    }

    /// Ends a shutdown drain: closes the peer with CLOSE code 3 (UDP) or closes its stream (TCP).
    mutating func finishDraining(_ endpoint: Endpoint, at now: Timestamp) {
        removePeer(endpoint, departure: .shutdown, at: now)
    }

    /// Puts a joined peer in `roomName` (already validated), creating the room, and tells it and the
    /// members. Joining a room one is already in just confirms it.
    mutating func join(_ endpoint: Endpoint, room roomName: String, key givenKey: String? = nil, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        let key = ChatNames.canonical(roomName)
        if peer.rooms.contains(key) {
            send(.notice(Notice(kind: .roomJoined, room: rooms[key]?.name ?? roomName)), to: endpoint, at: now)
            return
        }
        if let refusal = roomLimitRefusal(for: peer, creatingRoom: rooms[key] == nil) {
            return sendError(.tooManyRooms, refusal, to: endpoint, at: now)
        }
        if let (code, text) = joinRefusal(endpoint, roomKey: key, roomName: rooms[key]?.name ?? roomName, givenKey: givenKey, at: now) {
            log(.info, .moderation, at: now, "\(quoted(peer.name)) [\(endpoint)] refused in \(quoted(roomName)): \(code)")
            return sendError(code, text, to: endpoint, at: now)
        }
        let members = rooms[key]?.members ?? []
        let isRejoining = roomSettings[key]?.admitted.contains(peer.senderID) == true
        if members.isEmpty { roomCreated(key, by: endpoint) }
        roomAdmitted(key, endpoint: endpoint)
        rooms[key, default: Room(name: roomName)].members.append(endpoint)
        peers[endpoint]?.rooms.append(key)
        let name = rooms[key]?.name ?? roomName
        send(.notice(Notice(kind: .roomJoined, room: name)), to: endpoint, at: now)
        if let settings = roomSettings[key], !settings.topic.isEmpty {
            send(.notice(Notice(kind: .topic, name: settings.topicSetBy, room: name, detail: settings.topic)), to: endpoint, at: now)
        }
        if isStoring, configuration.historyLinesOnJoin > 0 {
            // A session that was in the room before (a reconnection, a relay restart) may have missed
            // more than a newcomer is shown: it gets up to a full answer, and its client hides what it
            // already showed (section 4.11).
            let limit = isRejoining ? Self.maximumHistoryRequest : configuration.historyLinesOnJoin
            askHistory(HistoryQuery(endpoint: endpoint, room: key, limit: limit, since: nil, includesOwnLines: false))
        }
        // The others see the newcomer's transport, never its address (section 4.7).
        let notice = Notice(kind: .joined, name: peer.name, room: name, endpoint: endpoint.transport.description)
        for member in members { send(.notice(notice), to: member, at: now) }
    }

    /// Takes a joined peer out of a room it is in, and tells it and the members left.
    mutating func part(_ endpoint: Endpoint, roomKey key: String, reason: String, at now: Timestamp) {
        guard let peer = peers[endpoint], let room = rooms[key] else { return }
        peers[endpoint]?.rooms.removeAll { $0 == key }
        rooms[key]?.members.removeAll { $0 == endpoint }
        if rooms[key]?.members.isEmpty == true {
            rooms[key] = nil
            roomEmptied(key)
        }
        send(.notice(Notice(kind: .roomParted, room: room.name)), to: endpoint, at: now)
        let notice = Notice(kind: .left, name: peer.name, room: room.name, detail: reason)
        for member in room.members where member != endpoint { send(.notice(notice), to: member, at: now) }
    }
}
