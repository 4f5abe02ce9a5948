import Chat
import Datagram

/// The bytes of a file being sent, read on demand (the shell opens the file; this target does no IO).
public protocol FileSource: Sendable {
    /// `count` bytes from `offset`; fewer only at the end of the file.
    func read(at offset: UInt64, count: Int) throws -> [UInt8]
}

/// Where a file being received goes: a temporary file in the download directory (the shell's).
public protocol FileSink: Sendable {
    /// Writes `bytes` at `offset` (always the end of what was written: chunks come in order).
    func write(_ bytes: [UInt8], at offset: UInt64) throws
    /// SHA-256 of everything written.
    func digest() throws -> FileDigest
    /// Renames the temporary file to its final, safe name; returns where it is now.
    func commit() throws -> String
    /// Deletes the temporary file.
    func discard()
}

/// Something about a file transfer worth telling the user.
public enum FileTransferEvent: Sendable, Hashable {
    /// A file is offered to us: `/accept` or `/reject` it (the shell may accept at once,
    /// `--accept-files`, or refuse it as too large, `--max-file-size`).
    case offered(FileOffered)
    /// An interrupted transfer is going on from `offset`, as a new transfer.
    case resumed(transfer: UInt64, name: String, offset: UInt64)
    /// A file we received matched its SHA-256 and is saved at `path`.
    case received(transfer: UInt64, from: String, path: String, size: UInt64)
    /// A file we received did not match its SHA-256: the partial file was deleted.
    case mismatch(transfer: UInt64, name: String)
    /// A transfer ended without a file (cancelled, rejected, failed, ...); `detail` says why.
    case ended(transfer: UInt64, name: String, reason: FileCancelReason, detail: String)
    /// An interrupted transfer waits for the sender to offer the file again.
    case interrupted(transfer: UInt64, name: String, at: UInt64)
    /// `by` accepted our offer of `name` as transfer `transfer`, from `offset`.
    case accepted(transfer: UInt64, by: String, name: String, offset: UInt64)
    /// `by` checked the file we sent: `verified`, or a SHA-256 mismatch.
    case delivered(transfer: UInt64, by: String, name: String, verified: Bool)
}

/// One line of `/transfers` and of the progress display.
public struct FileTransferSummary: Sendable, Hashable {
    /// Sending or receiving.
    public enum Direction: Sendable, Hashable { case sending, receiving }
    /// What the line is about.
    public enum State: String, Sendable, Hashable { case offered, waiting, running, interrupted }
    /// `/accept`, `/reject` and `/cancel` take this: a transfer id, or for an unanswered offer of
    /// ours, the offer's id.
    public var id: UInt64
    public var direction: Direction
    /// The other user (the room, for our offer to a room nobody accepted yet).
    public var peer: String
    public var name: String
    public var size: UInt64
    /// Bytes sent (and confirmed by the recipient) or written.
    public var done: UInt64
    public var state: State
    /// Bytes per second since the transfer started (nil: not measurable yet).
    public var rate: Double?

    /// Seconds left at `rate`, or nil.
    public var secondsLeft: Double? {
        guard let rate, rate > 0 else { return nil }
        return Double(size - min(done, size)) / rate
    }
}

/// Every file transfer of one session, sending and receiving, as a pure state machine
/// (Specs/chat-protocol.md, section 4.12). The core feeds it the relay's file messages and asks it
/// for what to send; it reads and writes file bytes only through `FileSource` and `FileSink`.
public struct FileTransferBook: Sendable {
    /// Recipients confirm at least this often (and at the end).
    public static let confirmInterval: UInt64 = 32 << 10
    /// How long an interrupted offer waits before it is made again while we stay joined, and between
    /// retries while the recipient is not back (a relay restart brings both sides back in any order).
    public static let resumeRetryInterval: Duration = .seconds(2)
    /// The most retries of one interrupted offer (a minute at the interval above).
    public static let resumeRetryLimit = 30

    struct Leg: Sendable {
        var recipient: String
        var nextOffset: UInt64
        var limit: UInt64
        var confirmed: UInt64
        var startedAt: Timestamp
        var startOffset: UInt64
    }

