/// Round-trip time estimation as RFC 9002 section 5 describes it.
///
/// Before the first sample the smoothed RTT is the configured initial RTT and the variance half of it
/// (section 5.3, "initial"). The first sample sets minimum and smoothed RTT to itself and the variance
/// to half of it. Later samples update the minimum with the raw sample, subtract the peer's reported
/// ack delay only when that does not take the sample below the minimum (section 5.3), and move the
/// smoothed RTT by 1/8 and the variance by 1/4 towards the adjusted sample.
struct RTTEstimator: Sendable {
    private(set) var smoothed: Duration
    private(set) var variance: Duration
    private(set) var minimum: Duration = .zero
    private(set) var latest: Duration = .zero
    private(set) var hasSample = false

    init(initialRTT: Duration) {
        smoothed = initialRTT
        variance = initialRTT.scaled(1, 2)
    }

    /// Takes one sample: `latest` is now minus the send time of the largest newly acknowledged packet;
    /// `ackDelay` is what the peer reported, already capped at the maximum ack delay.
    mutating func update(latest sample: Duration, ackDelay: Duration) {
        latest = sample
        guard hasSample else {
            hasSample = true
            minimum = sample
            smoothed = sample
            variance = sample.scaled(1, 2)
            return
        }
        minimum = Swift.min(minimum, sample)
        var adjusted = sample
        if sample >= minimum + ackDelay {
            adjusted = sample - ackDelay
        }
        let deviation = smoothed > adjusted ? smoothed - adjusted : adjusted - smoothed
        variance = (variance.scaled(3, 1) + deviation).scaled(1, 4)
        smoothed = (smoothed.scaled(7, 1) + adjusted).scaled(1, 8)
    }

    /// The probe timeout before backoff (section 6.2.1): smoothed + max(4·variance, granularity) +
    /// `maximumAckDelay`, never below `floor`.
    func probeTimeout(maximumAckDelay: Duration, floor: Duration) -> Duration {
        let doubled = variance + variance
        let timeout = smoothed + Swift.max(doubled + doubled, RTTEstimator.granularity) + maximumAckDelay
        return Swift.max(timeout, floor)
    }

    /// The loss-detection time threshold (section 6.1.2): 9/8 of max(smoothed, latest), at least 1 ms.
    var lossDelay: Duration {
        Swift.max(Swift.max(smoothed, latest).scaled(9, 8), RTTEstimator.granularity)
    }

    /// The timer granularity RFC 9002 recommends (`kGranularity`).
    static let granularity: Duration = .milliseconds(1)
}

extension Duration {
    /// Three times this duration. The timers are computed on every `nextDeadline` (after every input,
    /// by every driver): Duration's `*` goes through a generic 128-bit multiply (about 10 % of the
    /// instructions per message in `tools/callgrind.sh`), addition is a few instructions (issue 13).
    var times3: Duration { self + self + self }

    /// This duration × `numerator` / `denominator`, in its own 128-bit attoseconds, truncated as
    /// `Duration`'s `*` and `/` truncate: the same value, without their generic code. Those two took
    /// about 550 instructions each, nine times per keepalive at the two ends (RTT update, loss delay,
    /// the keepalive quiet time), a sixth of `bench workload relay-idle` (tools/callgrind.sh).
    @inline(__always)
    func scaled(_ numerator: Int64, _ denominator: Int64) -> Duration {
        Duration(attoseconds: attoseconds * Int128(numerator) / Int128(denominator))
    }
}
