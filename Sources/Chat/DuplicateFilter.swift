/// Shows each message once when a sender resends after a relay restart.
///
/// A sender numbers its SAY and PRIVATE messages 1, 2, 3, ... for the whole run of its session, and
/// the path sender → relay → receiver keeps them in order. So a receiver only has to remember, per
/// sender, the highest message id it has shown: anything at or below it is a resend.
///
/// ```
/// sender 1111...: highest 7      id 5 → duplicate   id 7 → duplicate   id 8 → new (highest 8)
/// ```
///
/// The key is the relay-assigned `SenderID`, never anything a client chose, so no other client can
/// claim a sender's ids (Specs/chat-protocol.md, section 4.6).
///
/// Memory is bounded: beyond `sessionLimit` senders, the one heard from least recently is forgotten
/// (a resend from it would then be shown a second time, never lost).
public struct DuplicateFilter: Sendable {
    /// The most sender sessions remembered.
    public let sessionLimit: Int
    private var highest: [SenderID: (messageID: UInt64, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0

    /// Creates an empty filter remembering at most `sessionLimit` sessions.
    public init(sessionLimit: Int = 1024) {
        precondition(sessionLimit > 0, "the filter must remember at least one session")
        self.sessionLimit = sessionLimit
    }

    /// The number of sessions remembered now.
    public var sessionCount: Int { highest.count }

    /// True, and remembered, when `messageID` from `sender` has not been shown; false for a resend.
    public mutating func isNew(messageID: UInt64, from sender: SenderID) -> Bool {
        clock += 1
        if let entry = highest[sender] {
            guard messageID > entry.messageID else {
                highest[sender] = (entry.messageID, clock)
                return false
            }
        } else if highest.count >= sessionLimit {
            forgetLeastRecentlyUsed()
        }
        highest[sender] = (messageID, clock)
        return true
    }

    private mutating func forgetLeastRecentlyUsed() {
        guard let oldest = highest.min(by: { $0.value.lastUse < $1.value.lastUse })?.key else { return }
        highest[oldest] = nil
    }
}
