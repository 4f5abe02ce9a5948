/// The send path: choosing the next packet, numbering it, and remembering it for loss recovery.
extension Connection {
    /// The next datagram to put on the wire, or nil when there is nothing to send now.
    ///
    /// In priority order: CLOSE; the handshake (HELLO, WELCOME); probes after a probe timeout (not
    /// limited by the congestion window); retransmissions, unreliable and new reliable fragments (while
    /// the window allows); a keepalive PING; an ACK when one is due and nothing else carries it.
    public mutating func pollTransmit(at now: Timestamp) -> [UInt8]? {
        var datagram = [UInt8]()
        return pollTransmit(into: &datagram, at: now) ? datagram : nil
    }

    /// Like `pollTransmit(at:)`, but writes the datagram into `datagram` (replacing its contents and
    /// reusing its storage) and returns false when there is nothing to send. A driver that sends in a
    /// tight loop keeps one buffer and avoids an allocation per datagram.
    ///
    /// With `Configuration.coalescesPackets`, an established connection puts the packets that are ready
    /// now into one datagram while they fit (Connection+Coalescing.swift).
    public mutating func pollTransmit(into datagram: inout [UInt8], at now: Timestamp) -> Bool {
        configuration.coalescesPackets ? pollCoalesced(into: &datagram, at: now) : pollPacket(into: &datagram, at: now)
    }

    /// The next single packet, as `pollTransmit(into:at:)` without coalescing.
    mutating func pollPacket(into datagram: inout [UInt8], at now: Timestamp) -> Bool {
        advanceClock(to: now)
        guard let (body, fragment) = nextPacket() else { return false }
        if let fragment {
            onSent(fragment.reference)
            // Checked here, not in the callee: passing the fragment along costs a retain per packet.
            if isSendingCopy {
                isSendingCopy = false
            } else if redundancyUntil != nil {
                noteCopyIfWanted(of: fragment.reference, fragmentCount: fragment.header.fragmentCount,
                                 payloadBytes: fragment.payload.count)
            }
        }
        transmit(body, fragment: fragment, into: &datagram)
        return true
    }

    /// Under loss (`redundancyUntil`), a reliable message of one small fragment just sent is queued to
    /// go again in the next datagram (Specs/reliability.md, "Copies of small messages under loss").
    private mutating func noteCopyIfWanted(of reference: FragmentReference, fragmentCount: UInt16, payloadBytes: Int) {
        guard let until = redundancyUntil, now < until, case let .reliable(ordinal) = reference,
              fragmentCount == 1, payloadBytes <= Limits.redundantCopyPayload, pendingCopy != ordinal else { return }
        pendingCopy = ordinal
    }

    /// The pending copy, if its fragment still waits for an acknowledgement and the window allows.
    private mutating func takeCopy() -> SendQueue.Outgoing? {
        guard let ordinal = pendingCopy, !isJoiningDatagram else { return nil }
        pendingCopy = nil
        guard bytesInFlight + Limits.maximumDatagramSize <= congestion.window,
              let fragment = sendQueue.unacknowledgedFragment(ordinal) else { return nil }
        counters.redundantCopies += 1
        isSendingCopy = true
        return fragment
    }

    private typealias PlannedPacket = (body: PacketBody, fragment: SendQueue.Outgoing?)

    /// Decides what the next packet carries, updating the pending flags it consumes.
    private mutating func nextPacket() -> PlannedPacket? {
        if let code = pendingCloseCode {
            pendingCloseCode = nil
            return (.close(code: code), nil)
        }
        guard !isClosed else { return nil }
        if role == .client, state == .connecting {
            guard isHelloPending else { return nil }
            isHelloPending = false
            return helloBody().map { ($0, nil) }
        }
        // `seal?.…` reads in place; `if let seal` copied the whole sealing state on every packet.
        if seal?.isFinishPending == true, let body = seal?.finishBody {
            seal!.isFinishPending = false
            return (.finish(message: body), nil)
        }
        if isWelcomePending {
            isWelcomePending = false
            if let body = welcomeBody { return (body, nil) }
        }
        // A sealed server sends nothing but WELCOME (and a refusal's CLOSE) before it has read FINISH.
        if !pendingPathResponses.isEmpty, seal?.sending != nil {
            return (.pathResponse(pendingPathResponses.removeFirst()), nil)
        }
        if seal?.hasKeys == false {
            if probesToSend > 0, let body = welcomeBody {
                probesToSend -= 1
                return (body, nil)
            }
            return nil
        }
        if probesToSend > 0 {
            probesToSend -= 1
            return probe()
        }
        if pendingCopy != nil, let copy = takeCopy() { return (.data(copy.header, payload: copy.payload), copy) }
        if let fragment = nextFragment() { return (.data(fragment.header, payload: fragment.payload), fragment) }
        if isPingPending { return (.ping, nil) }
        if isAckDue, !holdsAcknowledgements, receivedPackets.largest != nil { return (.ack, nil) }
        return nil
    }

