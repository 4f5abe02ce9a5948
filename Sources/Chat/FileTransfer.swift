/// File transfer messages (Specs/chat-protocol.md, section 4.12).
///
/// A sender offers a file (FILE_OFFER) to one user or to a room; the relay gives every recipient its
/// own **transfer** (a relay-assigned id) and sends it FILE_OFFERED. A recipient answers FILE_ACCEPT
/// (with the offset it already has, for a resume) or FILE_CANCEL (reject). The sender then streams
/// FILE_CHUNKs of that transfer, never past the limit the relay granted; the recipient confirms what
/// it has written (FILE_CONFIRM), which the relay turns into FILE_CREDIT for the sender. The recipient
/// checks the whole file's SHA-256 and reports FILE_DONE.

/// The limits of file transfer (Specs/chat-protocol.md, section 4.12).
public enum FileTransferLimits {
    /// The most bytes one FILE_CHUNK carries.
    public static let maximumChunkSize = 16_384
    /// The longest file name in an offer, in UTF-8 bytes.
    public static let maximumNameLength = 255
    /// The size of a SHA-256 digest.
    public static let digestSize = 32
}

/// A file's SHA-256 digest: 32 bytes.
public struct FileDigest: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes.
    public let bytes: [UInt8]
    /// Wraps a digest; nil unless `bytes` has exactly 32 bytes.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == FileTransferLimits.digestSize else { return nil }
        self.bytes = bytes
    }
    /// Sixty-four lower-case hex digits.
    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

/// Why a transfer or an offer ended without a verified file.
public enum FileCancelReason: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The recipient said no (`/reject`).
    case rejected = 0
    /// The sender or the recipient stopped it (`/cancel`).
    case cancelled = 1
    /// No answer within the offer's lifetime.
    case expired = 2
    /// The other side left or lost its connection; offer again to resume.
    case interrupted = 3
    /// Something went wrong: disk full, a chunk out of place or beyond the window.
    case failed = 4
    /// The file is larger than the relay's or the recipient's limit.
    case tooLarge = 5
    /// The relay refused the offer (no such user, not in the room, a bad name, too many transfers).
    case refused = 6

    public var description: String {
        switch self {
        case .rejected: "rejected"
        case .cancelled: "cancelled"
        case .expired: "expired"
        case .interrupted: "interrupted"
        case .failed: "failed"
        case .tooLarge: "too large"
        case .refused: "refused"
        }
    }
}

/// What the recipient found when it checked the whole file.
public enum FileResult: UInt8, Hashable, Sendable, CaseIterable {
    /// The SHA-256 matched: the file is saved under its final name.
    case verified = 0
    /// The SHA-256 did not match: the partial file was deleted.
    case mismatch = 1
}

/// FILE_OFFER: what a sender proposes.
public struct FileOffer: Hashable, Sendable {
    /// The sender's own id for the offer (random, non-zero); the relay answers with it.
    public var offerID: UInt64
    /// A user name, or a room (`#...`) whose other members all get the offer.
    public var target: String
    /// The file's name as the sender suggests it (the recipient makes it safe).
    public var name: String
    /// The size in bytes.
    public var size: UInt64
    /// SHA-256 of the whole file.
    public var digest: FileDigest

    /// Creates an offer.
    public init(offerID: UInt64, target: String, name: String, size: UInt64, digest: FileDigest) {
        self.offerID = offerID
        self.target = target
        self.name = name
        self.size = size
        self.digest = digest
    }
}

/// FILE_OFFERED: an offer as one recipient sees it.
public struct FileOffered: Hashable, Sendable {
    /// The relay's id of this recipient's transfer.
    public var transferID: UInt64
    /// Who offers it.
    public var from: String
    /// The room it was offered in, or the recipient's own name.
    public var target: String
    /// The name the sender suggests.
    public var name: String
    /// The size in bytes.
    public var size: UInt64
    /// SHA-256 of the whole file.
    public var digest: FileDigest
    /// Seconds until the offer expires unanswered.
    public var expiresIn: UInt32

    /// Creates an offer as seen by a recipient.
    public init(transferID: UInt64, from: String, target: String, name: String, size: UInt64, digest: FileDigest,
                expiresIn: UInt32) {
        self.transferID = transferID
        self.from = from
        self.target = target
        self.name = name
        self.size = size
        self.digest = digest
        self.expiresIn = expiresIn
    }
}

