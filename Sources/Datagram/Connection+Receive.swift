/// The receive path: parse, authenticate, deduplicate, acknowledge, deliver.
extension Connection {
    /// Feeds one received datagram. Garbage, corrupt, foreign and duplicate input is counted and dropped.
    /// A coalesced datagram (wire format, section 10) is handled packet by packet, in order.
    public mutating func handleDatagram(_ datagram: [UInt8], at now: Timestamp) {
        advanceClock(to: now)
        guard !isClosed else { return }
        if CoalescedDatagram.isCoalesced(datagram) { return handleCoalesced(datagram) }
        handlePacket(datagram)
    }

    private mutating func handleCoalesced(_ datagram: [UInt8]) {
        let (packets, isIntact) = CoalescedDatagram.split(datagram)
        for packet in packets where !isClosed { handlePacket(Array(packet)) }
        if !isIntact {
            counters.malformedDropped += 1
            emit(.corruptDropped(bytes: datagram.count, reason: "coalesced datagram framing"))
        }
    }

    private mutating func handlePacket(_ datagram: [UInt8]) {
        let packet: Packet
        do {
            packet = try Packet.parse(datagram)
        } catch {
            countUnreadable(datagram, error)
            return
        }
        guard packet.header.connectionID == id else {
            counters.malformedDropped += 1
            emit(.corruptDropped(bytes: datagram.count, reason: "connection id \(packet.header.connectionID)"))
            return
        }
        handle(packet, bytes: datagram.count)
    }

    private mutating func countUnreadable(_ datagram: [UInt8], _ error: WireError) {
        if error == .checksumMismatch {
            counters.corruptDropped += 1
        } else {
            counters.malformedDropped += 1
        }
        emit(.corruptDropped(bytes: datagram.count, reason: error.description))
    }

    /// Counts a packet as received (a valid packet for this connection, not outside the window).
    private mutating func countReceived(_ bytes: Int) {
        counters.packetsReceived += 1
        counters.bytesReceived += bytes
    }

    private mutating func handle(_ packet: Packet, bytes: Int) {
        guard case .outsideWindow = receivedPackets.status(of: packet.header.packetNumber),
              packet.type != .reset, packet.type != .cookie else {
            countReceived(bytes)
            handleInWindow(packet)
            return
        }
        // Nothing of it is believed: not its acknowledgement, not its body, not even as a sign of
        // life (wire format, section 4); it is not counted as received either, so a relay watching
        // `packetsReceived` does not take it for one.
        counters.outOfWindowDropped += 1
        emit(.corruptDropped(bytes: bytes, reason: "packet number \(packet.header.packetNumber) outside the window"))
    }

    private mutating func handleInWindow(_ packet: Packet) {
        switch packet.body {
        case .reset:
            finish(.reset, closeCode: nil)
            return
        case .cookie(let newCookie):
            handleCookie(packet, newCookie)
            return
        default:
            break
        }
        let packetNumber = packet.header.packetNumber
        switch receivedPackets.status(of: packetNumber) {
        case .outsideWindow:
            return   // handled before (never reached)
        case .duplicate, .tooOld:
            counters.duplicatesDropped += 1
            emit(.duplicateDropped(packetNumber: packetNumber))
            lastReceiveTime = now
            if packet.type.isAckEliciting { isAckImmediate = true }
            return
        case .new:
            break
        }
        if let acknowledgement = packet.header.acknowledgement {
            handleAcknowledgement(acknowledgement)
        }
        if case let .data(fragment, _) = packet.body {
            // Refused data is dropped before the packet is recorded, so it is never acknowledged and
            // the sender sends it again; the acknowledgement it carried has already been used.
            if !isAcceptingData {
                counters.dataRefused += 1
                return
            }
            guard admit(fragment, payloadCount: packet.payloadCount) else { return }
        }
        recordReceived(packet)
        if state == .connecting, role == .client, packet.type != .close {
            state = .established
            keepaliveReference = now
            events.append(.connected)
        }
        handleBody(packet)
    }

