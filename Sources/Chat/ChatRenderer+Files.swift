/// The lines for file messages (Specs/chat-protocol.md, section 4.12). Chunks and credit show nothing:
/// the client's transfer table draws progress.
extension ChatRenderer {
    static func renderFileMessage(_ message: RelayMessage, time: String) -> [String] {
        switch message {
        case let .fileOffered(offer):
            let place = offer.target.hasPrefix("#") ? " in \(SafeText.sanitized(offer.target))" : ""
            return [status("\(SafeText.sanitized(offer.from)) offers \(quotedName(offer.name)) (\(byteCount(offer.size)))\(place): "
                           + "/accept \(offer.transferID) or /reject \(offer.transferID) (expires in \(offer.expiresIn) s)", time: time)]
        case let .fileAccepted(_, transfer, by, offset, _):
            let from = offset == 0 ? "" : ", resuming at \(byteCount(offset))"
            return [status("\(SafeText.sanitized(by)) accepted transfer \(transfer)\(from)", time: time)]
        case let .fileCancelled(offerID, transfer, reason, by, text):
            let what = transfer == 0 ? "Offer \(offerID)" : "Transfer \(transfer)"
            let who = by.isEmpty ? "" : " by \(SafeText.sanitized(by))"
            let why = text.isEmpty ? "" : ": \(SafeText.sanitized(text))"
            return [status("\(what) \(reason)\(who)\(why)", time: time)]
        case let .fileDone(transfer, by, result):
            return [status(result == .verified ? "\(SafeText.sanitized(by)) received transfer \(transfer), SHA-256 verified"
                           : "\(SafeText.sanitized(by)) got transfer \(transfer) with a SHA-256 mismatch; the partial file was deleted",
                           time: time)]
        default:
            return []
        }
    }

    /// A file name as offered, sanitised and quoted: `"report.pdf"`.
    public static func quotedName(_ name: String) -> String { "\"\(SafeText.sanitized(name))\"" }

    /// `999 B`, `1.5 KiB`, `64.0 MiB`, `1.2 GiB` (one decimal, no Foundation).
    public static func byteCount(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var unit = 0
        var scaled = bytes
        while scaled >= 1024 * 1024, unit < units.count - 2 { scaled /= 1024; unit += 1 }
        if bytes < 1024 { return "\(bytes) B" }
        let tenths = scaled * 10 / 1024
        return "\(tenths / 10).\(tenths % 10) \(units[unit + 1])"
    }
}