    /// The HELLO to send: in a sealed session, the one carrying the cookie also carries Noise message 1
    /// (written once, repeated unchanged).
    private mutating func helloBody() -> PacketBody? {
        guard var seal, cookie.contains(where: { $0 != 0 }) else { return .hello(cookie: cookie) }
        if seal.message1 == nil {
            guard var handshake = seal.handshake, let first = try? handshake.writeMessage() else {
                finish(.handshakeFailed("cannot write Noise message 1"), closeCode: nil)
                return nil
            }
            seal.handshake = handshake
            seal.message1 = first
            self.seal = seal
        }
        return .helloNoise(cookie: cookie, message: seal.message1 ?? [])
    }

    /// The WELCOME to send: with Noise message 2 in a sealed session (nil until message 1 was read).
    private var welcomeBody: PacketBody? {
        guard let seal else { return .welcome }
        return seal.welcomeBody.map { .welcomeNoise(message: $0) }
    }

    private var isAckDue: Bool {
        if isAckImmediate { return true }
        if let ackDeadline, now >= ackDeadline { return true }
        return false
    }

    /// A probe: the oldest unacknowledged fragment in a new packet, else a new one, else a PING
    /// (RFC 9002 section 6.2.4). A server whose WELCOME was never acknowledged repeats it.
    private mutating func probe() -> PlannedPacket {
        if role == .server, !hasPeerAcknowledged, sendQueue.oldestUnacknowledgedSent() == nil,
           bulkQueue.oldestUnacknowledgedSent() == nil, let body = welcomeBody {
            return (body, nil)
        }
        if seal?.isFinishConfirmed == false, let body = seal?.finishBody {
            return (.finish(message: body), nil)
        }
        if let fragment = sendQueue.oldestUnacknowledgedSent() ?? bulkQueue.oldestUnacknowledgedSent() {
            // The same fragment again, in a new packet: a retransmission, though nothing was declared lost.
            counters.retransmissions += 1
            return (.data(fragment.header, payload: fragment.payload), fragment)
        }
        if let fragment = sendQueue.popNewReliable(window: reorderWindow) ?? bulkQueue.popNewReliable(window: reorderWindow) {
            return (.data(fragment.header, payload: fragment.payload), fragment)
        }
        return (.ping, nil)
    }

    /// The next fragment the congestion window allows, if any: retransmissions first; the bulk
    /// channel's fragments (its retransmissions, then new ones) only when the other channels have
    /// nothing to send (the window is shared).
    private mutating func nextFragment() -> SendQueue.Outgoing? {
        let hasData = sendQueue.hasRetransmissions || sendQueue.hasUnreliable || sendQueue.hasUnsentReliable
            || bulkQueue.hasRetransmissions || bulkQueue.hasUnsentReliable
        guard hasData else { return nil }
        guard bytesInFlight + Limits.maximumDatagramSize <= congestion.window else {
            isWindowLimited = true
            return nil
        }
        if let fragment = sendQueue.popRetransmission() {
            counters.retransmissions += 1
            return fragment
        }
        if let fragment = sendQueue.popUnreliable() ?? sendQueue.popNewReliable(window: reorderWindow) { return fragment }
        if let fragment = bulkQueue.popRetransmission() {
            counters.retransmissions += 1
            return fragment
        }
        guard !isBulkYielding else { return nil }
        return bulkQueue.popNewReliable(window: reorderWindow)
    }

