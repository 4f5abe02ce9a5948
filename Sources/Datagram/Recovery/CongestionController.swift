/// A congestion controller counts bytes and tells the sender how many may be in flight.
///
/// The connection owns `bytesInFlight`; the controller only sees the events of RFC 9002 appendix B:
/// packets acknowledged, a congestion event (loss) and persistent congestion.
protocol CongestionController: Sendable {
    /// The congestion window in bytes: the sender keeps `bytesInFlight` at or below it.
    var window: Int { get }
    /// Packets of `bytes` in total, the newest of them sent at `newestSentTime`, were acknowledged.
    /// `isWindowLimited` is true when the sender had filled the window (growth is earned only then).
    mutating func onPacketsAcknowledged(bytes: Int, newestSentTime: Timestamp, isWindowLimited: Bool)
    /// Packets were declared lost; the newest of them was sent at `sentTime`.
    mutating func onCongestionEvent(sentTime: Timestamp, now: Timestamp)
    /// A run of losses spanned more than the persistent congestion duration (section 7.6).
    mutating func onPersistentCongestion()
}

/// No congestion control: the window is effectively unlimited (`CongestionControl.disabled`).
struct UnlimitedWindow: CongestionController {
    var window: Int { Int.max / 2 }
    mutating func onPacketsAcknowledged(bytes: Int, newestSentTime: Timestamp, isWindowLimited: Bool) {}
    mutating func onCongestionEvent(sentTime: Timestamp, now: Timestamp) {}
    mutating func onPersistentCongestion() {}
}

/// The controller a `Configuration` asks for, as one concrete value.
///
/// Not an `any CongestionController`: an opaque existential stored in `Connection` made the whole
/// connection address-only, so every copy, nil check and optional read of one went through generic
/// value witnesses (a relay paid for it several times per datagram; issue 13).
enum SelectedCongestionController: CongestionController {
    case newReno(NewReno)
    case unlimited(UnlimitedWindow)

    init(_ kind: CongestionControl) {
        switch kind {
        case .newReno: self = .newReno(NewReno())
        case .disabled: self = .unlimited(UnlimitedWindow())
        }
    }

    var window: Int {
        switch self {
        case .newReno(let controller): controller.window
        case .unlimited(let controller): controller.window
        }
    }

    mutating func onPacketsAcknowledged(bytes: Int, newestSentTime: Timestamp, isWindowLimited: Bool) {
        guard case .newReno(var controller) = self else { return }
        controller.onPacketsAcknowledged(bytes: bytes, newestSentTime: newestSentTime, isWindowLimited: isWindowLimited)
        self = .newReno(controller)
    }

    mutating func onCongestionEvent(sentTime: Timestamp, now: Timestamp) {
        guard case .newReno(var controller) = self else { return }
        controller.onCongestionEvent(sentTime: sentTime, now: now)
        self = .newReno(controller)
    }

    mutating func onPersistentCongestion() {
        guard case .newReno(var controller) = self else { return }
        controller.onPersistentCongestion()
        self = .newReno(controller)
    }
}
