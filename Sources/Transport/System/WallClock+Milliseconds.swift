import Glibc

extension WallClock {
    /// Milliseconds since 1970-01-01 00:00:00 UTC (`CLOCK_REALTIME`): what the relay's data directory
    /// saves times in.
    public static func millisecondsSinceEpoch() -> Int64 {
        var time = timespec()
        _ = clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000 + Int64(time.tv_nsec) / 1_000_000
    }
}
