/// Loss recovery (RFC 9002 sections 5-7): acknowledgements, RTT samples, loss detection, probes.
extension Connection {
    /// Packet reordering threshold (RFC 9002 kPacketThreshold).
    static let packetThreshold: UInt32 = 3

    /// What one acknowledgement newly covered.
    private struct NewlyAcknowledged {
        var bytes = 0
        var newestSentTime: Timestamp?
        var largestSentTime: Timestamp?
        var includesAckEliciting = false
    }

    /// Processes the acknowledgement fields of a packet from the peer: marks packets acknowledged,
    /// takes an RTT sample, grows the congestion window, resets the probe backoff, detects losses.
    mutating func handleAcknowledgement(_ acknowledgement: Acknowledgement) {
        let largest = acknowledgement.largest
        // An acknowledgement of a packet never sent is ignored (the peer is confused or forging): the
        // largest acknowledged must lie in [firstPacketNumber, nextPacketNumber).
        guard isSentPacketNumber(largest) else { return }
        if largestAcknowledged.map({ largest.isSerialAfter($0) }) ?? true { largestAcknowledged = largest }
        let newly = acknowledgePackets(in: acknowledgement)
        guard let newestSentTime = newly.newestSentTime else { return }
        if let largestSentTime = newly.largestSentTime {
            var sample: Duration?
            if newly.includesAckEliciting {
                let ackDelay = Swift.min(acknowledgement.delayDuration, configuration.maximumAckDelay)
                let latest = now - largestSentTime
                rtt.update(latest: latest, ackDelay: state == .established ? ackDelay : .zero)
                sample = rtt.latest
                if configuration.measuresQueueing { measureQueueing(latest: latest, ackDelay: ackDelay, acknowledgedBytes: newly.bytes) }
            }
            emit(.acknowledged(packetNumber: largest, rttSample: sample))
        }
        if newly.bytes > 0 {
            congestion.onPacketsAcknowledged(bytes: newly.bytes, newestSentTime: newestSentTime,
                                             isWindowLimited: isWindowLimited)
            isWindowLimited = false
        }
        consecutiveProbeTimeouts = 0
        hasPeerAcknowledged = true
        detectLosses()
        sentPackets.trimFront()
    }

    /// Measures how long the newest acknowledged packet sat in queues (its RTT sample less the peer's
    /// ack delay, above the path's recent minimum) and keeps the standing queue for
    /// `congestionQueueThreshold`. Then grows the bulk window by what was acknowledged while that
    /// stays under the target, or shrinks it by a quarter, at most once per round trip, when it does
    /// not (Specs/reliability.md, "The bulk channel yields to queues").
    private mutating func measureQueueing(latest: Duration, ackDelay: Duration, acknowledgedBytes: Int) {
        let adjusted = latest > ackDelay ? latest - ackDelay : latest
        baseDelay.add(adjusted, at: now)
        let base = baseDelay.value ?? adjusted
        queueingDelay = adjusted - base
        if configuration.congestionQueueThreshold != nil {
            standingQueue.add(queueingDelay, at: now, span: Swift.max(rtt.smoothed, .milliseconds(1)))
        }
        guard let configured = configuration.bulkQueueingTarget else { return }
        // A long path tolerates a longer queue: half its delay, so its jitter does not read as queueing.
        let target = Swift.max(configured, base.scaled(1, 2))
        let floor = 4 * Limits.maximumDatagramSize
        if queueingDelay <= target {
            bulkWindow = Swift.min(bulkWindow + acknowledgedBytes, Swift.max(congestion.window, floor))
        } else if bulkDecreaseAllowedAt.map({ now >= $0 }) ?? true {
            bulkWindow = Swift.max(floor, bulkWindow - bulkWindow / 4)
            bulkDecreaseAllowedAt = now + rtt.smoothed
        }
    }

    /// True when this end has sent a packet numbered `number`: it lies in [first, next) (after 2^32
    /// packets every number has been sent).
    func isSentPacketNumber(_ number: UInt32) -> Bool {
        number &- firstPacketNumber < nextPacketNumber &- firstPacketNumber || counters.packetsSent > Int(UInt32.max)
    }

