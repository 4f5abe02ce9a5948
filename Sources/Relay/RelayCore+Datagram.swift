import Chat
import Datagram

extension RelayCore {
    /// One UDP datagram arrived from `endpoint` (whose transport must be `.udp`).
    ///
    /// A datagram for a known connection goes to it; anything else goes to the stateless `CookieJar`,
    /// which answers with a COOKIE or RESET, drops it, or accepts a HELLO with a valid cookie.
    public mutating func handleDatagram(_ datagram: [UInt8], from endpoint: Endpoint, at now: Timestamp) {
        let peeked = PacketHeader.peek(datagram)
        if let id = peers[endpoint]?.connectionID, peeked?.connectionID == id {
            let before = connections.withValue(for: endpoint, { $0.receiveAccounting }) ?? ReceiveAccounting()
            applyBackpressure(to: endpoint, datagram: datagram)
            applyReceiveBudget(to: endpoint, holding: before.receiveBufferedBytes)
            connections[endpoint]?.handleDatagram(datagram, at: now)
            noteIdentity(of: endpoint)
            let after = connections.withValue(for: endpoint, { $0.receiveAccounting }) ?? before
            if after.packetsHeard > before.packetsHeard {
                peers[endpoint]?.lastHeard = now
            }
            statistics.receiveBufferedBytes += after.receiveBufferedBytes - before.receiveBufferedBytes
            statistics.receiveBudgetRefused += after.receiveBudgetDropped - before.receiveBudgetDropped
            markPending(endpoint)
        } else if peers[endpoint] == nil, let peeked, Connection.isSealedType(peeked.type),
                  let home = roamingHome(of: peeked.connectionID, seenFrom: endpoint) {
            handleRoamingDatagram(datagram, from: endpoint, home: home, at: now)
        } else if peers[endpoint]?.connectionID != nil, let peeked, peeked.type != .hello {
            // The endpoint's live connection uses another id: a straggler of a connection this one
            // replaced. Answering it (RESET) would send the live client a datagram carrying an id
            // not its own, so it is dropped.
            statistics.foreignConnectionIDDropped += 1
        } else {
            respondStatelessly(to: datagram, from: endpoint, at: now)
        }
        // Inside a batch (`handleDatagrams`) a datagram that brought no event (a PING, an ACK, a
        // fragment of a message not complete yet) is drained with the rest at the end of the batch,
        // once; one that brought a message is handled now, so routing and congestion still go
        // datagram by datagram.
        if isHandlingBatch, connections.withValue(for: endpoint, { $0.hasEvents }) != true { return }
        flushConnections(at: now)
    }

    /// Datagrams read together (one `recvmmsg`), in order: as `handleDatagram` for each, except that
    /// the acknowledgements they call for go out once, after the last, in one ACK per connection
    /// (`Connection.holdsAcknowledgements`) instead of one per second packet. Everything else (events,
    /// forwarding, congestion) still happens datagram by datagram.
    public mutating func handleDatagrams(_ batch: [(bytes: [UInt8], from: Endpoint)], at now: Timestamp) {
        guard batch.count > 1 else {
            if let (bytes, endpoint) = batch.first { handleDatagram(bytes, from: endpoint, at: now) }
            return
        }
        var held = PendingEndpoints()
        isHandlingBatch = true
        for (bytes, endpoint) in batch {
            if connections.withValue(for: endpoint, { $0.holdsAcknowledgements = true }) != nil { held.insert(endpoint) }
            handleDatagram(bytes, from: endpoint, at: now)
        }
        isHandlingBatch = false
        while let endpoint = held.popFirst() {
            guard connections.withValue(for: endpoint, { $0.holdsAcknowledgements = false }) != nil else { continue }
            markPending(endpoint)
        }
        flushConnections(at: now)
    }

