import Datagram
import Glibc

/// Turns `CLOCK_MONOTONIC` into `Datagram.Timestamp`s measured from an origin chosen at creation.
///
/// The pure core never reads a clock; drivers read this one and pass the result in. Timestamps from
/// two clocks with different origins must not be mixed; `MonotonicClock.process` is the shared one
/// whose origin is the first time any code in the process touched it.
public struct MonotonicClock: Sendable {
    /// The clock every driver uses unless told otherwise; its origin is fixed on first use.
    public static let process = MonotonicClock()

    /// The raw `CLOCK_MONOTONIC` reading, in nanoseconds, that `Timestamp.zero` stands for.
    public let originNanoseconds: Int64

    /// Creates a clock whose origin is now.
    public init() {
        originNanoseconds = MonotonicClock.rawNanoseconds()
    }

    /// The current time since this clock's origin. Never goes backwards.
    public func now() -> Timestamp {
        Timestamp(sinceOrigin: .nanoseconds(MonotonicClock.rawNanoseconds() - originNanoseconds))
    }

    /// Reads `CLOCK_MONOTONIC` in nanoseconds.
    static func rawNanoseconds() -> Int64 {
        var time = timespec()
        // clock_gettime cannot fail for CLOCK_MONOTONIC with a valid pointer.
        _ = clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

/// The time of day, for chat lines (`12:00:01 <alice> hello`) and logs. Not for measuring intervals.
public enum WallClock {
    /// Seconds since 1970-01-01 00:00:00 UTC (`CLOCK_REALTIME`).
    public static func secondsSinceEpoch() -> Int {
        var time = timespec()
        _ = clock_gettime(CLOCK_REALTIME, &time)
        return Int(time.tv_sec)
    }

    /// `HH:MM:SS` for the current time, in local time unless `utc` is true.
    public static func timeOfDay(utc: Bool = false) -> String {
        timeOfDay(secondsSinceEpoch: secondsSinceEpoch(), utc: utc)
    }

    /// `HH:MM:SS` for `secondsSinceEpoch`, in local time unless `utc` is true.
    public static func timeOfDay(secondsSinceEpoch seconds: Int, utc: Bool = false) -> String {
        var time = time_t(seconds)
        var parts = tm()
        if utc {
            _ = gmtime_r(&time, &parts)
        } else {
            _ = localtime_r(&time, &parts)
        }
        return "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec))"
    }

    private static func twoDigits(_ value: Int32) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