    struct Outgoing: Sendable {
        var offer: FileOffer
        var source: any FileSource
        /// Accepted transfers, by transfer id.
        var legs: [UInt64: Leg] = [:]
        /// FILE_OFFER must go (again) once joined (and `retryAt` has come).
        var needsOffer = true
        /// The offer is made again to resume an interrupted transfer: a refusal (the recipient is
        /// not back yet) is retried every `resumeRetryInterval`, up to `resumeRetryLimit` times.
        var isResuming = false
        var retryAt: Timestamp?
        var retries = 0
        var isToRoom: Bool { offer.target.hasPrefix("#") }
    }

    struct Incoming: Sendable {
        var offer: FileOffered
        var sink: (any FileSink)?
        var written: UInt64 = 0
        var confirmedSent: UInt64 = 0
        var state: FileTransferSummary.State = .offered
        var startedAt: Timestamp?
        var startOffset: UInt64 = 0
    }

    var outgoing: [UInt64: Outgoing] = [:]
    /// By the relay's transfer id (which changes when a transfer resumes).
    var incoming: [UInt64: Incoming] = [:]
    /// Messages to send, in order; the core takes them with `takeMessages` while joined.
    var outbox: [ClientMessage] = []
    var events: [FileTransferEvent] = []
    private var rotation = 0

    public init() {}

    // MARK: Requests

    /// Offers a file (FILE_OFFER goes once joined).
    mutating func offer(_ offer: FileOffer, source: any FileSource) {
        outgoing[offer.offerID] = Outgoing(offer: offer, source: source)
    }

    /// Accepts offered transfer `id`, writing to `sink`. False when there is no such offer.
    mutating func accept(_ id: UInt64, sink: any FileSink, at now: Timestamp) -> Bool {
        guard var transfer = incoming[id], transfer.state == .offered else { return false }
        transfer.sink = sink
        transfer.state = .running
        transfer.startedAt = now
        incoming[id] = transfer
        outbox.append(.fileAccept(transfer: id, offset: 0))
        if transfer.offer.size == 0 { finishIfComplete(id) }
        return true
    }

    /// Rejects an offer, or cancels a transfer or one of our offers. False when `id` names nothing.
    mutating func cancel(_ id: UInt64, reason: FileCancelReason, text: String = "") -> Bool {
        if let transfer = incoming.removeValue(forKey: id) {
            transfer.sink?.discard()
            if transfer.state != .interrupted { outbox.append(.fileCancel(id: id, reason: reason, text: text)) }
            events.append(.ended(transfer: id, name: transfer.offer.name, reason: reason, detail: "by you"))
            return true
        }
        if let offer = outgoing.removeValue(forKey: id) {
            if !offer.needsOffer { outbox.append(.fileCancel(id: id, reason: reason, text: text)) }
            events.append(.ended(transfer: id, name: offer.offer.name, reason: reason, detail: "by you"))
            return true
        }
        if let offerID = outgoing.first(where: { $0.value.legs[id] != nil })?.key {
            outgoing[offerID]?.legs[id] = nil
            outbox.append(.fileCancel(id: id, reason: reason, text: text))
            events.append(.ended(transfer: id, name: outgoing[offerID]?.offer.name ?? "", reason: reason, detail: "by you"))
            if outgoing[offerID].map({ !$0.isToRoom && $0.legs.isEmpty }) == true { outgoing[offerID] = nil }
            return true
        }
        return false
    }

    // MARK: The link

    /// Joined (WELCOME, or time passing while joined): offers not yet made, or interrupted and due
    /// again, go.
    mutating func joined(at now: Timestamp? = nil) {
        for id in outgoing.keys.sorted() where outgoing[id]?.needsOffer == true {
            if let retryAt = outgoing[id]?.retryAt, let now, retryAt > now { continue }
            outgoing[id]?.needsOffer = false
            outgoing[id]?.retryAt = nil
            outbox.append(.fileOffer(outgoing[id]!.offer))
        }
    }

    /// When an interrupted offer is due again, if one waits.
    var nextRetry: Timestamp? {
        outgoing.values.filter(\.needsOffer).compactMap(\.retryAt).min()
    }

