/// The connection's timers, kept as deadlines and folded into one `nextDeadline` (quinn's timer table).
///
/// | timer      | armed while                               | fires at                                   |
/// |------------|-------------------------------------------|--------------------------------------------|
/// | loss       | an unacked packet is too young to be lost | its send time + 9/8 RTT                    |
/// | probe      | ack-eliciting packets are in flight       | last ack-eliciting send + PTO · 2^count    |
/// | ack        | an ack-eliciting packet awaits its ack    | its arrival + maximum ack delay            |
/// | keepalive  | established                               | last ack-eliciting send + keepalive        |
/// | idle       | always (from creation, as in QUIC)        | last valid packet received + idle timeout  |
/// | head of line | reliable data waits, head not moving    | since then + 2 × idle timeout (code 2)     |
///
/// The loss timer, when armed, replaces the probe timer (RFC 9002 section 6.2.1).
extension Connection {
    /// When `handleTimeout` must next be called, or nil when no timer is armed.
    public var nextDeadline: Timestamp? {
        guard !isClosed else { return nil }
        var deadline = lossTime ?? probeDeadline
        if !isAckDueNow, let ackDeadline { deadline = earliest(deadline, ackDeadline) }
        if state == .established, !isPingPending { deadline = earliest(deadline, keepaliveDeadline) }
        if let headOfLineDeadline { deadline = earliest(deadline, headOfLineDeadline) }
        return earliest(deadline, idleDeadline)
    }

    private var isAckDueNow: Bool { isAckImmediate }

    /// A PING goes `keepaliveInterval` after this end last sent something ack-eliciting, and, while
    /// nothing of this end's is in flight, not before 1.5 × `keepaliveInterval` after the peer's last
    /// PING (`quietUntil`, set when it arrives): the peer's keepalive runs, and it hears the
    /// acknowledgements of its PINGs. So of two idle ends only the one whose keepalive comes first
    /// sends PINGs and the other answers them (a relay with 10,000 idle peers pinged each of them
    /// every 2 s on top of acknowledging their own PINGs). The half interval keeps the answering
    /// end's timer clear of the next PING, due one interval after the last; longer is worse under
    /// heavy loss (2.5 intervals timed out 4 more of 1,200 seeded runs at 20 % loss, its PINGs being
    /// what the other end hears while its own are lost). Only a PING counts: data from a peer in
    /// loss recovery comes at ever longer probe timeouts, and the pings of this end are what keep
    /// such a peer's idle timer running. And only an end with nothing in flight stays quiet: the
    /// acknowledgement of its own PING is what lets a sender in loss recovery find a lost packet by
    /// the time threshold instead of waiting out doubled probe timeouts (the same sweep lost 9
    /// transfers without this rule, none with it).
    var keepaliveDeadline: Timestamp {
        let own = keepaliveReference + configuration.keepaliveInterval
        guard let quietUntil, ackElicitingInFlight == 0 else { return own }
        return Swift.max(own, quietUntil)
    }
    /// The idle timeout is never shorter than three probe timeouts (RFC 9000 section 10.1), so a path
    /// with a very long RTT is not declared dead before loss recovery has had a chance.
    var idleDeadline: Timestamp {
        lastReceiveTime + Swift.max(configuration.idleTimeout, probeTimeout(afterBackoff: 0).times3)
    }

    /// When reliable data that has waited without the head of the line moving is given up as
    /// undeliverable: the peer skipped message numbers (or started elsewhere than 0) and will never
    /// fill the gap. Reliable data is never acknowledged and then silently dropped: the connection
    /// closes with CLOSE code 2 and `.closed(.protocolViolation)` instead. Twice the idle timeout, so
    /// that a peer that merely fell silent is reported as `.idleTimeout` (which comes first), and a
    /// peer that keeps talking without ever filling the gap is reported as what it is.
    var headOfLineDeadline: Timestamp? {
        headOfLineSince.map { $0 + configuration.idleTimeout + configuration.idleTimeout }
    }

    private func earliest(_ deadline: Timestamp?, _ other: Timestamp) -> Timestamp {
        guard let deadline else { return other }
        return Swift.min(deadline, other)
    }

    /// Tells the connection that time has reached `now` (call it at `nextDeadline`, early calls are harmless).
    public mutating func handleTimeout(at now: Timestamp) {
        advanceClock(to: now)
        guard !isClosed else { return }
        if let headOfLineDeadline, self.now >= headOfLineDeadline {
            finish(.protocolViolation, closeCode: .protocolError)
            return
        }
        if self.now >= idleDeadline {
            finish(.idleTimeout, closeCode: .idleTimeout)
            return
        }
        if let lossTime {
            if self.now >= lossTime { detectLosses() }
        } else if let probeDeadline, self.now >= probeDeadline {
            onProbeTimeout()
            if isClosed { return }
        }
        if let ackDeadline, self.now >= ackDeadline {
            isAckImmediate = true
            self.ackDeadline = nil
        }
        if state == .established, self.now >= keepaliveDeadline { isPingPending = true }
    }

    /// RFC 9002 section 6.2: the probe timer fired. One probe goes out (a HELLO while the handshake is
    /// under way), unless the peer is presumed gone: `maximumProbeCount` probe timeouts in a row, the
    /// last of them already backed off to `maximumProbeTimeout`. The second condition keeps a path
    /// with a millisecond RTT (probe timeouts of a few ms) from being abandoned after a hiccup of a
    /// second; such a connection usually meets its idle timeout first.
    private mutating func onProbeTimeout() {
        let hasBackedOffFully = currentProbeTimeout >= configuration.maximumProbeTimeout
        consecutiveProbeTimeouts += 1
        counters.probeTimeouts += 1
        if consecutiveProbeTimeouts >= configuration.maximumProbeCount, hasBackedOffFully {
            finish(.probeTimeout, closeCode: .idleTimeout)
            return
        }
        emit(.probeTimeout(count: consecutiveProbeTimeouts, backoff: currentProbeTimeout))
        if role == .client, state == .connecting {
            isHelloPending = true
        } else {
            probesToSend = 1
        }
    }
}
