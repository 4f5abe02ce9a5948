import Chat
import Datagram

// The link to the relay: connection attempts and their backoff, the Datagram handshake or the TCP
// stream, keeping each alive (heartbeats), and finishing a QUIT.
extension ChatClientCore {
    /// The wait before reconnection attempt `attempt` (0 for the first after a loss): doubling from
    /// `reconnectDelay` up to `reconnectDelayLimit`, shortened by up to `reconnectJitter` of itself.
    public static func reconnectDelay(attempt: Int, configuration: ChatClientConfiguration,
                                      random: inout some RandomNumberGenerator) -> Duration {
        var delay = configuration.reconnectDelay
        for _ in 0..<min(max(attempt, 0), 16) where delay < configuration.reconnectDelayLimit { delay = delay * 2 }
        delay = min(delay, configuration.reconnectDelayLimit)
        let jitter = min(max(configuration.reconnectJitter, 0), 1)
        guard jitter > 0 else { return delay }
        return delay * (1 - jitter * Double.random(in: 0..<1, using: &random))
    }

    /// Starts a connection attempt: a new Datagram handshake (UDP) or a new stream (TCP), then HELLO.
    mutating func beginConnection(at now: Timestamp) {
        ledger.phase = .connecting(since: now)
        if ledger.hasJoinedBefore {
            ledger.reconnectAttempt += 1
            show(.connection(.reconnecting(attempt: ledger.reconnectAttempt)))
        }
        switch configuration.transport {
        case .udp:
            connectDatagram(at: now)
        case .tcp:
            if isStreamOpen { actions.append(.closeStream) }
            isStreamOpen = false
            actions.append(.openStream)
        }
    }

    /// A fresh Datagram connection (on the shell's same socket) with HELLO queued, which a
    /// connection accepts before its handshake finishes.
    ///
    /// A reconnection starts from the previous connection's smoothed RTT (RFC 9002, section 6.2.2:
    /// a resumed connection over the same path may reuse it), kept between `minimumRememberedRTT`
    /// and the configured initial RTT, so its probe timeouts suit the path instead of the guess for
    /// an unknown one.
    mutating func connectDatagram(at now: Timestamp) {
        var datagram = configuration.datagramConfiguration
        datagram.isTracing = isTracing
        if let announcedPeerTimeout {
            datagram.keepaliveInterval = configuration.heartbeatInterval(peerTimeout: announcedPeerTimeout)
        }
        if var old = connection {
            let previous = old.statistics.smoothedRTT
            if previous > .zero {
                rememberedRoundTripTime = min(max(previous, configuration.minimumRememberedRTT), datagram.initialRTT)
            }
            if !old.isClosed { old.close(code: .normal, at: now) }
            while let datagram = old.pollTransmit(at: now) { actions.append(.sendDatagram(datagram)) }
            let undelivered = old.takeUnacknowledgedMessages().compactMap { try? ClientMessage(decoding: $0) }
            ledger.requeue(undelivered: undelivered, backlog: backlog.all)
            backlog.removeAll()
        }
        if let remembered = rememberedRoundTripTime { datagram.initialRTT = remembered }
        let id = ConnectionID(rawValue: UInt32.random(in: 1...UInt32.max, using: &random))
        let firstPacketNumber = UInt32.random(in: 0...UInt32.max, using: &random)
        connection = Connection(role: .client, id: id, configuration: datagram, now: now, firstPacketNumber: firstPacketNumber)
        connectionKeepaliveInterval = datagram.keepaliveInterval
        transmit(ledger.hello(configuration), at: now)
    }

    /// Restarts a handshake nobody answers.
    mutating func datagramHousekeeping(at now: Timestamp) {
        guard case .connecting(let since) = ledger.phase else { return }
        let isUnanswered = ledger.lastContact.map { $0 < since } ?? true
        if (isUnanswered && now - since >= configuration.handshakeUnansweredLimit) || now - since >= configuration.handshakeLimit {
            // The relay is probably restarting, or the handshake lost packets and backed off. A
            // fresh handshake starts with a fresh probe timeout instead of waiting out the backoff.
            ledger.phase = .waitingToReconnect(at: now)
        }
    }

    /// Gives up a stream that has gone silent or a connect that hangs.
    mutating func streamHousekeeping(at now: Timestamp) {
        if case .connecting(let since) = ledger.phase, !isStreamOpen, now - since >= configuration.streamConnectLimit {
            actions.append(.closeStream)
            linkLost("connecting took too long", at: now)
            return
        }
        guard isStreamOpen else { return }
        if let lastRead, now - lastRead >= configuration.streamSilenceLimit {
            linkLost("nothing heard from the relay for \(configuration.streamSilenceLimit)", at: now)
            return
        }
        if ledger.phase != .joined { sendHeartbeatIfDue(at: now) }
    }

    /// When the next heartbeat is due: TCP always; UDP only once WELCOME announced a timeout that
    /// Datagram's own keepalive interval would not honour.
    var nextHeartbeat: Timestamp? {
        switch configuration.transport {
        case .tcp:
            guard isStreamOpen else { return nil }
        case .udp:
            guard ledger.phase == .joined,
                  currentHeartbeatInterval < connectionKeepaliveInterval else { return nil }
        }
        return (lastHeartbeat ?? .zero) + currentHeartbeatInterval
    }

    mutating func sendHeartbeatIfDue(at now: Timestamp) {
        guard let due = nextHeartbeat, due <= now else { return }
        lastHeartbeat = now
        let heartbeat = ClientMessage.heartbeat(timestamp: UInt64(max(0, now.microsecondsSinceOrigin)),
                                                roundTripTime: ledger.statistics.heartbeatRoundTripTime)
        transmit(heartbeat, at: now)
    }

    /// Finishes `leave` once QUIT was delivered, the link ended, or the time ran out.
    mutating func finishLeavingIfDone(at now: Timestamp) {
        guard let deadline = leaveDeadline else { return }
        let quitWaiting = ledger.unacknowledged.all.contains { if case .quit = $0.message { true } else { false } }
        let isFlushed = configuration.transport == .udp || streamPendingBytes == 0
        let isDelivered = isLinkEndedWhileLeaving || (!quitWaiting && backlog.isEmpty && isFlushed)
        guard isDelivered || deadline <= now || ledger.phase != .joined else { return }
        leaveDeadline = nil
        shutDown(at: now)
        actions.append(.left)
    }
}
