import Testing
@testable import Datagram

@Suite("RTT estimator (RFC 9002 section 5)")
struct RTTEstimatorTests {
    /// Specs/wire-format.md, section 6: Handshake timing: initial RTT 333 ms; the client's first probe timeout 999
    /// ms, then doubling; the server's 1001 ms; the client gives up by probes or at its idle timeout, which runs from
    /// the first HELLO.
    /// Specs/reliability.md, "Round-trip time and the probe timeout": PTO = smoothed + max(4 × variation, 1 ms) + the
    /// peer's maximum ack delay, floored; initial RTT 333 ms, so 999 ms (client handshake) and 1001 ms (server).
    @Test("before any sample: the initial RTT and half of it as variance; PTO 333 + 666 + 25 ms")
    func initial() {
        let rtt = RTTEstimator(initialRTT: .milliseconds(333))
        #expect(rtt.smoothed == .milliseconds(333))
        #expect(rtt.variance == .microseconds(166_500))
        #expect(rtt.probeTimeout(maximumAckDelay: .milliseconds(25), floor: .zero) == .milliseconds(1024))
    }

    /// Specs/reliability.md, "Round-trip time and the probe timeout": The first sample sets smoothed RTT and half of
    /// it as variation; later samples give up the ack delay only above the minimum RTT; gains 1/8 and 1/4.
    @Test("first sample sets smoothed and minimum to it and variance to half; ack delay ignored")
    func firstSample() {
        var rtt = RTTEstimator(initialRTT: .milliseconds(333))
        rtt.update(latest: .milliseconds(100), ackDelay: .milliseconds(20))
        #expect(rtt.smoothed == .milliseconds(100))
        #expect(rtt.minimum == .milliseconds(100))
        #expect(rtt.variance == .milliseconds(50))
    }

    /// Specs/reliability.md, "Round-trip time and the probe timeout": The first sample sets smoothed RTT and half of
    /// it as variation; later samples give up the ack delay only above the minimum RTT; gains 1/8 and 1/4.
    @Test("later samples: ack delay subtracted only when that stays at or above min_rtt; 1/8 and 1/4 gains")
    func laterSamples() {
        var rtt = RTTEstimator(initialRTT: .milliseconds(333))
        rtt.update(latest: .milliseconds(100), ackDelay: .zero)
        rtt.update(latest: .milliseconds(140), ackDelay: .milliseconds(20))
        // adjusted = 120; variance = 3/4 · 50 + 1/4 · |100 − 120| = 42.5; smoothed = 7/8 · 100 + 1/8 · 120.
        #expect(rtt.variance == .microseconds(42_500))
        #expect(rtt.smoothed == .microseconds(102_500))
        rtt.update(latest: .milliseconds(105), ackDelay: .milliseconds(10))
        // 105 < min 100 + 10: the delay is not subtracted; adjusted = 105.
        #expect(rtt.smoothed == .microseconds(102_812) + .nanoseconds(500))
        #expect(rtt.minimum == .milliseconds(100))
        rtt.update(latest: .milliseconds(80), ackDelay: .zero)
        #expect(rtt.minimum == .milliseconds(80))
        #expect(rtt.latest == .milliseconds(80))
    }

    /// Specs/reliability.md, "Round-trip time and the probe timeout": PTO = smoothed + max(4 × variation, 1 ms) + the
    /// peer's maximum ack delay, floored; initial RTT 333 ms, so 999 ms (client handshake) and 1001 ms (server).
    @Test("PTO: smoothed + max(4 · variance, 1 ms) + max ack delay, floored")
    func probeTimeout() {
        var rtt = RTTEstimator(initialRTT: .milliseconds(333))
        rtt.update(latest: .microseconds(100), ackDelay: .zero)
        // variance 50 µs: 4 · 50 µs < 1 ms, so the granularity counts.
        #expect(rtt.probeTimeout(maximumAckDelay: .milliseconds(25), floor: .zero) == .microseconds(26_100))
        #expect(rtt.probeTimeout(maximumAckDelay: .zero, floor: .milliseconds(10)) == .milliseconds(10))
        #expect(rtt.lossDelay == .milliseconds(1), "9/8 · 100 µs is below the 1 ms granularity")
    }
}