    /// Sets how much `endpoint`'s connection (now holding `held` bytes) may buffer: the unjoined or
    /// joined budget (the joined one at most `releasableBudget`), capped by what the relay-wide budget
    /// has left.
    mutating func applyReceiveBudget(to endpoint: Endpoint, holding held: Int) {
        let perConnection = peers[endpoint]?.isJoined == true
            ? Swift.min(connectionConfiguration.receiveBufferBudget, releasableBudget)
            : configuration.unjoinedReceiveBufferBudget
        let relayLeft = configuration.receiveBufferBudget - statistics.receiveBufferedBytes
        connections[endpoint]?.receiveBufferBudget = relayLeft <= 0 ? 0 : Swift.min(perConnection, held + relayLeft)
    }

    /// The most a joined sender's connection may hold out of order: what one retransmission filling
    /// the gap releases at once (this, plus the head message) must fit in the queue of a receiver that
    /// is not congested (at most half its cap) without overflowing the cap. A receiver's queue is held
    /// back from growing while it is congested, but what the relay has already acknowledged cannot be
    /// refused; a larger release used to disconnect the receiver with "send queue overflow" and lose
    /// it every message until it rejoined (Specs/chat-protocol.md, section 4.3 step 6).
    var releasableBudget: Int {
        let cap = Swift.min(connectionConfiguration.sendQueueLimit, configuration.streamSendQueueLimit)
        return Swift.max(0, cap / 2 - Limits.maximumMessageSize)
    }

    private mutating func respondStatelessly(to datagram: [UInt8], from endpoint: Endpoint, at now: Timestamp) {
        switch cookieJar.respond(to: datagram, from: endpoint.cookieAddress, at: now) {
        case let .reply(bytes):
            if PacketHeader.peek(bytes)?.type == .reset { statistics.resetsSent += 1 } else { statistics.cookiesIssued += 1 }
            actions.append(.sendDatagram(bytes, to: endpoint))
        case let .drop(reason):
            statistics.statelessDropped += 1
            log(.debug, .statelessDrop, at: now, "\(endpoint): dropped datagram of \(datagram.count) bytes: \(reason)")
        case let .accept(id):
            acceptConnection(id, datagram: datagram, from: endpoint, at: now)
        }
    }

    private mutating func acceptConnection(_ id: ConnectionID, datagram: [UInt8], from endpoint: Endpoint, at now: Timestamp) {
        if peers[endpoint] != nil {
            // Same address and port, new connection id: the client restarted; the old one is gone.
            // No CLOSE for the old connection: the endpoint belongs to the new one now, and it must
            // never receive a datagram carrying another connection's id.
            if let old = connections.removeValue(forKey: endpoint) {
                statistics.receiveBufferedBytes -= old.statistics.receiveBufferedBytes
            }
            removePeer(endpoint, departure: .connectionLost, at: now, isStreamOpen: false)
        }
        let firstPacketNumber = cookieJar.initialPacketNumber(for: id, address: endpoint.cookieAddress, at: now)
        // The HELLO says which protocol the client speaks: Noise message 1 after the cookie asks for a
        // sealed session, a bare cookie for a plaintext one (wire format, section 9.5).
        var sessionConfiguration = connectionConfiguration
        let wantsSealing = PacketHeader.isSealedHello(datagram)
        var plaintextRefusal: String?
        if !wantsSealing, sessionConfiguration.sealing != nil {
            if !configuration.allowsPlaintext { plaintextRefusal = "plaintext session, and --allow-plaintext is off" }
            sessionConfiguration.sealing = nil
        }
        var connection = Connection(role: .server, id: id, configuration: sessionConfiguration, now: now,
                                    firstPacketNumber: firstPacketNumber)
        if configuration.announcesResetTokens { connection.resetToken = cookieJar.resetToken(for: id) }
        connection.handleDatagram(datagram, at: now)
        if let refusal = plaintextRefusal ?? refusalReason(for: endpoint) {
            if plaintextRefusal != nil { statistics.plaintextRefused += 1 }
            statistics.peersRefused += 1
            log(.warning, .refused, at: now, "\(endpoint): refused (\(refusal))")
            connection.close(code: plaintextRefusal != nil ? .encryptionRequired : isShuttingDown ? .shuttingDown : .refused, at: now)
            while let bytes = connection.pollTransmit(at: now) { actions.append(.sendDatagram(bytes, to: endpoint)) }
            return
        }
        addPeer(endpoint, connection: connection, connectionID: id, at: now)
        log(.debug, "\(endpoint): connection \(id) accepted")
        markPending(endpoint)
    }

