/// Shows each message once when a sender resends after a relay restart.
///
/// A sender numbers its SAY and PRIVATE messages 1, 2, 3, ... for the whole run of its session, and
/// the path sender → relay → receiver keeps them in order. So a receiver only has to remember, per
/// sender session, the highest message id it has shown: anything at or below it is a resend.
///
/// ```
/// session 1111...: highest 7      id 5 → duplicate   id 7 → duplicate   id 8 → new (highest 8)
/// ```
///
/// Memory is bounded: beyond `sessionLimit` sessions, the one heard from least recently is forgotten
/// (a resend from it would then be shown a second time, never lost).
public struct DuplicateFilter: Sendable {
    /// The most sender sessions remembered.
    public let sessionLimit: Int
    private var highest: [SessionID: (messageID: UInt64, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0

    /// Creates an empty filter remembering at most `sessionLimit` sessions.
    public init(sessionLimit: Int = 1024) {
        precondition(sessionLimit > 0, "the filter must remember at least one session")
        self.sessionLimit = sessionLimit
    }

    /// The number of sessions remembered now.
    public var sessionCount: Int { highest.count }

    /// True, and remembered, when `messageID` from `session` has not been shown; false for a resend.
    public mutating func isNew(messageID: UInt64, from session: SessionID) -> Bool {
        clock += 1
        if let entry = highest[session] {
            guard messageID > entry.messageID else {
                highest[session] = (entry.messageID, clock)
                return false
            }
        } else if highest.count >= sessionLimit {
            forgetLeastRecentlyUsed()
        }
        highest[session] = (messageID, clock)
        return true
    }

    private mutating func forgetLeastRecentlyUsed() {
        guard let oldest = highest.min(by: { $0.value.lastUse < $1.value.lastUse })?.key else { return }
        highest[oldest] = nil
    }
}
