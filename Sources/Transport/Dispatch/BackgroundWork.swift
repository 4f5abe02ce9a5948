import Dispatch
import Glibc

/// Work running on a Dispatch worker thread, and a way to wait until it has returned: what the
/// blocking baselines of Measurement use for their echo servers and sinks.
public struct BackgroundWork: Sendable {
    private let finished: DispatchSemaphore

    /// Starts `work` on a global worker thread at once.
    public init(_ work: @escaping @Sendable () -> Void) {
        let finished = DispatchSemaphore(value: 0)
        self.finished = finished
        DispatchQueue.global().async {
            work()
            finished.signal()
        }
    }

    /// Blocks until the work has returned. Call it once.
    public func wait() { finished.wait() }
}

extension BackgroundWork {
    /// Blocks the calling thread for `duration` (for a measurement loop that polls; never on a queue).
    public static func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
