import Chat
import Datagram

// Roaming (Specs/wire-format.md section 10.8, Specs/chat-protocol.md section 4.9): a sealed packet
// from a new address for a known connection starts a path check; only a PATH_RESPONSE from that
// address moves the peer. A packet that does not open, or a replay, changes nothing.

/// A path check in progress: the new endpoint, the challenges sent there (the latest last, at most
/// `PathCheck.remembered`) and when the latest left. An answer to any of them moves the peer: a
/// client that keeps talking from its new address while the first challenge is on its way must not
/// make every answer stale.
///
/// A challenge is also sent again on a timer, every probe timeout (`resendAt`), so that a client that
/// falls silent right after rebinding still moves once it answers: at most `maximumTimedResends`
/// times since the last authentic packet from the new address, then the check is given up and
/// counted (`pathChecksAbandoned`); the next packet from there starts a new one.
struct PathCheck: Sendable {
    var endpoint: Endpoint
    var challenges: [[UInt8]]
    var sentAt: Timestamp
    /// When the latest challenge goes again if no answer has come.
    var resendAt: Timestamp
    /// Challenges sent by the timer since the last authentic packet from `endpoint`.
    var timedResends = 0

    /// Challenges kept per check.
    static let remembered = 4
    /// A new challenge goes out for more packets from the new address only after this long (one is
    /// lost, or its answer was): about an initial RTT, so a lossy path still moves within a second.
    /// Also the shortest interval of the timer.
    static let repeatInterval: Duration = .milliseconds(250)
    /// Challenges the timer sends after the new address fell silent, before the check is given up.
    static let maximumTimedResends = 5
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
            ?? PathCheck(endpoint: endpoint, challenges: [], sentAt: now, resendAt: now)
        // An authentic packet from the new address: the timer's count starts again.
        check.timedResends = 0
        pathChecks[home] = check
        if !check.challenges.isEmpty, now - check.sentAt < PathCheck.repeatInterval { return }
        sendPathChallenge(home, id: id, at: now)
        log(.debug, "\(home): path check of \(endpoint)")
    }

    /// Sends a fresh challenge for the path check of the peer at `home` and sets its timer.
    private mutating func sendPathChallenge(_ home: Endpoint, id: ConnectionID, at now: Timestamp) {
        guard var check = pathChecks[home] else { return }
        let challenge = cookieJar.pathChallenge(for: id, address: check.endpoint.cookieAddress, at: now)
        check.challenges = Array((check.challenges + [challenge]).suffix(PathCheck.remembered))
        check.sentAt = now
        check.resendAt = now + pathCheckInterval(home)
        pathChecks[home] = check
        if let bytes = connections[home]?.pathChallengeDatagram(challenge, at: now) {
            statistics.pathChallengesSent += 1
            actions.append(.sendDatagram(bytes, to: check.endpoint))
        }
    }

    /// The timer of a path check: a probe timeout of the peer's connection without backoff (smoothed
    /// RTT plus four RTT variations), at least `PathCheck.repeatInterval`.
    func pathCheckInterval(_ home: Endpoint) -> Duration {
        guard let statistics = connections[home]?.statistics else { return PathCheck.repeatInterval }
        return max(PathCheck.repeatInterval, statistics.smoothedRTT + statistics.rttVariance * 4)
    }

    /// The timer of the path check of the peer at `home`, if one is due at `now`: the challenge goes
    /// again, or, after `PathCheck.maximumTimedResends` unanswered ones, the check is given up,
    /// counted and logged (the peer stays where it was).
    mutating func resendPathChallengeIfDue(_ home: Endpoint, at now: Timestamp) {
        guard var check = pathChecks[home], check.resendAt <= now else { return }
        guard let id = peers[home]?.connectionID else {
            pathChecks[home] = nil
            return
        }
        guard check.timedResends < PathCheck.maximumTimedResends else {
            pathChecks[home] = nil
            statistics.pathChecksAbandoned += 1
            log(.info, "\(home): path check of \(check.endpoint) given up (\(check.timedResends) challenges sent again, no answer)")
            return
        }
        check.timedResends += 1
        pathChecks[home] = check
        sendPathChallenge(home, id: id, at: now)
    }

    /// Moves the peer at `old` to `new`: the peer table, the connection, names, rooms, timers,
    /// backpressure and the address counts. No notice: the session goes on.
    mutating func migrate(_ old: Endpoint, to new: Endpoint, at now: Timestamp) {
        guard peers[new] == nil, var peer = peers.removeValue(forKey: old) else { return }
        peer.endpoint = new
        peers[new] = peer
        if peer.isJoined {
            forgetSender(peer.senderID, at: old)
            joinedBySender[peer.senderID, default: []].append(new)
        }
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
