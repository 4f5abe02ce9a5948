/// The receive path: parse, authenticate, deduplicate, acknowledge, deliver.
extension Connection {
    /// Feeds one received datagram. Garbage, corrupt, foreign and duplicate input is counted and dropped.
    public mutating func handleDatagram(_ datagram: [UInt8], at now: Timestamp) {
        advanceClock(to: now)
        guard !isClosed else { return }
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
        counters.packetsReceived += 1
        counters.bytesReceived += datagram.count
        handle(packet)
    }

    private mutating func countUnreadable(_ datagram: [UInt8], _ error: WireError) {
        if error == .checksumMismatch {
            counters.corruptDropped += 1
        } else {
            counters.malformedDropped += 1
        }
        emit(.corruptDropped(bytes: datagram.count, reason: error.description))
    }

    private mutating func handle(_ packet: Packet) {
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
        if case let .data(fragment, _) = packet.body, fragment.channel == .reliableOrdered,
           reorderBuffer.admission(of: fragment) == .full {
            counters.reorderBufferDropped += 1
            return
        }
        recordReceived(packet)
        if state == .connecting, role == .client, packet.type != .close {
            state = .established
            keepaliveReference = now
            events.append(.connected)
        }
        handleBody(packet)
    }

    private mutating func handleCookie(_ packet: Packet, _ newCookie: [UInt8]) {
        guard role == .client, state == .connecting else { return }
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

    private mutating func deliver(_ fragment: FragmentHeader, _ payload: ArraySlice<UInt8>) {
        switch fragment.channel {
        case .unreliable:
            if let message = unreliableReassembly.insert(fragment, payload: payload) {
                counters.messagesDelivered += 1
                events.append(.message(message, channel: .unreliable))
            }
        case .reliableOrdered:
            deliveredScratch.removeAll(keepingCapacity: true)
            if reorderBuffer.insert(fragment, payload: payload, delivering: &deliveredScratch) {
                counters.outOfOrderBuffered += 1
            }
            for message in deliveredScratch {
                counters.messagesDelivered += 1
                events.append(.message(message, channel: .reliableOrdered))
            }
        }
    }
}
