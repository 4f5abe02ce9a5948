/// The smallest round-trip sample of the last 10 to 20 seconds: the path's delay without queues,
/// for the bulk channel's queueing measure (`Connection.Configuration.bulkQueueingTarget`).
///
/// Unlike `RTTEstimator.minimum`, which is kept for the connection's life, it forgets: after a
/// move to a longer path (roaming, a route change) the old, shorter minimum would make every sample
/// look queued, and the bulk channel would crawl for the rest of the session. Two spans of 10 s each:
/// samples go into the current one; when it is 10 s old it becomes the previous one.
struct RecentMinimum: Sendable {
    static let span: Duration = .seconds(10)
    private var current: Duration?
    private var previous: Duration?
    private var currentStart: Timestamp?

    /// Takes a sample measured at `now`; a span ends once it is `span` old (10 s unless given).
    mutating func add(_ sample: Duration, at now: Timestamp, span: Duration = RecentMinimum.span) {
        if let start = currentStart, now - start >= span {
            previous = current
            current = nil
            currentStart = now
        }
        if currentStart == nil { currentStart = now }
        current = Swift.min(current ?? sample, sample)
    }

    /// The smallest sample of the two spans; nil before the first.
    var value: Duration? {
        switch (current, previous) {
        case let (current?, previous?): Swift.min(current, previous)
        case let (current?, nil): current
        case let (nil, previous?): previous
        case (nil, nil): nil
        }
    }
}
