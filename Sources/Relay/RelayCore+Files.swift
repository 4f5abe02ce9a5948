import Chat
import Datagram

/// The relay's limits for file transfer (Specs/chat-protocol.md, section 4.12).
public struct FileRelayLimits: Sendable, Hashable {
    /// The largest file the relay forwards (`relay --max-file-size`); a larger offer is refused with
    /// FILE_CANCELLED `tooLarge`.
    public var maximumFileSize: UInt64 = 4 << 30
    /// The bytes the relay lets a recipient's running transfers have in flight beyond what it confirmed,
    /// shared among them. Kept well under half the send-queue cap (1 MiB), so that a file never makes a
    /// recipient "congested" and holds back the chat of its rooms (RelayCore+Backpressure.swift).
    /// 256 KiB, not 128: under loss a repair on either hop holds the window up for a round trip or
    /// more; in alternating runs the larger window moved files faster at 0 and 1 % loss, with no
    /// slower chat beside them (README, "The seventh pass").
    public var recipientWindow: UInt64 = 256 << 10
    /// An offer not accepted or rejected within this long expires (FILE_CANCELLED `expired` to both).
    public var offerTimeout: Duration = .seconds(300)
    /// The most transfers (sending and receiving, running or offered) one user may be part of.
    public var maximumTransfersPerUser = 32

    /// The defaults.
    public init() {}
}

/// One recipient's transfer of an offer, as the relay tracks it: no file bytes, only positions.
struct RelayTransfer: Sendable, Hashable {
    let id: UInt64
    let offerID: UInt64
    /// Both ends move when a peer roams (RelayCore+Roaming.swift).
    var sender: Endpoint
    var recipient: Endpoint
    let senderName: String
    let recipientName: String
    let size: UInt64
    /// Unanswered offers expire at this time; nil once accepted.
    var expiry: Timestamp?
    /// The next byte the sender must send (chunks arrive in order, from the accepted offset).
    var nextOffset: UInt64 = 0
    /// Every byte before this the recipient has written.
    var confirmed: UInt64 = 0
    /// The sender may send bytes before this.
    var limit: UInt64 = 0

    var isAccepted: Bool { expiry == nil }
}

/// The relay's transfers, by id. Ids are given out in order from 1 and never reused in one run.
struct RelayTransferTable: Sendable {
    var transfers: [UInt64: RelayTransfer] = [:]
    var nextID: UInt64 = 1

    func involving(_ endpoint: Endpoint) -> [RelayTransfer] {
        transfers.values.filter { $0.sender == endpoint || $0.recipient == endpoint }.sorted { $0.id < $1.id }
    }

    var nextExpiry: Timestamp? { transfers.values.compactMap(\.expiry).min() }

    /// A peer answered a path check from `new`: its transfers follow it.
    mutating func move(_ old: Endpoint, to new: Endpoint) {
        for id in Array(transfers.keys) {
            if transfers[id]?.sender == old { transfers[id]?.sender = new }
            if transfers[id]?.recipient == old { transfers[id]?.recipient = new }
        }
    }
}

extension RelayCore {
    /// Acts on one file message from a joined peer (Specs/chat-protocol.md, section 4.12).
    mutating func handleFileMessage(_ message: ClientMessage, from endpoint: Endpoint, at now: Timestamp) {
        switch message {
        case let .fileOffer(offer): handleFileOffer(offer, from: endpoint, at: now)
        case let .fileAccept(transfer, offset): handleFileAccept(transfer, offset: offset, from: endpoint, at: now)
        case let .fileCancel(id, reason, text): handleFileCancel(id, reason: reason, text: text, from: endpoint, at: now)
        case let .fileChunk(transfer, offset, bytes): handleFileChunk(transfer, offset: offset, bytes: bytes, from: endpoint, at: now)
        case let .fileConfirm(transfer, offset): handleFileConfirm(transfer, offset: offset, from: endpoint, at: now)
        case let .fileDone(transfer, result): handleFileDone(transfer, result: result, from: endpoint, at: now)
        default: break
        }
    }