    /// The link is gone: the relay forgets every transfer; ours wait to resume.
    mutating func linkLost() {
        for id in outgoing.keys {
            if outgoing[id]?.legs.isEmpty == false || outgoing[id]?.needsOffer == false { outgoing[id]?.isResuming = true }
            outgoing[id]?.legs = [:]
            outgoing[id]?.needsOffer = true
            outgoing[id]?.retryAt = nil
        }
        for id in incoming.keys.sorted() {
            guard let transfer = incoming[id] else { continue }
            if transfer.state == .running {
                incoming[id]?.state = .interrupted
                events.append(.interrupted(transfer: id, name: transfer.offer.name, at: transfer.written))
            } else if transfer.state == .offered {
                incoming[id] = nil
            }
        }
        outbox = []
    }

    /// Takes the control messages waiting (offers, answers, confirmations).
    mutating func takeMessages() -> [ClientMessage] {
        defer { outbox = [] }
        return outbox
    }

    /// Takes the events waiting.
    mutating func takeEvents() -> [FileTransferEvent] {
        defer { events = [] }
        return events
    }

    /// Whether some transfer has credit and bytes left: `nextChunk` would give one.
    var hasChunkToSend: Bool {
        outgoing.values.contains { offer in offer.legs.values.contains { $0.nextOffset < $0.limit } }
    }

    /// The next chunk some transfer may send now (round robin among them), read from its source;
    /// nil when none has credit. A source that fails cancels its offer.
    mutating func nextChunk() -> ClientMessage? {
        let ready = outgoing.keys.sorted().flatMap { offerID in
            (outgoing[offerID]?.legs ?? [:]).filter { $0.value.nextOffset < $0.value.limit }.keys.sorted().map { (offerID, $0) }
        }
        guard !ready.isEmpty else { return nil }
        rotation = (rotation + 1) % ready.count
        let (offerID, transferID) = ready[rotation]
        guard let offer = outgoing[offerID], let leg = offer.legs[transferID] else { return nil }
        let count = Int(min(UInt64(FileTransferLimits.maximumChunkSize), leg.limit - leg.nextOffset))
        let bytes: [UInt8]
        do {
            bytes = try offer.source.read(at: leg.nextOffset, count: count)
        } catch {
            _ = cancel(offerID, reason: .failed, text: "cannot read the file: \(error)")
            return nil
        }
        guard bytes.count == count else {
            _ = cancel(offerID, reason: .failed, text: "the file changed while it was being sent")
            return nil
        }
        outgoing[offerID]?.legs[transferID]?.nextOffset += UInt64(count)
        return .fileChunk(transfer: transferID, offset: leg.nextOffset, bytes: bytes)
    }

    // MARK: Messages from the relay

    /// Handles a file message; false when `message` is none.
    mutating func handle(_ message: RelayMessage, at now: Timestamp) -> Bool {
        switch message {
        case let .fileOffered(offer): offered(offer)
        case let .fileAccepted(offerID, transfer, by, offset, limit):
            guard let offer = outgoing[offerID]?.offer, offset <= offer.size else { return true }
            outgoing[offerID]?.legs[transfer] = Leg(recipient: by, nextOffset: offset, limit: min(limit, offer.size),
                                                    confirmed: offset, startedAt: now, startOffset: offset)
            events.append(.accepted(transfer: transfer, by: by, name: offer.name, offset: offset))
        case let .fileCredit(transfer, confirmed, limit):
            guard let offerID = offerID(ofLeg: transfer), let size = outgoing[offerID]?.offer.size else { return true }
            outgoing[offerID]?.legs[transfer]?.confirmed = confirmed
            let granted = outgoing[offerID]?.legs[transfer]?.limit ?? 0
            outgoing[offerID]?.legs[transfer]?.limit = max(granted, min(limit, size))
        case let .fileChunk(transfer, offset, bytes):
            received(bytes, at: offset, transfer: transfer)
        case let .fileDone(transfer, by, result):
            guard let offerID = offerID(ofLeg: transfer), let name = outgoing[offerID]?.offer.name else { return true }
            outgoing[offerID]?.legs[transfer] = nil
            events.append(.delivered(transfer: transfer, by: by, name: name, verified: result == .verified))
            if outgoing[offerID].map({ !$0.isToRoom && $0.legs.isEmpty }) == true { outgoing[offerID] = nil }
        case let .fileCancelled(offerID, transfer, reason, by, text):
            cancelled(offerID: offerID, transfer: transfer, reason: reason, by: by, text: text, at: now)
        default:
            return false
        }
        return true
    }