@Suite("NewReno window (RFC 9002 section 7)")
struct NewRenoTests {
    /// Specs/reliability.md, "The congestion window": NewReno in bytes: 10 × 1200 initial, slow start only while
    /// window-limited, halved once per recovery period (at least 2 packets), then avoidance; persistent congestion;
    /// `.disabled`.
    @Test("initial window is min(10 · 1200, max(2 · 1200, 14720)) = 12000 bytes; minimum 2400")
    func constants() {
        #expect(NewReno().window == 12_000)
        #expect(NewReno.minimumWindow == 2400)
    }

    /// Specs/reliability.md, "The congestion window": NewReno in bytes: 10 × 1200 initial, slow start only while
    /// window-limited, halved once per recovery period (at least 2 packets), then avoidance; persistent congestion;
    /// `.disabled`.
    @Test("slow start grows by acknowledged bytes, only when the window was the limit")
    func slowStart() {
        var reno = NewReno()
        reno.onPacketsAcknowledged(bytes: 1200, newestSentTime: .ms(1), isWindowLimited: false)
        #expect(reno.window == 12_000)
        reno.onPacketsAcknowledged(bytes: 2400, newestSentTime: .ms(1), isWindowLimited: true)
        #expect(reno.window == 14_400)
    }

    /// Specs/reliability.md, "The congestion window": NewReno in bytes: 10 × 1200 initial, slow start only while
    /// window-limited, halved once per recovery period (at least 2 packets), then avoidance; persistent congestion;
    /// `.disabled`.
    @Test("a loss halves once per recovery period; then congestion avoidance adds one datagram per window")
    func recoveryAndAvoidance() {
        var reno = NewReno()
        reno.onCongestionEvent(sentTime: .ms(10), now: .ms(100))
        #expect(reno.window == 6000)
        reno.onCongestionEvent(sentTime: .ms(50), now: .ms(110))
        #expect(reno.window == 6000, "sent before recovery began: same event")
        reno.onPacketsAcknowledged(bytes: 6000, newestSentTime: .ms(90), isWindowLimited: true)
        #expect(reno.window == 6000, "acks of packets sent before recovery do not grow the window")
        reno.onPacketsAcknowledged(bytes: 4800, newestSentTime: .ms(120), isWindowLimited: true)
        #expect(reno.window == 6000)
        reno.onPacketsAcknowledged(bytes: 1200, newestSentTime: .ms(121), isWindowLimited: true)
        #expect(reno.window == 7200, "6000 bytes acknowledged in avoidance: + 1200")
        reno.onCongestionEvent(sentTime: .ms(200), now: .ms(300))
        #expect(reno.window == 3600)
        reno.onCongestionEvent(sentTime: .ms(400), now: .ms(500))
        #expect(reno.window == 2400, "never below the minimum window")
    }

    /// Specs/reliability.md, "The congestion window": NewReno in bytes: 10 × 1200 initial, slow start only while
    /// window-limited, halved once per recovery period (at least 2 packets), then avoidance; persistent congestion;
    /// `.disabled`.
    @Test("persistent congestion collapses the window to the minimum")
    func persistent() {
        var reno = NewReno()
        reno.onPersistentCongestion()
        #expect(reno.window == 2400)
    }

    /// Specs/reliability.md, "The congestion window": NewReno in bytes: 10 × 1200 initial, slow start only while
    /// window-limited, halved once per recovery period (at least 2 packets), then avoidance; persistent congestion;
    /// `.disabled`.
    @Test("disabled congestion control never limits")
    func disabled() {
        var unlimited = SelectedCongestionController(.disabled)
        unlimited.onCongestionEvent(sentTime: .ms(1), now: .ms(2))
        #expect(unlimited.window >= Int.max / 2)
    }
}