    /// True while new bulk fragments wait for room in the bulk window (`bulkQueueingTarget`,
    /// `measureQueueing`). With nothing in flight bulk always goes: no acknowledgement would come to
    /// open the window.
    private var isBulkYielding: Bool {
        guard configuration.bulkQueueingTarget != nil, ackElicitingInFlight > 0 else { return false }
        return bytesInFlight + Limits.maximumDatagramSize > bulkWindow
    }

    /// The send queue's bookkeeping for a packet carrying `reference` (sent, acknowledged, lost).
    mutating func onSent(_ reference: FragmentReference) {
        switch reference {
        case let .reliable(ordinal): sendQueue.onSent(ordinal)
        case let .bulk(ordinal): bulkQueue.onSent(ordinal)
        case .unreliable: break
        }
    }

    mutating func onAcknowledged(_ reference: FragmentReference) -> MessageID? {
        switch reference {
        case let .reliable(ordinal): return sendQueue.onAcknowledged(ordinal)
        case let .bulk(ordinal): return bulkQueue.onAcknowledged(ordinal)
        case .unreliable: return nil
        }
    }

    mutating func onLost(_ reference: FragmentReference) -> Bool {
        switch reference {
        case let .reliable(ordinal): return sendQueue.onLost(ordinal)
        case let .bulk(ordinal): return bulkQueue.onLost(ordinal)
        case .unreliable: return false
        }
    }

    func describe(_ reference: FragmentReference) -> (MessageID, Int)? {
        switch reference {
        case let .reliable(ordinal): return sendQueue.describe(ordinal)
        case let .bulk(ordinal): return bulkQueue.describe(ordinal)
        case .unreliable: return nil
        }
    }

    /// How far beyond the oldest unacknowledged reliable fragment new ones may go: the peer's reorder
    /// buffer (both ends use the same configuration), so a conforming receiver never has to drop.
    var reorderWindow: Int { Swift.max(1, configuration.reorderBufferLimit) }

    /// Numbers, encodes, seals and records one packet that carries no fragment.
    mutating func transmitPacket(_ body: PacketBody, into datagram: inout [UInt8]) {
        transmit(body, fragment: nil, into: &datagram)
    }

    /// Numbers, encodes and records one packet; every packet carries the acknowledgement fields.
    private mutating func transmit(_ body: PacketBody, fragment: SendQueue.Outgoing?, into datagram: inout [UInt8]) {
        let packetNumber = nextPacketNumber
        nextPacketNumber &+= 1
        let header = PacketHeader(connectionID: id, packetNumber: packetNumber,
                                  acknowledgement: receivedPackets.acknowledgement(at: now))
        let type = body.type
        let isSealed = seal?.sending != nil && Self.isSealedType(type)
        Packet(header: header, body: body).emit(into: &datagram, checksum: !isSealed)
        if isSealed { sealDatagram(&datagram, packetNumber: packetNumber) }
        if header.acknowledgement != nil { acknowledgementSent() }
        let packet = SentPacket(packetNumber: packetNumber, sentTime: now, size: datagram.count, type: type,
                                fragment: fragment?.reference,
                                state: type.isAckEliciting ? .outstanding : .untracked)
        record(packet)
        counters.packetsSent += 1
        counters.bytesSent += datagram.count
        guard isTracingEnabled else { return }
        emit(.sent(packetNumber: packetNumber, type: type.description, bytes: datagram.count,
                   message: fragment?.message, fragment: fragment.map { Int($0.header.fragmentIndex) },
                   probeTimeout: currentProbeTimeout))
    }

    private mutating func record(_ packet: SentPacket) {
        if packet.state == .outstanding {
            bytesInFlight += packet.size
            ackElicitingInFlight += 1
            lastAckElicitingSentTime = now
            keepaliveReference = now
            isPingPending = false
        }
        sentPackets.append(packet)
    }

    private mutating func acknowledgementSent() {
        ackElicitingSinceAcknowledgement = 0
        ackDeadline = nil
        isAckImmediate = false
    }
}