    private func offerID(ofLeg transfer: UInt64) -> UInt64? {
        outgoing.first { $0.value.legs[transfer] != nil }?.key
    }

    private mutating func offered(_ offer: FileOffered) {
        // The same file from the same sender, interrupted here: resume it where the file ends.
        if let (oldID, old) = incoming.first(where: { $0.value.state == .interrupted && $0.value.offer.from == offer.from
                && $0.value.offer.name == offer.name && $0.value.offer.size == offer.size && $0.value.offer.digest == offer.digest }) {
            incoming[oldID] = nil
            var resumed = old
            resumed.offer = offer
            resumed.state = .running
            resumed.confirmedSent = old.written
            resumed.startOffset = old.written
            incoming[offer.transferID] = resumed
            outbox.append(.fileAccept(transfer: offer.transferID, offset: old.written))
            events.append(.resumed(transfer: offer.transferID, name: offer.name, offset: old.written))
            finishIfComplete(offer.transferID)
            return
        }
        incoming[offer.transferID] = Incoming(offer: offer)
        events.append(.offered(offer))
    }

    private mutating func received(_ bytes: [UInt8], at offset: UInt64, transfer id: UInt64) {
        guard var transfer = incoming[id], transfer.state == .running, let sink = transfer.sink else { return }
        // A relay's offset is checked before any arithmetic on it: only the next byte is taken.
        guard offset == transfer.written, UInt64(bytes.count) <= transfer.offer.size - transfer.written else {
            return fail(id, "chunk at \(offset) of \(bytes.count) bytes; expected \(transfer.written)")
        }
        do {
            try sink.write(bytes, at: offset)
        } catch {
            return fail(id, "cannot write: \(error)")
        }
        transfer.written += UInt64(bytes.count)
        if transfer.written - transfer.confirmedSent >= Self.confirmInterval || transfer.written == transfer.offer.size {
            transfer.confirmedSent = transfer.written
            outbox.append(.fileConfirm(transfer: id, offset: transfer.written))
        }
        incoming[id] = transfer
        finishIfComplete(id)
    }

    /// A transfer whose last byte is written: check the SHA-256, keep or delete, tell the sender.
    private mutating func finishIfComplete(_ id: UInt64) {
        guard let transfer = incoming[id], let sink = transfer.sink, transfer.written == transfer.offer.size else { return }
        incoming[id] = nil
        do {
            guard try sink.digest() == transfer.offer.digest else {
                sink.discard()
                outbox.append(.fileDone(transfer: id, result: .mismatch))
                events.append(.mismatch(transfer: id, name: transfer.offer.name))
                return
            }
            let path = try sink.commit()
            outbox.append(.fileDone(transfer: id, result: .verified))
            events.append(.received(transfer: id, from: transfer.offer.from, path: path, size: transfer.offer.size))
        } catch {
            sink.discard()
            outbox.append(.fileCancel(id: id, reason: .failed, text: "cannot save the file: \(error)"))
            events.append(.ended(transfer: id, name: transfer.offer.name, reason: .failed, detail: "cannot save the file: \(error)"))
        }
    }

    private mutating func fail(_ id: UInt64, _ text: String) {
        guard let transfer = incoming.removeValue(forKey: id) else { return }
        transfer.sink?.discard()
        outbox.append(.fileCancel(id: id, reason: .failed, text: text))
        events.append(.ended(transfer: id, name: transfer.offer.name, reason: .failed, detail: text))
    }