    /// Walks the largest and every bit of the bitfield (set bits only), acknowledging each packet.
    /// The walk goes from newest to oldest and stops at the first number older than every packet
    /// still in the sent table (those have all finished and left it): in steady state the bitfield is
    /// full and only its first few bits are new, so this saves ~60 lookups per acknowledgement.
    private mutating func acknowledgePackets(in acknowledgement: Acknowledgement) -> NewlyAcknowledged {
        let largest = acknowledgement.largest
        var newly = NewlyAcknowledged()
        guard let oldest = sentPackets.oldestPacketNumber else { return newly }
        var bits = acknowledgement.bitfield
        var next: UInt32? = largest
        while let number = next, number.serialDistance(from: oldest) >= 0 {
            if let packet = acknowledgePacket(number, isLargest: number == largest) {
                if number == largest { newly.largestSentTime = packet.sentTime }
                if packet.isAckEliciting {
                    newly.includesAckEliciting = true
                    newly.bytes += packet.size
                }
                if newly.newestSentTime.map({ packet.sentTime > $0 }) ?? true { newly.newestSentTime = packet.sentTime }
            }
            next = nil
            if bits != 0 {
                next = largest &- 1 &- UInt32(bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return newly
    }

    /// Marks one packet acknowledged if it was outstanding; returns it, or nil.
    private mutating func acknowledgePacket(_ number: UInt32, isLargest: Bool) -> SentPacket? {
        guard let index = sentPackets.index(of: number) else { return nil }
        guard sentPackets[index].state == .outstanding else {
            // Declared lost too early (reordering): its fragment still arrived, so stop resending it.
            if sentPackets[index].state == .lost, let fragment = sentPackets[index].fragment {
                sentPackets[index].state = .acknowledged
                if let message = onAcknowledged(fragment) { events.append(.acknowledged(message)) }
            }
            return nil
        }
        sentPackets[index].state = .acknowledged
        let packet = sentPackets[index]
        if packet.isAckEliciting {
            bytesInFlight -= packet.size
            ackElicitingInFlight -= 1
            recentLossRate -= recentLossRate >> 6
        }
        if !isLargest { emit(.acknowledged(packetNumber: number, rttSample: nil)) }
        if let fragment = packet.fragment, let message = onAcknowledged(fragment) {
            events.append(.acknowledged(message))
        }
        return packet
    }

    /// Declares lost every outstanding packet before the largest acknowledged that is 3 or more
    /// packets older, or was sent more than 9/8 RTT ago (RFC 9002 section 6.1), and arms the loss
    /// timer for the first one that is neither yet.
    mutating func detectLosses() {
        lossTime = nil
        guard let largestAcknowledged else { return }
        let lossDelay = rtt.lossDelay
        var oldestLost: Timestamp?
        var newestLost: Timestamp?
        var isContiguous = true
        var index = 0
        while index < sentPackets.count {
            let packet = sentPackets[index]
            index += 1
            guard packet.state == .outstanding else {
                if packet.state == .acknowledged, oldestLost != nil { isContiguous = false }
                continue
            }
            guard packet.packetNumber.isSerialBefore(largestAcknowledged) else { break }
            let reason: LossReason
            if largestAcknowledged &- packet.packetNumber >= Connection.packetThreshold {
                reason = .packetThreshold(largestAcknowledged: largestAcknowledged)
            } else if now - packet.sentTime >= lossDelay {
                reason = .timeThreshold(age: now - packet.sentTime, threshold: lossDelay)
            } else {
                lossTime = packet.sentTime + lossDelay
                break
            }
            declareLost(at: index - 1, reason: reason)
            if oldestLost == nil { oldestLost = packet.sentTime }
            newestLost = packet.sentTime
        }
        sentPackets.trimFront()
        guard let oldestLost, let newestLost else { return }
        if isLossWithoutQueue {
            counters.lossesTakenAsNoise += 1
        } else {
            congestion.onCongestionEvent(sentTime: newestLost, now: now)
        }
        if isContiguous, rtt.hasSample, newestLost - oldestLost > persistentCongestionDuration {
            congestion.onPersistentCongestion()
        }
    }

    private mutating func declareLost(at index: Int, reason: LossReason) {
        sentPackets[index].state = .lost
        let packet = sentPackets[index]
        bytesInFlight -= packet.size
        ackElicitingInFlight -= 1
        counters.packetsLost += 1
        recentLossRate += (65536 - recentLossRate) >> 6
        if configuration.copiesSmallMessagesUnderLoss { redundancyUntil = now + configuration.redundancyHold }
        emit(.lost(packetNumber: packet.packetNumber, reason: reason))
        guard let reference = packet.fragment, onLost(reference) else { return }
        if isTracingEnabled, let (message, fragment) = describe(reference) {
            emit(.retransmitted(message: message, fragment: fragment, lostPacketNumber: packet.packetNumber))
        }
    }

    /// True when the losses just declared look like a lossy link rather than congestion: the path's
    /// standing queue is within `congestionQueueThreshold` (or half its base delay), and at most an
    /// eighth of recent packets were lost (Specs/reliability.md, "Loss without a queue").
    private var isLossWithoutQueue: Bool {
        guard let threshold = configuration.congestionQueueThreshold, recentLossRate <= 65536 / 8,
              let base = baseDelay.value, let standing = standingQueue.value else { return false }
        return standing <= Swift.max(threshold, base.scaled(1, 2))
    }

    /// RFC 9002 section 7.6.1: three probe timeouts without backoff.
    var persistentCongestionDuration: Duration {
        rtt.probeTimeout(maximumAckDelay: configuration.maximumAckDelay, floor: .zero).times3
    }

    /// The probe timeout before backoff (RFC 9002 section 6.2.1). During the handshake the peer does
    /// not delay its acknowledgement, so the maximum ack delay is left out.
    var baseProbeTimeout: Duration {
        let ackDelay = state == .established ? configuration.maximumAckDelay : .zero
        return rtt.probeTimeout(maximumAckDelay: ackDelay, floor: configuration.minimumProbeTimeout)
    }

    /// The probe timeout in force: doubled per consecutive probe timeout, capped at the maximum.
    var currentProbeTimeout: Duration {
        probeTimeout(afterBackoff: consecutiveProbeTimeouts)
    }

    func probeTimeout(afterBackoff count: Int) -> Duration {
        var timeout = baseProbeTimeout
        for _ in 0..<Swift.min(count, 40) {
            timeout = timeout + timeout
            if timeout >= configuration.maximumProbeTimeout { break }
        }
        return Swift.min(timeout, configuration.maximumProbeTimeout)
    }

    /// When the probe timer fires, nil when nothing ack-eliciting is in flight.
    var probeDeadline: Timestamp? {
        guard ackElicitingInFlight > 0, let sent = lastAckElicitingSentTime else { return nil }
        return sent + currentProbeTimeout
    }
}
