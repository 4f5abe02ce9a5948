import Chat
import Datagram

// File transfer (Specs/chat-protocol.md, section 4.12): the requests, and moving the book's
// messages onto the link. Control messages (offers, answers, confirmations) go like any request;
// chunks go only while the link holds less than `fileSendBudget` bytes, so a file never fills the
// send queue that chat needs, and they are not kept for resending (a resume starts from what the
// recipient confirmed).
extension ChatClientCore {
    /// The most bytes the link may hold queued (UDP: the Datagram send queue; TCP: the stream's
    /// output buffer) before another chunk is handed to it.
    public static let fileSendBudget = 128 << 10

    /// Offers a file to a user or a room; returns the offer id (`/cancel` takes it).
    public mutating func offerFile(to target: String, name: String, size: UInt64, digest: FileDigest,
                                   source: any FileSource, at now: Timestamp) -> UInt64 {
        // Seven digits: short enough to type after /cancel, and apart from the relay's transfer ids (from 1).
        let offerID = UInt64.random(in: 1_000_000...9_999_999, using: &random)
        files.offer(FileOffer(offerID: offerID, target: target, name: name, size: size, digest: digest), source: source)
        if ledger.phase == .joined { files.joined() }
        finish(at: now)
        return offerID
    }

    /// Accepts an offered transfer into `sink`; false when no such offer waits.
    public mutating func acceptFile(_ transfer: UInt64, sink: any FileSink, at now: Timestamp) -> Bool {
        defer { finish(at: now) }
        return files.accept(transfer, sink: sink, at: now)
    }

    /// Rejects an offer, or cancels a transfer or an offer of ours; false when `id` names nothing.
    public mutating func cancelFile(_ id: UInt64, reason: FileCancelReason, text: String = "", at now: Timestamp) -> Bool {
        defer { finish(at: now) }
        return files.cancel(id, reason: reason, text: text)
    }

    /// Every transfer and offer, for `/transfers` and the progress line.
    public func fileTransfers(at now: Timestamp) -> [FileTransferSummary] { files.summaries(at: now) }

    /// True when no file is moving.
    public var isFileTransferIdle: Bool { files.isIdle }

    /// A file message from the relay: handled by the book. False for any other message.
    mutating func handleFileMessage(_ message: RelayMessage, at now: Timestamp) -> Bool {
        guard files.handle(message, at: now) else { return false }
        showFileEvents()
        return true
    }

    mutating func showFileEvents() {
        for event in files.takeEvents() { show(.file(event)) }
    }

    /// Sends the book's control messages and as many chunks as the link's budget allows. Returns
    /// true when a chunk went out.
    @discardableResult
    mutating func pumpFiles(at now: Timestamp) -> Bool {
        guard ledger.isSending else { return false }
        for message in files.takeMessages() { submit(message, at: now) }
        var sentChunk = false
        while files.hasChunkToSend, linkHasRoomForChunk {
            guard let chunk = files.nextChunk() else { break }
            transmitChunk(chunk, at: now)
            sentChunk = true
        }
        for message in files.takeMessages() { submit(message, at: now) }
        showFileEvents()
        return sentChunk
    }

    private var linkHasRoomForChunk: Bool {
        switch configuration.transport {
        case .udp: (connection?.queuedBytes(on: .bulk) ?? Int.max) < Self.fileSendBudget
        case .tcp: isStreamOpen && streamPendingBytes < Self.fileSendBudget
        }
    }

    /// Puts a chunk on the link, untracked: chunks are never resent (section 4.12, "Resume").
    private mutating func transmitChunk(_ chunk: ClientMessage, at now: Timestamp) {
        let bytes = chunk.encoded()
        switch configuration.transport {
        case .udp:
            guard connection != nil else { return }
            // The bulk channel: below chat, with its own queue (Specs/reliability.md, "The bulk channel").
            _ = try? connection!.send(bytes, on: .bulk, at: now)
        case .tcp:
            // Sealed like every other frame of a sealed stream (Specs/chat-protocol.md section 5.1).
            guard let frame = streamFrame(for: bytes) else { return }
            queueFrame(frame)
        }
    }
}
