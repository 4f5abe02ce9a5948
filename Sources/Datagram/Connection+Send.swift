/// The send path: choosing the next packet, numbering it, and remembering it for loss recovery.
extension Connection {
    /// The next datagram to put on the wire, or nil when there is nothing to send now.
    ///
    /// In priority order: CLOSE; the handshake (HELLO, WELCOME); probes after a probe timeout (not
    /// limited by the congestion window); retransmissions, unreliable and new reliable fragments (while
    /// the window allows); a keepalive PING; an ACK when one is due and nothing else carries it.
    public mutating func pollTransmit(at now: Timestamp) -> [UInt8]? {
        advanceClock(to: now)
        if let code = pendingCloseCode {
            pendingCloseCode = nil
            return transmit(.close(code: code), fragment: nil)
        }
        guard !isClosed else { return nil }
        if role == .client, state == .connecting {
            guard isHelloPending else { return nil }
            isHelloPending = false
            return transmit(.hello(cookie: cookie), fragment: nil)
        }
        if isWelcomePending {
            isWelcomePending = false
            return transmit(.welcome, fragment: nil)
        }
        if probesToSend > 0 {
            probesToSend -= 1
            return transmitProbe()
        }
        if let datagram = transmitData() { return datagram }
        if isPingPending { return transmit(.ping, fragment: nil) }
        if isAckDue, receivedPackets.largest != nil { return transmit(.ack, fragment: nil) }
        return nil
    }

    private var isAckDue: Bool {
        if isAckImmediate { return true }
        if let ackDeadline, now >= ackDeadline { return true }
        return false
    }

    /// A probe: the oldest unacknowledged fragment in a new packet, else a new one, else a PING
    /// (RFC 9002 section 6.2.4). A server whose WELCOME was never acknowledged repeats it.
    private mutating func transmitProbe() -> [UInt8]? {
        if role == .server, !hasPeerAcknowledged, sendQueue.oldestUnacknowledgedSent() == nil {
            return transmit(.welcome, fragment: nil)
        }
        if let fragment = sendQueue.oldestUnacknowledgedSent() ?? sendQueue.popNewReliable(window: reorderWindow) {
            return transmit(fragment)
        }
        return transmit(.ping, fragment: nil)
    }

    /// The next DATA packet the congestion window allows, if any.
    private mutating func transmitData() -> [UInt8]? {
        let hasData = sendQueue.hasRetransmissions || sendQueue.hasUnreliable || sendQueue.hasUnsentReliable
        guard hasData else { return nil }
        guard bytesInFlight + Limits.maximumDatagramSize <= congestion.window else {
            isWindowLimited = true
            return nil
        }
        if let fragment = sendQueue.popRetransmission() {
            counters.retransmissions += 1
            return transmit(fragment)
        }
        if let fragment = sendQueue.popUnreliable() ?? sendQueue.popNewReliable(window: reorderWindow) {
            return transmit(fragment)
        }
        return nil
    }

    /// How far beyond the oldest unacknowledged reliable fragment new ones may go: the peer's reorder
    /// buffer (both ends use the same configuration), so a conforming receiver never has to drop.
    var reorderWindow: Int { Swift.max(1, configuration.reorderBufferLimit) }

    private mutating func transmit(_ fragment: SendQueue.Outgoing) -> [UInt8] {
        if case let .reliable(ordinal) = fragment.reference { sendQueue.onSent(ordinal) }
        return transmit(.data(fragment.header, payload: fragment.payload), fragment: fragment)
    }

    /// Numbers, encodes and records one packet; every packet carries the acknowledgement fields.
    private mutating func transmit(_ body: PacketBody, fragment: SendQueue.Outgoing?) -> [UInt8] {
        let packetNumber = nextPacketNumber
        nextPacketNumber &+= 1
        let header = PacketHeader(connectionID: id, packetNumber: packetNumber,
                                  acknowledgement: receivedPackets.acknowledgement(at: now))
        let datagram = Packet(header: header, body: body).emit()
        let type = body.type
        if header.acknowledgement != nil { acknowledgementSent() }
        let packet = SentPacket(packetNumber: packetNumber, sentTime: now, size: datagram.count, type: type,
                                fragment: fragment?.reference,
                                state: type.isAckEliciting ? .outstanding : .untracked)
        record(packet)
        counters.packetsSent += 1
        counters.bytesSent += datagram.count
        emit(.sent(packetNumber: packetNumber, type: type.description, bytes: datagram.count,
                   message: fragment?.message, fragment: fragment.map { Int($0.header.fragmentIndex) },
                   probeTimeout: currentProbeTimeout))
        return datagram
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