/// The type bytes of file messages (Specs/chat-protocol.md, section 3).
enum FileMessageType {
    static let offer: UInt8 = 0x18, accept: UInt8 = 0x19, cancel: UInt8 = 0x1A, chunk: UInt8 = 0x1B
    static let confirm: UInt8 = 0x1C, done: UInt8 = 0x1D
    static let offered: UInt8 = 0x98, accepted: UInt8 = 0x99, cancelled: UInt8 = 0x9A, relayedChunk: UInt8 = 0x9B
    static let credit: UInt8 = 0x9C, finished: UInt8 = 0x9D
    static let clientTypes: ClosedRange<UInt8> = 0x18...0x1D
    static let relayTypes: ClosedRange<UInt8> = 0x98...0x9D
}

extension ByteWriter {
    mutating func write(_ digest: FileDigest) { writeRaw(digest.bytes) }

    /// A chunk's bytes: `u16` length, then the bytes.
    mutating func writeChunk(_ chunk: [UInt8]) {
        let kept = chunk.prefix(Int(UInt16.max))
        write(UInt16(kept.count))
        writeRaw(kept)
    }
}

extension ByteReader {
    mutating func readDigest() throws(ChatDecodingError) -> FileDigest {
        FileDigest(try readBytes("sha-256", count: FileTransferLimits.digestSize))!
    }

    /// A chunk: `u16` length (at most `FileTransferLimits.maximumChunkSize`), then the bytes.
    mutating func readChunk() throws(ChatDecodingError) -> [UInt8] {
        let count = Int(try readUInt16("chunk length"))
        guard count <= FileTransferLimits.maximumChunkSize else { throw .truncated(field: "chunk (over 16384 bytes)") }
        return try readBytes("chunk", count: count)
    }

    mutating func readCancelReason() throws(ChatDecodingError) -> FileCancelReason {
        let raw = try readUInt8("reason")
        guard let reason = FileCancelReason(rawValue: raw) else { throw .unknownCode(field: "reason", value: raw) }
        return reason
    }

    mutating func readFileResult() throws(ChatDecodingError) -> FileResult {
        let raw = try readUInt8("result")
        guard let result = FileResult(rawValue: raw) else { throw .unknownCode(field: "result", value: raw) }
        return result
    }
}

extension ClientMessage {
    /// Whether `type` is the type byte of a client's file message (0x18-0x1D).
    public static func isFileMessageType(_ type: UInt8) -> Bool { FileMessageType.clientTypes.contains(type) }

    /// Whether this is one of the file messages of section 4.12.
    public var isFileMessage: Bool {
        switch self {
        case .fileOffer, .fileAccept, .fileCancel, .fileChunk, .fileConfirm, .fileDone: true
        default: false
        }
    }

    func encodedFileMessage() -> [UInt8]? {
        switch self {
        case let .fileOffer(offer):
            var writer = ByteWriter(type: FileMessageType.offer)
            writer.write(offer.offerID)
            writer.write(offer.target)
            writer.write(offer.name)
            writer.write(offer.size)
            writer.write(offer.digest)
            return writer.bytes
        case let .fileAccept(transfer, offset):
            var writer = ByteWriter(type: FileMessageType.accept)
            writer.write(transfer)
            writer.write(offset)
            return writer.bytes
        case let .fileCancel(id, reason, text):
            var writer = ByteWriter(type: FileMessageType.cancel)
            writer.write(id)
            writer.write(reason.rawValue)
            writer.write(text)
            return writer.bytes
        case let .fileChunk(transfer, offset, bytes):
            var writer = ByteWriter(type: FileMessageType.chunk)
            writer.write(transfer)
            writer.write(offset)
            writer.writeChunk(bytes)
            return writer.bytes
        case let .fileConfirm(transfer, offset):
            var writer = ByteWriter(type: FileMessageType.confirm)
            writer.write(transfer)
            writer.write(offset)
            return writer.bytes
        case let .fileDone(transfer, result):
            var writer = ByteWriter(type: FileMessageType.done)
            writer.write(transfer)
            writer.write(result.rawValue)
            return writer.bytes
        default:
            return nil
        }
    }