    /// Once a sealed connection has read FINISH, the peer is known by its static key
    /// (`Peer.identityKey`, for the identity and account work).
    mutating func noteIdentity(of endpoint: Endpoint) {
        guard peers[endpoint]?.identityKey == nil, let key = connections.withValue(for: endpoint, { $0.remoteStaticKey }) ?? nil,
              let identity = IdentityKey(bytes: key) else { return }
        peers[endpoint]?.identityKey = identity
        statistics.handshakesCompleted += 1
    }

    mutating func markPending(_ endpoint: Endpoint) {
        pendingConnections.insert(endpoint)
    }

    /// Drains every touched connection: its events first (which may touch others), then its datagrams.
    mutating func flushConnections(at now: Timestamp) {
        repeat {
            disconnectOverflowedPeers(at: now)
            drainPendingConnections(at: now)
        } while !overflowedPeers.isEmpty
        pruneStaleWakeUps()
    }

    private mutating func drainPendingConnections(at now: Timestamp) {
        while let endpoint = pendingConnections.popFirst() {
            while peers[endpoint] != nil, let event = connections[endpoint]?.pollEvent() {
                handleConnectionEvent(event, from: endpoint, at: now)
            }
            while let bytes = connections[endpoint]?.pollTransmit(at: now) {
                actions.append(.sendDatagram(bytes, to: endpoint))
            }
            if let queued = connections.withValue(for: endpoint, { $0.totalQueuedBytes }) {
                updateCongestion(of: endpoint, queuedBytes: queued, at: now)
            }
            if peers[endpoint]?.drainDeadline != nil, connections.withValue(for: endpoint, { $0.isIdle }) == true {
                finishDraining(endpoint, at: now)
            }
            reschedule(endpoint)
        }
    }

    private mutating func handleConnectionEvent(_ event: Connection.Event, from endpoint: Endpoint, at now: Timestamp) {
        switch event {
        case let .message(bytes, channel):
            // Chat travels on the reliable-ordered channel only (Specs/chat-protocol.md, section 1);
            // file messages may come on the bulk channel too (section 4.12).
            guard channel == .reliableOrdered || (channel == .bulk && bytes.first.map(ClientMessage.isFileMessageType) == true) else {
                statistics.malformedDropped += 1
                return log(.debug, .malformed, at: now, "\(endpoint): chat message on the \(channel) channel dropped")
            }
            handleChatMessage(bytes, from: endpoint, at: now)
        case let .closed(reason):
            let departure: Departure = reason == .idleTimeout ? .timedOut : .connectionLost
            log(.debug, "\(endpoint): connection closed (\(reason))")
            removePeer(endpoint, departure: departure, at: now)
        case .connected, .acknowledged, .trace:
            break
        }
    }

    /// Decodes one chat message from a UDP or TCP peer and acts on it; undecodable input is counted and
    /// dropped, with no answer (Specs/chat-protocol.md, section 2).
    mutating func handleChatMessage(_ bytes: [UInt8], from endpoint: Endpoint, at now: Timestamp) {
        guard peers[endpoint] != nil else { return }
        peers[endpoint]?.lastHeard = now
        peers[endpoint]?.messagesReceived += 1
        if endpoint.transport == .tcp { reschedule(endpoint) }
        do {
            let message = try ClientMessage(decoding: bytes)
            chargeRateLimit(for: endpoint, message: message, size: bytes.count, at: now)
            handleClientMessage(message, from: endpoint, at: now)
        } catch {
            statistics.malformedDropped += 1
            log(.debug, .malformed, at: now, "\(endpoint): malformed chat message of \(bytes.count) bytes dropped: \(error)")
        }
    }
}
