/// NewReno counted in bytes, as RFC 9002 section 7 specifies it.
///
/// - Slow start (7.3.1): the window grows by every acknowledged byte until it reaches the slow start
///   threshold.
/// - Congestion avoidance (7.3.3): then by one maximum datagram per window of acknowledged bytes.
/// - Recovery (7.3.2): a loss halves the window (kLossReductionFactor 0.5, never below the minimum
///   window) and starts a recovery period; losses and acknowledgements of packets sent before the
///   period began change nothing, so one burst of losses halves the window only once.
/// - Persistent congestion (7.6): the window collapses to the minimum.
struct NewReno: CongestionController {
    /// The datagram size the window is counted in (RFC 9002 max_datagram_size).
    static let maximumDatagramSize = 1200
    /// kInitialWindow = min(10 · size, max(2 · size, 14720)).
    static let initialWindow = Swift.min(10 * maximumDatagramSize, Swift.max(2 * maximumDatagramSize, 14_720))
    /// kMinimumWindow = 2 · size.
    static let minimumWindow = 2 * maximumDatagramSize

    private(set) var window = NewReno.initialWindow
    private(set) var slowStartThreshold = Int.max
    private(set) var recoveryStartTime: Timestamp?
    /// Bytes acknowledged in congestion avoidance not yet turned into window growth.
    private var acknowledgedBytesInAvoidance = 0

    var isInSlowStart: Bool { window < slowStartThreshold }

    mutating func onPacketsAcknowledged(bytes: Int, newestSentTime: Timestamp, isWindowLimited: Bool) {
        if let start = recoveryStartTime, newestSentTime <= start { return }
        recoveryStartTime = nil
        guard isWindowLimited else { return }
        if isInSlowStart {
            window += bytes
            return
        }
        acknowledgedBytesInAvoidance += bytes
        if acknowledgedBytesInAvoidance >= window {
            acknowledgedBytesInAvoidance -= window
            window += NewReno.maximumDatagramSize
        }
    }

    mutating func onCongestionEvent(sentTime: Timestamp, now: Timestamp) {
        if let start = recoveryStartTime, sentTime <= start { return }
        recoveryStartTime = now
        slowStartThreshold = Swift.max(window / 2, NewReno.minimumWindow)
        window = slowStartThreshold
        acknowledgedBytesInAvoidance = 0
    }

    mutating func onPersistentCongestion() {
        window = NewReno.minimumWindow
        recoveryStartTime = nil
        acknowledgedBytesInAvoidance = 0
    }
}