    static func decodeFileMessage(_ type: UInt8, _ reader: inout ByteReader) throws(ChatDecodingError) -> ClientMessage {
        switch type {
        case FileMessageType.offer:
            let offerID = try reader.readUInt64("offer id")
            let target = try reader.readString("target")
            let name = try reader.readString("name")
            let size = try reader.readUInt64("size")
            return .fileOffer(FileOffer(offerID: offerID, target: target, name: name, size: size, digest: try reader.readDigest()))
        case FileMessageType.accept:
            let transfer = try reader.readUInt64("transfer id")
            return .fileAccept(transfer: transfer, offset: try reader.readUInt64("offset"))
        case FileMessageType.cancel:
            let id = try reader.readUInt64("id")
            let reason = try reader.readCancelReason()
            return .fileCancel(id: id, reason: reason, text: try reader.readString("text"))
        case FileMessageType.chunk:
            let transfer = try reader.readUInt64("transfer id")
            let offset = try reader.readUInt64("offset")
            return .fileChunk(transfer: transfer, offset: offset, bytes: try reader.readChunk())
        case FileMessageType.confirm:
            let transfer = try reader.readUInt64("transfer id")
            return .fileConfirm(transfer: transfer, offset: try reader.readUInt64("offset"))
        default:
            let transfer = try reader.readUInt64("transfer id")
            return .fileDone(transfer: transfer, result: try reader.readFileResult())
        }
    }
}

extension RelayMessage {
    func encodedFileMessage() -> [UInt8]? {
        switch self {
        case let .fileOffered(offer):
            var writer = ByteWriter(type: FileMessageType.offered)
            writer.write(offer.transferID)
            writer.write(offer.from)
            writer.write(offer.target)
            writer.write(offer.name)
            writer.write(offer.size)
            writer.write(offer.digest)
            writer.write(offer.expiresIn)
            return writer.bytes
        case let .fileAccepted(offerID, transfer, by, offset, limit):
            var writer = ByteWriter(type: FileMessageType.accepted)
            writer.write(offerID)
            writer.write(transfer)
            writer.write(by)
            writer.write(offset)
            writer.write(limit)
            return writer.bytes
        case let .fileCancelled(offerID, transfer, reason, by, text):
            var writer = ByteWriter(type: FileMessageType.cancelled)
            writer.write(offerID)
            writer.write(transfer)
            writer.write(reason.rawValue)
            writer.write(by)
            writer.write(text)
            return writer.bytes
        case let .fileChunk(transfer, offset, bytes):
            var writer = ByteWriter(type: FileMessageType.relayedChunk)
            writer.write(transfer)
            writer.write(offset)
            writer.writeChunk(bytes)
            return writer.bytes
        case let .fileCredit(transfer, confirmed, limit):
            var writer = ByteWriter(type: FileMessageType.credit)
            writer.write(transfer)
            writer.write(confirmed)
            writer.write(limit)
            return writer.bytes
        case let .fileDone(transfer, by, result):
            var writer = ByteWriter(type: FileMessageType.finished)
            writer.write(transfer)
            writer.write(by)
            writer.write(result.rawValue)
            return writer.bytes
        default:
            return nil
        }
    }

    static func decodeFileMessage(_ type: UInt8, _ reader: inout ByteReader) throws(ChatDecodingError) -> RelayMessage {
        switch type {
        case FileMessageType.offered:
            let transfer = try reader.readUInt64("transfer id")
            let from = try reader.readString("from")
            let target = try reader.readString("target")
            let name = try reader.readString("name")
            let size = try reader.readUInt64("size")
            let digest = try reader.readDigest()
            return .fileOffered(FileOffered(transferID: transfer, from: from, target: target, name: name, size: size,
                                            digest: digest, expiresIn: try reader.readUInt32("expires in")))
        case FileMessageType.accepted:
            let offerID = try reader.readUInt64("offer id")
            let transfer = try reader.readUInt64("transfer id")
            let by = try reader.readString("by")
            let offset = try reader.readUInt64("offset")
            return .fileAccepted(offerID: offerID, transfer: transfer, by: by, offset: offset, limit: try reader.readUInt64("limit"))
        case FileMessageType.cancelled:
            let offerID = try reader.readUInt64("offer id")
            let transfer = try reader.readUInt64("transfer id")
            let reason = try reader.readCancelReason()
            let by = try reader.readString("by")
            return .fileCancelled(offerID: offerID, transfer: transfer, reason: reason, by: by, text: try reader.readString("text"))
        case FileMessageType.relayedChunk:
            let transfer = try reader.readUInt64("transfer id")
            let offset = try reader.readUInt64("offset")
            return .fileChunk(transfer: transfer, offset: offset, bytes: try reader.readChunk())
        case FileMessageType.credit:
            let transfer = try reader.readUInt64("transfer id")
            let confirmed = try reader.readUInt64("confirmed")
            return .fileCredit(transfer: transfer, confirmed: confirmed, limit: try reader.readUInt64("limit"))
        default:
            let transfer = try reader.readUInt64("transfer id")
            let by = try reader.readString("by")
            return .fileDone(transfer: transfer, by: by, result: try reader.readFileResult())
        }
    }
}
