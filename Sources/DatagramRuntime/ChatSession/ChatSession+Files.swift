import Chat
import ChatClientCore
import Datagram

// File transfer through the session (Specs/chat-protocol.md, section 4.12); the rules are in
// `ChatClientCore` (`FileTransferBook`), the file IO in the sources and sinks the caller passes.
extension ChatSession {
    /// Offers a file to a user or a room; returns the offer id.
    public func offerFile(to target: String, name: String, size: UInt64, digest: FileDigest, source: any FileSource) -> UInt64 {
        let now = clock.now()
        let id = state.withLock { $0.core.offerFile(to: target, name: name, size: size, digest: digest, source: source, at: now) }
        scheduleFlush()
        return id
    }

    /// Accepts an offered transfer into `sink`; false when no such offer waits.
    public func acceptFile(_ transfer: UInt64, sink: any FileSink) -> Bool {
        let now = clock.now()
        let accepted = state.withLock { $0.core.acceptFile(transfer, sink: sink, at: now) }
        scheduleFlush()
        return accepted
    }

    /// Rejects an offer, or cancels a transfer or one of our offers; false when `id` names nothing.
    public func cancelFile(_ id: UInt64, reason: FileCancelReason, text: String = "") -> Bool {
        let now = clock.now()
        let cancelled = state.withLock { $0.core.cancelFile(id, reason: reason, text: text, at: now) }
        scheduleFlush()
        return cancelled
    }

    /// Every transfer and offer now.
    public var fileTransfers: [FileTransferSummary] {
        let now = clock.now()
        return state.withLock { $0.core.fileTransfers(at: now) }
    }
}

extension ChatSession {
    /// True once the session closed (nothing more happens).
    public var isClosed: Bool { state.withLock { $0.core.isClosed } }
}
