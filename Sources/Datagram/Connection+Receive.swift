/// The receive path: parse, authenticate, deduplicate, acknowledge, deliver.
extension Connection {
    /// Feeds one received datagram. Garbage, corrupt, foreign and duplicate input is counted and dropped.
    /// A coalesced datagram (wire format, section 11) is handled packet by packet, in order.
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
        if seal != nil {
            handleSealedSessionDatagram(datagram)
            return
        }
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
        guard packet.type != .finish, packet.type != .pathChallenge, packet.type != .pathResponse else {
            counters.malformedDropped += 1
            emit(.corruptDropped(bytes: datagram.count, reason: "\(packet.type) in a plaintext session"))
            return
        }
        handle(packet, bytes: datagram.count)
    }

    /// A sealed session's receive path (wire format, section 9): the envelope (checksum first), the
    /// window, then the body opened before anything in the packet has any effect.
    private mutating func handleSealedSessionDatagram(_ datagram: [UInt8]) {
        let type: PacketType
        do {
            type = try Packet.checkEnvelope(datagram)
        } catch {
            countUnreadable(datagram, error)
            return
        }
        let view = PacketView(bytes: datagram)
        guard view.connectionID == id.rawValue else {
            counters.malformedDropped += 1
            emit(.corruptDropped(bytes: datagram.count, reason: "connection id \(view.connectionID)"))
            return
        }
        let hadKeys = seal?.hasKeys ?? false
        var plaintext = datagram
        var isOpened = false
        if Self.isSealedType(type) {
            if hadKeys {
                if case .outsideWindow = receivedPackets.status(of: view.packetNumber) {
                    counters.outOfWindowDropped += 1
                    emit(.corruptDropped(bytes: datagram.count, reason: "packet number \(view.packetNumber) outside the window"))
                    return
                }
                guard let opened = openDatagram(datagram) else {
                    dropUnopened(datagram.count, "\(type) did not open")
                    return
                }
                plaintext = opened
                isOpened = true
            } else if !(role == .client && state == .connecting && type == .close) {
                // Before the keys exist only the server's refusal (a plaintext CLOSE to a client
                // still connecting) is believed; anything else cannot be opened yet.
                dropUnopened(datagram.count, "\(type) before the handshake completed")
                return
            }
        }
        var packet: Packet
        do {
            packet = try Packet.parse(plaintext, isOpened: isOpened)
        } catch {
            countUnreadable(datagram, error)
            return
        }
        if !isOpened {
            guard advanceHandshake(with: packet, bytes: datagram.count) else { return }
            // The acknowledgement fields of unsealed packets are not authenticated: used during the
            // handshake only (its RTT sample), ignored once the keys exist.
            if hadKeys { packet.header.acknowledgement = nil }
        }
        handle(packet, bytes: datagram.count)
    }

    private mutating func dropUnopened(_ bytes: Int, _ reason: String) {
        counters.unopenedDropped += 1
        emit(.corruptDropped(bytes: bytes, reason: reason))
    }

    private mutating func failHandshakeMessage(_ bytes: Int, _ reason: String) {
        counters.handshakeFailures += 1
        emit(.corruptDropped(bytes: bytes, reason: reason))
    }

    /// The handshake packets of a sealed session: reads the Noise message a HELLO, WELCOME or FINISH
    /// carries. Returns whether the packet goes on to the ordinary receive path.
    private mutating func advanceHandshake(with packet: Packet, bytes: Int) -> Bool {
        guard var seal else { return true }
        defer { self.seal = seal }
        switch packet.body {
        case .cookie, .close:
            return true
        case .reset:
            // A client that knows a reset token honours only a RESET carrying it (section 10.4).
            guard role == .client, seal.resetToken != nil else { return true }
            failHandshakeMessage(bytes, "RESET without the reset token")
            return false
        case .resetToken(let token):
            guard role == .client else { return false }
            guard let known = seal.resetToken else { return true }
            guard constantTimeEqual(known, token) else {
                failHandshakeMessage(bytes, "RESET with a wrong reset token")
                return false
            }
            return true
        case let .helloNoise(_, message) where role == .server:
            if seal.hasKeys { return false }
            if let known = seal.message1 {
                guard known == message else {
                    failHandshakeMessage(bytes, "HELLO with another Noise message 1")
                    return false
                }
                return true
            }
            guard var handshake = seal.handshake, (try? handshake.readMessage(message)) != nil,
                  let second = try? handshake.writeMessage(seal.resetToken ?? []) else {
                failHandshakeMessage(bytes, "HELLO with an unreadable Noise message 1")
                return false
            }
            seal.handshake = handshake
            seal.message1 = message
            seal.welcomeBody = second
            return true
        case let .welcomeNoise(message) where role == .client:
            guard state == .connecting, !seal.hasKeys else {
                // A repeated WELCOME: the server has not read FINISH yet (or it is a forgery): send
                // FINISH again while no sealed packet has shown that the server has it.
                if !seal.isFinishConfirmed, seal.finishBody != nil { seal.isFinishPending = true }
                countReceived(bytes)
                counters.duplicatesDropped += 1
                return false
            }
            guard var handshake = seal.handshake, let payload = try? handshake.readMessage(message),
                  let relayKey = handshake.remoteStaticKey else {
                failHandshakeMessage(bytes, "WELCOME with an unreadable Noise message 2")
                return false
            }
            if payload.count == NoiseMessageLength.resetToken { seal.resetToken = payload }
            if case let .reject(reason) = seal.sealing.checkPeerKey?(relayKey) ?? .accept {
                self.seal = seal
                finish(.handshakeFailed(reason), closeCode: nil)
                seal = self.seal!
                return false
            }
            guard let third = try? handshake.writeMessage() else {
                failHandshakeMessage(bytes, "cannot write Noise message 3")
                return false
            }
            seal.handshake = handshake
            do {
                try seal.split()
            } catch {
                failHandshakeMessage(bytes, "cannot split the handshake: \(error)")
                return false
            }
            seal.finishBody = third
            seal.isFinishPending = true
            return true
        case let .finish(message) where role == .server:
            if seal.hasKeys { return true }
            guard seal.welcomeBody != nil, var handshake = seal.handshake,
                  (try? handshake.readMessage(message)) != nil else {
                failHandshakeMessage(bytes, "FINISH with an unreadable Noise message 3")
                return false
            }
            seal.handshake = handshake
            do {
                try seal.split()
            } catch {
                failHandshakeMessage(bytes, "cannot split the handshake: \(error)")
                return false
            }
            return true
        case .welcome where role == .client && state == .connecting:
            self.seal = seal
            finish(.handshakeFailed("the relay answered without encryption (it accepts plaintext sessions only); "
                                    + "connect with --plaintext to use it"), closeCode: nil)
            seal = self.seal!
            return false
        default:
            failHandshakeMessage(bytes, "\(packet.type) not expected in a sealed session")
            return false
        }
    }

    private func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
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
        case .reset, .resetToken:
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
            // A sealed session never acknowledges a replay (wire format, section 9.2); it is not a
            // sign of life either.
            guard seal == nil else { return }
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
        seal?.noteReceived(packetNumber)
        if state == .connecting, role == .client, packet.type != .close, seal?.hasKeys ?? true {
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
                                           budget: receiveBudget - unreliableReassembly.heldBytes - bulkReorderBuffer.outOfOrderBytes) {
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
                                                  budget: receiveBudget - reorderBuffer.outOfOrderBytes - bulkReorderBuffer.outOfOrderBytes) {
            case .accept: return true
            case .full: counters.receiveBudgetDropped += 1
            case .inconsistent: counters.protocolViolations += 1
            }
            return false
        case .bulk:
            switch bulkReorderBuffer.admission(of: fragment, payloadCount: payloadCount,
                                               budget: receiveBudget - unreliableReassembly.heldBytes - reorderBuffer.outOfOrderBytes) {
            case .accept, .alreadyDelivered:
                return true
            case .full:
                if bulkReorderBuffer.outOfOrderFragments >= bulkReorderBuffer.limit {
                    counters.reorderBufferDropped += 1
                } else {
                    counters.receiveBudgetDropped += 1
                }
            case .inconsistent, .outOfWindow:
                counters.protocolViolations += 1
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
    /// ack-eliciting packet, on any arrival out of order and on a PING, else within the maximum ack
    /// delay).
    private mutating func recordReceived(_ packet: Packet) {
        let packetNumber = packet.header.packetNumber
        let previousLargest = receivedPackets.largest
        receivedPackets.insert(packetNumber, at: now)
        lastReceiveTime = now
        guard packet.type.isAckEliciting else { return }
        ackElicitingSinceAcknowledgement += 1
        // The peer's keepalive runs, and it will hear this end's acknowledgement: no keepalive of
        // ours is due (`keepaliveDeadline`).
        if state == .established, packet.type == .ping { quietUntil = now + configuration.keepaliveInterval.scaled(3, 2) }
        // A sealed server before FINISH can send nothing but WELCOME, which carries the acknowledgement.
        if seal?.hasKeys == false, role == .server { return }
        let isInOrder = previousLargest.map { packetNumber == $0 &+ 1 } ?? true
        // A PING carries nothing to wait for: it asks for an acknowledgement (a keepalive's sign of
        // life, a probe). Answering at once saves the receiver a timer per keepalive (a relay with
        // 10,000 idle peers armed and fired one per PING) and gives the sender an RTT sample with no
        // ack delay in it.
        if !isInOrder || ackElicitingSinceAcknowledgement >= 2 || packet.type == .ping {
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
        case .hello, .helloNoise:
            if role == .server { isWelcomePending = true }
        case .pathChallenge(let data):
            // Echoed from wherever this end now sends from (wire format, section 10.8).
            if pendingPathResponses.count < 4 { pendingPathResponses.append(data) }
        case .pathResponse(let data):
            if receivedPathResponses.count < 4 { receivedPathResponses.append(data) }
        case .ack, .ping, .welcome, .reset, .cookie, .welcomeNoise, .finish, .resetToken:
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
        case .bulk:
            deliveredScratch.removeAll(keepingCapacity: true)
            if bulkReorderBuffer.insert(fragment, payload: payload, delivering: &deliveredScratch) {
                counters.outOfOrderBuffered += 1
            }
            for message in deliveredScratch {
                counters.messagesDelivered += 1
                events.append(.message(message, channel: .bulk))
            }
        case .unreliable:
            let budget = receiveBudget - reorderBuffer.outOfOrderBytes - bulkReorderBuffer.outOfOrderBytes
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
