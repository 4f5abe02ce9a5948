import Chat
import Datagram

// Roaming (Specs/wire-format.md section 10.8, Specs/chat-protocol.md section 4.9): a sealed packet
// from a new address for a known connection starts a path check; only a PATH_RESPONSE from that
// address moves the peer. A packet that does not open, or a replay, changes nothing.

/// A path check in progress: the new endpoint, the challenges sent there (the latest last, at most
/// `PathCheck.remembered`) and when the latest left. An answer to any of them moves the peer: a
/// client that keeps talking from its new address while the first challenge is on its way must not
/// make every answer stale.
struct PathCheck: Sendable {
    var endpoint: Endpoint
    var challenges: [[UInt8]]
    var sentAt: Timestamp

    /// Challenges kept per check.
    static let remembered = 4
    /// A new challenge goes out for more packets from the new address only after this long (one is
    /// lost, or its answer was): about an initial RTT, so a lossy path still moves within a second.
    static let repeatInterval: Duration = .milliseconds(250)
}

extension RelayCore {
    /// The UDP endpoint whose connection has id `id`, if another endpoint than `endpoint` holds it
    /// and its handshake is complete (only a sealed connection can roam).
    func roamingHome(of id: ConnectionID, seenFrom endpoint: Endpoint) -> Endpoint? {
        guard let home = connectionEndpoints[id], home != endpoint, home.transport == .udp,
              connections[home]?.isHandshakeComplete == true else { return nil }
        return home
    }

    /// A datagram from `endpoint` for the connection living at `home`.
    mutating func handleRoamingDatagram(_ datagram: [UInt8], from endpoint: Endpoint, home: Endpoint, at now: Timestamp) {
        guard let before = connections[home]?.statistics else { return }
        connections[home]?.handleDatagram(datagram, at: now)
        guard let after = connections[home]?.statistics else {
            markPending(home)
            return
        }
        let isAuthentic = after.packetsReceived - after.duplicatesDropped > before.packetsReceived - before.duplicatesDropped
        let responses = connections[home]?.takePathResponses() ?? []
        if isAuthentic { peers[home]?.lastHeard = now }
        if let check = pathChecks[home], check.endpoint == endpoint, responses.contains(where: check.challenges.contains) {
            migrate(home, to: endpoint, at: now)
            markPending(endpoint)
            return
        }
        markPending(home)
        guard isAuthentic, let id = peers[home]?.connectionID else {
            statistics.roamingDropped += 1
            return
        }
        if peers[endpoint] != nil {
            // The new address already has a session of its own: no move onto it.
            statistics.roamingDropped += 1
            return
        }
        var check = pathChecks[home].flatMap { $0.endpoint == endpoint ? $0 : nil }
            ?? PathCheck(endpoint: endpoint, challenges: [], sentAt: now)
        if !check.challenges.isEmpty, now - check.sentAt < PathCheck.repeatInterval { return }
        let challenge = cookieJar.pathChallenge(for: id, address: endpoint.cookieAddress, at: now)
        check.challenges = Array((check.challenges + [challenge]).suffix(PathCheck.remembered))
        check.sentAt = now
        pathChecks[home] = check
        if let bytes = connections[home]?.pathChallengeDatagram(challenge, at: now) {
            statistics.pathChallengesSent += 1
            actions.append(.sendDatagram(bytes, to: endpoint))
            log(.debug, "\(home): path check of \(endpoint)")
        }
    }

    /// Moves the peer at `old` to `new`: the peer table, the connection, names, rooms, timers,
    /// backpressure and the address counts. No notice: the session goes on.
    mutating func migrate(_ old: Endpoint, to new: Endpoint, at now: Timestamp) {
        guard peers[new] == nil, var peer = peers.removeValue(forKey: old) else { return }
        peer.endpoint = new
        peers[new] = peer
        connections[new] = connections.removeValue(forKey: old)
        if let id = peer.connectionID { connectionEndpoints[id] = new }
        pathChecks[old] = nil
        for (name, endpoint) in names where endpoint == old { names[name] = new }
        for key in Array(rooms.keys) {
            guard let members = rooms[key]?.members, members.contains(old) else { continue }
            rooms[key]?.members = members.map { $0 == old ? new : $0 }
        }
        if pendingConnections.contains(old) {
            pendingConnections.remove(old)
            pendingConnections.insert(new)
        }
        overflowedPeers = overflowedPeers.map { $0 == old ? new : $0 }
        if congestedPeers.remove(old) != nil { congestedPeers.insert(new) }
        func move<Value>(_ table: inout [Endpoint: Value]) {
            if let value = table.removeValue(forKey: old) { table[new] = value }
        }
        move(&wakeTimes)
        move(&helloDeadlines)
        move(&congestedSince)
        move(&senderBuckets)
        move(&rateLimitedUntil)
        fileTransfers.move(old, to: new)
        let oldKey = AddressKey(old)
        addressPeers[oldKey]?.remove(old)
        if addressPeers[oldKey]?.isEmpty == true { addressPeers[oldKey] = nil }
        addressPeers[AddressKey(new), default: []].insert(new)
        statistics.peersMigrated += 1
        log(.info, "\(old): moved to \(new) (path check answered)")
        reschedule(new)
    }
}
