/// A point in time, measured as a `Duration` since an arbitrary origin chosen by whoever drives the code.
///
/// The core never reads a clock: every input carries the current `Timestamp`. A driver builds them from
/// a monotonic clock; a test builds them from plain numbers (`.milliseconds(1000)`). Time must never go
/// backwards between two calls into the same state machine.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The time elapsed since the origin.
    public var sinceOrigin: Duration

    /// Creates a timestamp `sinceOrigin` after the origin.
    public init(sinceOrigin: Duration) {
        self.sinceOrigin = sinceOrigin
    }

    /// The origin itself.
    public static let zero = Timestamp(sinceOrigin: .zero)

    /// A timestamp `milliseconds` after the origin; the usual way tests script time.
    public static func milliseconds(_ milliseconds: Int64) -> Timestamp {
        Timestamp(sinceOrigin: .milliseconds(milliseconds))
    }

    /// A timestamp `microseconds` after the origin.
    public static func microseconds(_ microseconds: Int64) -> Timestamp {
        Timestamp(sinceOrigin: .microseconds(microseconds))
    }

    /// Earlier timestamps order first.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }
    /// The timestamp `rhs` after `lhs`.
    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp { Timestamp(sinceOrigin: lhs.sinceOrigin + rhs) }
    /// The timestamp `rhs` before `lhs`.
    public static func - (lhs: Timestamp, rhs: Duration) -> Timestamp { Timestamp(sinceOrigin: lhs.sinceOrigin - rhs) }
    /// The time from `rhs` to `lhs` (negative when `rhs` is later).
    public static func - (lhs: Timestamp, rhs: Timestamp) -> Duration { lhs.sinceOrigin - rhs.sinceOrigin }

    /// Whole microseconds since the origin, rounded towards zero.
    public var microsecondsSinceOrigin: Int64 {
        let (seconds, attoseconds) = sinceOrigin.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// `t=` and milliseconds with three decimals, for traces.
    public var description: String {
        let micros = microsecondsSinceOrigin
        return "t=\(micros / 1000).\(String(repeating: "0", count: 3 - String(abs(micros % 1000)).count))\(abs(micros % 1000))ms"
    }
}

extension Duration {
    /// Whole microseconds in this duration, rounded towards zero.
    public var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// This duration in milliseconds as a floating-point number, for printing.
    public var milliseconds: Double {
        Double(wholeMicroseconds) / 1000
    }
}
