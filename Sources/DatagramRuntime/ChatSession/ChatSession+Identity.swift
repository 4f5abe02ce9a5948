import Chat
import ChatClientCore

// End-to-end private messages and contact keys (Specs/chat-protocol.md section 4.10), on the
// session's queue like every other request.
extension ChatSession {
    /// Sends `text` to `name` sealed end to end (plain, with an event saying so, when a side has no
    /// identity key). Returns the message id when it went out now; nil while it waits for the key.
    @discardableResult
    public func sendSealedPrivate(_ text: String, to name: String) throws(ChatSendError) -> UInt64? {
        let now = clock.now()
        let id = try state.withLock { (shell) throws(ChatSendError) -> UInt64? in
            try shell.core.sendSealedPrivate(text, to: name, at: now)
        }
        scheduleFlush()
        return id
    }

    /// `/whois NAME`: the answer arrives as `.identity(.whois)`.
    public func whois(_ name: String) {
        let now = clock.now()
        state.withLock { $0.core.whois(name, at: now) }
        scheduleFlush()
    }

    /// `/trust NAME`: accepts the changed key last presented for `name`; false when there is none.
    @discardableResult
    public func trust(_ name: String) -> Bool {
        let now = clock.now()
        let trusted = state.withLock { $0.core.trust(name, at: now) }
        scheduleFlush()
        return trusted
    }

    /// The contacts pinned so far (nil without an identity), for saving `known_contacts`.
    public var contacts: KnownKeys? { state.withLock { $0.core.contacts } }

    /// True when the session has an identity key (end-to-end private messages are possible).
    public var hasIdentity: Bool { state.withLock { $0.core.hasIdentity } }
}