    /// Whether a DATA fragment may be recorded (and so acknowledged). Refuses, counting why, a
    /// fragment that disagrees with earlier ones of its message, a reliable message number that can
    /// never be delivered, and a fragment that would take the buffers over their limit or budget.
    private mutating func admit(_ fragment: FragmentHeader, payloadCount: Int) -> Bool {
        switch fragment.channel {
        case .reliableOrdered:
            switch reorderBuffer.admission(of: fragment, payloadCount: payloadCount,
                                           budget: receiveBudget - unreliableReassembly.heldBytes) {
            case .accept, .alreadyDelivered:
                return true
            case .full:
                if reorderBuffer.outOfOrderFragments >= reorderBuffer.limit {
                    counters.reorderBufferDropped += 1
                } else {
                    counters.receiveBudgetDropped += 1
                }
            case .inconsistent:
                counters.protocolViolations += 1
            case .outOfWindow:
                counters.protocolViolations += 1
                if headOfLineSince == nil { headOfLineSince = now }
            }
            return false
        case .unreliable:
            switch unreliableReassembly.admission(of: fragment, payloadCount: payloadCount,
                                                  budget: receiveBudget - reorderBuffer.outOfOrderBytes) {
            case .accept: return true
            case .full: counters.receiveBudgetDropped += 1
            case .inconsistent: counters.protocolViolations += 1
            }
            return false
        }
    }

    /// A COOKIE is never recorded or acknowledged (it is in no packet-number space: it carries packet
    /// number 0, which the server's WELCOME may carry too). It is believed only if it acknowledges a
    /// HELLO this client sent.
    private mutating func handleCookie(_ packet: Packet, _ newCookie: [UInt8]) {
        guard role == .client, state == .connecting else { return }
        guard let acknowledged = packet.header.acknowledgement?.largest, isSentPacketNumber(acknowledged) else {
            counters.malformedDropped += 1
            emit(.corruptDropped(bytes: 0, reason: "COOKIE acknowledging no HELLO of ours"))
            return
        }
        lastReceiveTime = now
        if let acknowledgement = packet.header.acknowledgement {
            handleAcknowledgement(acknowledgement)
        }
        cookie = newCookie
        isHelloPending = true
    }

    /// Marks the packet received and schedules its acknowledgement (immediately on every second
    /// ack-eliciting packet and on any arrival out of order, else within the maximum ack delay).
    private mutating func recordReceived(_ packet: Packet) {
        let packetNumber = packet.header.packetNumber
        let previousLargest = receivedPackets.largest
        receivedPackets.insert(packetNumber, at: now)
        lastReceiveTime = now
        guard packet.type.isAckEliciting else { return }
        ackElicitingSinceAcknowledgement += 1
        let isInOrder = previousLargest.map { packetNumber == $0 &+ 1 } ?? true
        if !isInOrder || ackElicitingSinceAcknowledgement >= 2 {
            isAckImmediate = true
        } else if ackDeadline == nil {
            ackDeadline = now + configuration.maximumAckDelay
        }
    }

    private mutating func handleBody(_ packet: Packet) {
        switch packet.body {
        case let .data(fragment, payload):
            deliver(fragment, payload)
        case .close(let code):
            finish(.peer(code: code), closeCode: nil)
        case .hello:
            if role == .server { isWelcomePending = true }
        case .ack, .ping, .welcome, .reset, .cookie:
            break
        }
    }

    /// The head-of-line timer runs while reliable data waits and the head makes no progress (a fragment
    /// of the head arriving, or a message delivered, restarts it); see `headOfLineDeadline`.
    private mutating func updateHeadOfLineTimer(progressed: Bool) {
        if !reorderBuffer.isWaiting {
            headOfLineSince = nil
        } else if progressed || headOfLineSince == nil {
            headOfLineSince = now
        }
    }

    private mutating func deliver(_ fragment: FragmentHeader, _ payload: ArraySlice<UInt8>) {
        switch fragment.channel {
        case .unreliable:
            let budget = receiveBudget - reorderBuffer.outOfOrderBytes
            if let message = unreliableReassembly.insert(fragment, payload: payload, budget: budget) {
                counters.messagesDelivered += 1
                events.append(.message(message, channel: .unreliable))
            }
        case .reliableOrdered:
            deliveredScratch.removeAll(keepingCapacity: true)
            let head = reorderBuffer.nextExpected
            if reorderBuffer.insert(fragment, payload: payload, delivering: &deliveredScratch) {
                counters.outOfOrderBuffered += 1
            }
            updateHeadOfLineTimer(progressed: fragment.messageNumber == head)
            for message in deliveredScratch {
                counters.messagesDelivered += 1
                events.append(.message(message, channel: .reliableOrdered))
            }
        }
    }
}

extension Packet {
    /// The payload length of a DATA packet (0 for other types).
    var payloadCount: Int {
        if case let .data(_, payload) = body { return payload.count }
        return 0
    }
}