    private mutating func cancelled(offerID: UInt64, transfer: UInt64, reason: FileCancelReason, by: String, text: String,
                                    at now: Timestamp) {
        let detail = [by.isEmpty ? "" : "by \(by)", text].filter { !$0.isEmpty }.joined(separator: ": ")
        if let incomingTransfer = incoming[transfer], offerID == 0 {
            if reason == .interrupted, incomingTransfer.state == .running {
                // Keep what was written: the sender offers the file again after reconnecting.
                incoming[transfer]?.state = .interrupted
                events.append(.interrupted(transfer: transfer, name: incomingTransfer.offer.name, at: incomingTransfer.written))
                return
            }
            incoming[transfer] = nil
            incomingTransfer.sink?.discard()
            events.append(.ended(transfer: transfer, name: incomingTransfer.offer.name, reason: reason, detail: detail))
            return
        }
        guard let offer = outgoing[offerID] else { return }
        if transfer == 0, reason == .refused, offer.isResuming, offer.retries < Self.resumeRetryLimit {
            // Resuming after an interruption, and the recipient is not back yet: try again shortly.
            outgoing[offerID]?.needsOffer = true
            outgoing[offerID]?.retries += 1
            outgoing[offerID]?.retryAt = now + Self.resumeRetryInterval
            return
        }
        if transfer == 0 {
            // The whole offer (or, for a room, one recipient of it) was refused.
            if !offer.isToRoom || by.isEmpty { outgoing[offerID] = nil }
            events.append(.ended(transfer: offerID, name: offer.offer.name, reason: reason, detail: detail))
            return
        }
        outgoing[offerID]?.legs[transfer] = nil
        if reason == .interrupted, !offer.isToRoom {
            // The recipient went away (or the relay is restarting): offer again shortly, and keep
            // offering while it is not back, so the transfer resumes where the recipient's file ends.
            outgoing[offerID]?.isResuming = true
            outgoing[offerID]?.needsOffer = true
            outgoing[offerID]?.retries = 0
            outgoing[offerID]?.retryAt = now + Self.resumeRetryInterval
            events.append(.interrupted(transfer: transfer, name: offer.offer.name, at: offer.legs[transfer]?.confirmed ?? 0))
            return
        } else if !offer.isToRoom, outgoing[offerID]?.legs.isEmpty == true {
            outgoing[offerID] = nil
        }
        events.append(.ended(transfer: transfer, name: offer.offer.name, reason: reason, detail: detail))
    }

    // MARK: Observation

    /// Every transfer and offer, for `/transfers` and the progress line.
    public func summaries(at now: Timestamp) -> [FileTransferSummary] {
        var lines: [FileTransferSummary] = []
        for id in outgoing.keys.sorted() {
            guard let offer = outgoing[id] else { continue }
            if offer.legs.isEmpty {
                lines.append(FileTransferSummary(id: id, direction: .sending, peer: offer.offer.target, name: offer.offer.name,
                                                 size: offer.offer.size, done: 0, state: .waiting, rate: nil))
            }
            for transfer in offer.legs.keys.sorted() {
                guard let leg = offer.legs[transfer] else { continue }
                lines.append(FileTransferSummary(id: transfer, direction: .sending, peer: leg.recipient, name: offer.offer.name,
                                                 size: offer.offer.size, done: leg.confirmed, state: .running,
                                                 rate: Self.rate(leg.confirmed - min(leg.confirmed, leg.startOffset), since: leg.startedAt, at: now)))
            }
        }
        for id in incoming.keys.sorted() {
            guard let transfer = incoming[id] else { continue }
            let rate = transfer.startedAt.flatMap { Self.rate(transfer.written - min(transfer.written, transfer.startOffset), since: $0, at: now) }
            lines.append(FileTransferSummary(id: id, direction: .receiving, peer: transfer.offer.from, name: transfer.offer.name,
                                             size: transfer.offer.size, done: transfer.written, state: transfer.state, rate: rate))
        }
        return lines
    }

    private static func rate(_ bytes: UInt64, since start: Timestamp, at now: Timestamp) -> Double? {
        let elapsed = Double((now - start).wholeMicroseconds) / 1_000_000
        return elapsed >= 0.2 ? Double(bytes) / elapsed : nil
    }

    /// Deletes every partial file (the session is closing).
    mutating func discardAll() {
        for transfer in incoming.values { transfer.sink?.discard() }
        incoming = [:]
        outgoing = [:]
        outbox = []
    }

    /// True when nothing is being sent or received (offers to rooms may still be open).
    public var isIdle: Bool {
        outgoing.values.allSatisfy { $0.legs.isEmpty } && incoming.values.allSatisfy { $0.state != .running }
    }
}