    /// Whether a file offer's name may be forwarded: 1 to 255 bytes, no `/`, `\` or control characters.
    /// (The recipient makes its own safe name anyway; this keeps junk off the wire.)
    static func isAcceptableFileName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= FileTransferLimits.maximumNameLength else { return false }
        return !name.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F }
    }

    private mutating func refuseOffer(_ offer: FileOffer, _ reason: FileCancelReason, _ text: String,
                                      to endpoint: Endpoint, at now: Timestamp) {
        statistics.fileOffersRefused += 1
        log(.debug, .error, at: now, "\(endpoint): file offer \(offer.offerID) refused: \(SafeText.loggable(text, limit: 200))")
        send(.fileCancelled(offerID: offer.offerID, transfer: 0, reason: reason, by: "",
                            text: Self.bounded(text, to: Self.errorTextLimit)), to: endpoint, at: now)
    }

    private mutating func handleFileOffer(_ offer: FileOffer, from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        let limits = configuration.files
        guard offer.size <= limits.maximumFileSize else {
            return refuseOffer(offer, .tooLarge, "The file is \(offer.size) bytes; this relay forwards at most \(limits.maximumFileSize)",
                               to: endpoint, at: now)
        }
        guard offer.offerID != 0 else { return refuseOffer(offer, .refused, "Offer id 0 is reserved", to: endpoint, at: now) }
        guard Self.isAcceptableFileName(offer.name) else {
            return refuseOffer(offer, .refused, "Invalid file name \(quoted(offer.name))", to: endpoint, at: now)
        }
        let mine = fileTransfers.involving(endpoint)
        guard !mine.contains(where: { $0.sender == endpoint && $0.offerID == offer.offerID }) else {
            return refuseOffer(offer, .refused, "Offer id \(offer.offerID) is already in use", to: endpoint, at: now)
        }
        var recipients: [Endpoint] = []
        if offer.target.hasPrefix("#") {
            let key = ChatNames.canonical(offer.target)
            guard peer.rooms.contains(key), let room = rooms[key] else {
                return refuseOffer(offer, .refused, "You are not in \(quoted(offer.target))", to: endpoint, at: now)
            }
            recipients = room.members.filter { $0 != endpoint }
            guard !recipients.isEmpty else {
                return refuseOffer(offer, .refused, "Nobody else is in \(quoted(offer.target))", to: endpoint, at: now)
            }
        } else {
            guard let recipient = names[ChatNames.skeleton(offer.target)], recipient != endpoint,
                  let holder = peers[recipient], ChatNames.canonical(holder.name) == ChatNames.canonical(offer.target) else {
                return refuseOffer(offer, .refused, "No such user: \(quoted(offer.target))", to: endpoint, at: now)
            }
            recipients = [recipient]
        }
        guard mine.count + recipients.count <= limits.maximumTransfersPerUser else {
            return refuseOffer(offer, .refused, "Too many transfers: at most \(limits.maximumTransfersPerUser) at once",
                               to: endpoint, at: now)
        }
        let expiresIn = UInt32(clamping: limits.offerTimeout.components.seconds)
        for recipient in recipients {
            guard let holder = peers[recipient] else { continue }
            if fileTransfers.involving(recipient).count >= limits.maximumTransfersPerUser {
                send(.fileCancelled(offerID: offer.offerID, transfer: 0, reason: .refused, by: holder.name,
                                    text: "\(holder.name) has too many transfers"), to: endpoint, at: now)
                continue
            }
            let id = fileTransfers.nextID
            fileTransfers.nextID += 1
            fileTransfers.transfers[id] = RelayTransfer(id: id, offerID: offer.offerID, sender: endpoint, recipient: recipient,
                                                        senderName: peer.name, recipientName: holder.name, size: offer.size,
                                                        expiry: now + limits.offerTimeout)
            statistics.fileTransfersOffered += 1
            log(.info, .membership, at: now, "\(quoted(peer.name)) offers \(quoted(holder.name)) a file of \(offer.size) bytes (transfer \(id))")
            send(.fileOffered(FileOffered(transferID: id, from: peer.name, target: offer.target.hasPrefix("#") ? (rooms[ChatNames.canonical(offer.target)]?.name ?? offer.target) : holder.name,
                                          name: offer.name, size: offer.size, digest: offer.digest, expiresIn: expiresIn)),
                 to: recipient, at: now)
        }
    }

    /// The transfer `id` if `endpoint` is its recipient; otherwise counts the message as stray.
    private mutating func transfer(_ id: UInt64, receivedBy endpoint: Endpoint) -> RelayTransfer? {
        guard let transfer = fileTransfers.transfers[id], transfer.recipient == endpoint else {
            statistics.fileMessagesIgnored += 1
            return nil
        }
        return transfer
    }

    /// What the sender of `transfer` may send up to: the recipient's window shared among its running
    /// transfers, past what it confirmed, never past the end of the file.
    private func creditLimit(_ transfer: RelayTransfer) -> UInt64 {
        let running = UInt64(max(1, fileTransfers.transfers.values.count { $0.recipient == transfer.recipient && $0.isAccepted }))
        let window = max(UInt64(FileTransferLimits.maximumChunkSize), configuration.files.recipientWindow / running)
        return min(transfer.size, transfer.confirmed + window)
    }

    private mutating func handleFileAccept(_ id: UInt64, offset: UInt64, from endpoint: Endpoint, at now: Timestamp) {
        guard var transfer = transfer(id, receivedBy: endpoint), !transfer.isAccepted, offset <= transfer.size else { return }
        transfer.expiry = nil
        transfer.nextOffset = offset
        transfer.confirmed = offset
        fileTransfers.transfers[id] = transfer
        transfer.limit = creditLimit(transfer)
        fileTransfers.transfers[id] = transfer
        log(.info, .membership, at: now, "\(quoted(transfer.recipientName)) accepted transfer \(id) at offset \(offset)")
        send(.fileAccepted(offerID: transfer.offerID, transfer: id, by: transfer.recipientName, offset: offset, limit: transfer.limit),
             to: transfer.sender, at: now)
    }

    private mutating func handleFileCancel(_ id: UInt64, reason: FileCancelReason, text: String, from endpoint: Endpoint,
                                           at now: Timestamp) {
        let text = Self.bounded(text, to: ChatLimits.maximumReasonLength)
        if let transfer = fileTransfers.transfers[id], transfer.recipient == endpoint {
            endTransfer(transfer, reason: reason, text: text, by: transfer.recipientName, notify: [transfer.sender], at: now)
            return
        }
        // A sender names its offer id (every transfer of the offer) or one transfer's id.
        let ended = fileTransfers.involving(endpoint).filter { $0.sender == endpoint && ($0.offerID == id || $0.id == id) }
        guard !ended.isEmpty else {
            statistics.fileMessagesIgnored += 1
            return
        }
        for transfer in ended {
            endTransfer(transfer, reason: reason, text: text, by: transfer.senderName, notify: [transfer.recipient], at: now)
        }
    }

    private mutating func handleFileChunk(_ id: UInt64, offset: UInt64, bytes: [UInt8], from endpoint: Endpoint, at now: Timestamp) {
        guard var transfer = fileTransfers.transfers[id], transfer.sender == endpoint, transfer.isAccepted else {
            // Chunks still in flight when a transfer ends are expected: counted, dropped, not answered.
            statistics.fileMessagesIgnored += 1
            return
        }
        let end = offset.addingReportingOverflow(UInt64(bytes.count))
        guard offset == transfer.nextOffset, !end.overflow, end.partialValue <= transfer.limit else {
            let problem = offset != transfer.nextOffset
                ? "chunk at offset \(offset), expected \(transfer.nextOffset)"
                : "chunk beyond the window (to \(end.partialValue), limit \(transfer.limit))"
            log(.info, .error, at: now, "\(endpoint): transfer \(id) failed: \(problem)")
            return endTransfer(transfer, reason: .failed, text: problem, by: "", notify: [transfer.sender, transfer.recipient], at: now)
        }
        guard !bytes.isEmpty else { return }
        if let queued = connections[transfer.recipient]?.queuedBytes(on: .bulk),
           queued + bytes.count + 64 > connectionConfiguration.bulkSendQueueLimit {
            // Credit keeps this from happening; if it does, the transfer fails rather than the chunk vanishing.
            return endTransfer(transfer, reason: .failed, text: "the recipient's queue is full", by: "",
                               notify: [transfer.sender, transfer.recipient], at: now)
        }
        transfer.nextOffset = end.partialValue
        fileTransfers.transfers[id] = transfer
        statistics.fileBytesForwarded += bytes.count
        // To a UDP recipient on the bulk channel, below its chat (Specs/reliability.md, "The bulk channel").
        send(encoded: RelayMessage.fileChunk(transfer: id, offset: offset, bytes: bytes).encoded(), to: transfer.recipient, at: now,
             channel: .bulk)
    }

    private mutating func handleFileConfirm(_ id: UInt64, offset: UInt64, from endpoint: Endpoint, at now: Timestamp) {
        guard var transfer = transfer(id, receivedBy: endpoint), transfer.isAccepted,
              offset >= transfer.confirmed, offset <= transfer.nextOffset else { return }
        transfer.confirmed = offset
        transfer.limit = max(transfer.limit, creditLimit(transfer))
        fileTransfers.transfers[id] = transfer
        send(.fileCredit(transfer: id, confirmed: offset, limit: transfer.limit), to: transfer.sender, at: now)
    }

    private mutating func handleFileDone(_ id: UInt64, result: FileResult, from endpoint: Endpoint, at now: Timestamp) {
        guard let transfer = transfer(id, receivedBy: endpoint), transfer.isAccepted else { return }
        fileTransfers.transfers[id] = nil
        if result == .verified { statistics.fileTransfersCompleted += 1 }
        log(.info, .membership, at: now, "\(quoted(transfer.recipientName)) finished transfer \(id): \(result == .verified ? "verified" : "SHA-256 mismatch")")
        send(.fileDone(transfer: id, by: transfer.recipientName, result: result), to: transfer.sender, at: now)
    }

    /// Forgets `transfer` and tells `notify` why (the sender hears its offer id, a recipient 0).
    private mutating func endTransfer(_ transfer: RelayTransfer, reason: FileCancelReason, text: String, by name: String,
                                      notify: [Endpoint], at now: Timestamp) {
        guard fileTransfers.transfers.removeValue(forKey: transfer.id) != nil else { return }
        statistics.fileTransfersCancelled += 1
        for endpoint in notify {
            let offerID = endpoint == transfer.sender ? transfer.offerID : 0
            send(.fileCancelled(offerID: offerID, transfer: transfer.id, reason: reason, by: name, text: text), to: endpoint, at: now)
        }
    }

    /// A peer is leaving: its transfers end, and the other side of each hears `interrupted` (offering
    /// the file again after reconnecting resumes it from the recipient's confirmed offset).
    mutating func endTransfers(of endpoint: Endpoint, at now: Timestamp) {
        for transfer in fileTransfers.involving(endpoint) {
            let other = transfer.sender == endpoint ? transfer.recipient : transfer.sender
            let name = transfer.sender == endpoint ? transfer.senderName : transfer.recipientName
            endTransfer(transfer, reason: .interrupted, text: "\(name) disconnected", by: name, notify: [other], at: now)
        }
    }

    /// Ends the offers that were not answered in time.
    mutating func expireFileOffers(at now: Timestamp) {
        let expired = fileTransfers.transfers.values.filter { $0.expiry.map { $0 <= now } ?? false }.sorted { $0.id < $1.id }
        for transfer in expired {
            endTransfer(transfer, reason: .expired, text: "No answer in \(configuration.files.offerTimeout)", by: "",
                        notify: [transfer.sender, transfer.recipient], at: now)
        }
    }
}
