import Chat
import ChatClientCore
import Foundation
import Transport

/// What the client remembers about file transfers for display: the last progress step printed per
/// transfer in line mode, and the progress text shown in the prompt on a terminal.
final class FileProgress: @unchecked Sendable { // guarded by `lock`
    private let lock = NSLock()
    private var printedSteps: [UInt64: UInt64] = [:]
    private var promptText: String?

    var prompt: String? { lock.withLock { promptText } }

    func setPrompt(_ text: String?) -> Bool {
        lock.withLock {
            defer { promptText = text }
            return promptText != text
        }
    }

    /// True when `step` is past the last one printed for `id` (and remembers it).
    func isNewStep(_ step: UInt64, for id: UInt64) -> Bool {
        lock.withLock {
            guard (printedSteps[id] ?? 0) < step else { return false }
            printedSteps[id] = step
            return true
        }
    }
}

extension ChatApp {
    // MARK: Events

    func handleFile(_ event: FileTransferEvent) {
        let time = WallClock.timeOfDay()
        switch event {
        case let .offered(offer):
            for line in ChatRenderer.render(.fileOffered(offer), time: time, currentRoom: nil) { console.print(line) }
            if offer.size > options.maximumFileSize {
                _ = session.cancelFile(offer.transferID, reason: .tooLarge, text: "over the recipient's limit of \(options.maximumFileSize) bytes")
                fileStatus("Refused \(ChatRenderer.quotedName(offer.name)): \(ChatRenderer.byteCount(offer.size)) is over --max-file-size "
                    + "(\(ChatRenderer.byteCount(options.maximumFileSize)))")
            } else if options.acceptsFiles {
                accept(offer.transferID, into: nil)
            }
        case let .resumed(transfer, name, offset):
            fileStatus("Resuming \(ChatRenderer.quotedName(name)) at \(ChatRenderer.byteCount(offset)) (transfer \(transfer))")
        case let .received(transfer, from, path, size):
            fileStatus("Received \(SafeText.sanitized(path)) (\(ChatRenderer.byteCount(size))) from \(SafeText.sanitized(from)), "
                + "SHA-256 verified (transfer \(transfer))")
        case let .mismatch(transfer, name):
            fileStatus("Transfer \(transfer) of \(ChatRenderer.quotedName(name)) failed its SHA-256 check; the partial file was deleted")
        case let .ended(transfer, name, reason, detail):
            fileStatus("Transfer \(transfer) of \(ChatRenderer.quotedName(name)) \(reason)\(detail.isEmpty ? "" : " (\(SafeText.sanitized(detail)))")")
        case let .interrupted(transfer, name, at):
            fileStatus("Transfer \(transfer) of \(ChatRenderer.quotedName(name)) interrupted at \(ChatRenderer.byteCount(at)); "
                + "it resumes from there when both sides are back")
        case let .accepted(transfer, by, name, offset):
            fileStatus("\(SafeText.sanitized(by)) accepted \(ChatRenderer.quotedName(name)) (transfer \(transfer))"
                + (offset > 0 ? ", resuming at \(ChatRenderer.byteCount(offset))" : ""))
        case let .delivered(transfer, by, name, verified):
            fileStatus(verified ? "\(SafeText.sanitized(by)) received \(ChatRenderer.quotedName(name)), SHA-256 verified (transfer \(transfer))"
                : "\(SafeText.sanitized(by)) got \(ChatRenderer.quotedName(name)) with a SHA-256 mismatch (transfer \(transfer))")
        }
    }

    private func fileStatus(_ text: String) {
        console.print(ChatRenderer.status(text, time: WallClock.timeOfDay()))
    }

    // MARK: Commands

    func performFile(_ command: ClientCommand) {
        switch command {
        case let .sendFile(path, target):
            sendFile(path: (path as NSString).expandingTildeInPath, to: target)
        case let .acceptFile(id, directory):
            guard let id = id ?? onlyOffer() else { return }
            accept(id, into: directory.map { ($0 as NSString).expandingTildeInPath })
        case let .rejectFile(id):
            guard let id = id ?? onlyOffer() else { return }
            if !session.cancelFile(id, reason: .rejected) { fileStatus("No offer \(id) (see /transfers)") }
        case let .cancelFile(id):
            if !session.cancelFile(id, reason: .cancelled) { fileStatus("No transfer or offer \(id) (see /transfers)") }
        case .transfers:
            let transfers = session.fileTransfers
            if transfers.isEmpty { fileStatus("No file transfers") }
            for transfer in transfers { fileStatus(Self.describe(transfer)) }
        default:
            break
        }
    }

    private func sendFile(path: String, to target: String) {
        let source: LocalFileSource
        do {
            source = try LocalFileSource(path: path)
        } catch {
            return fileStatus("Cannot send \(SafeText.sanitized(path)): \(error)")
        }
        let name = FileNames.safe((path as NSString).lastPathComponent)
        let id = session.offerFile(to: target, name: name, size: source.size, digest: source.digest, source: source)
        fileStatus("Offered \(ChatRenderer.quotedName(name)) (\(ChatRenderer.byteCount(source.size)), SHA-256 \(source.digest.description.prefix(16))…) "
            + "to \(target) (offer \(id); /cancel \(id) withdraws it)")
    }

    /// The one offer waiting for an answer, or nil (after saying why).
    private func onlyOffer() -> UInt64? {
        let offers = session.fileTransfers.filter { $0.direction == .receiving && $0.state == .offered }
        guard offers.count == 1 else {
            fileStatus(offers.isEmpty ? "No file offered to you" : "\(offers.count) offers wait: name one (see /transfers)")
            return nil
        }
        return offers[0].id
    }

    func accept(_ id: UInt64, into directory: String?) {
        guard let offer = session.fileTransfers.first(where: { $0.id == id && $0.direction == .receiving && $0.state == .offered }) else {
            return fileStatus("No offer \(id) (see /transfers)")
        }
        let directory = directory ?? options.downloadDirectory
        do {
            let sink = try LocalFileSink(directory: directory, offeredName: offer.name, transfer: id)
            if session.acceptFile(id, sink: sink) {
                fileStatus("Accepted \(ChatRenderer.quotedName(offer.name)) into \(SafeText.sanitized(directory)) (transfer \(id))")
            } else {
                sink.discard()
            }
        } catch {
            fileStatus("Cannot accept \(ChatRenderer.quotedName(offer.name)): \(error)")
            _ = session.cancelFile(id, reason: .failed, text: "the recipient cannot write the file")
        }
    }

    // MARK: Progress

    /// `3 ↓ "big.bin" from alice  12.0 MiB of 64.0 MiB  18%  5.1 MiB/s  0:10 left`.
    static func describe(_ transfer: FileTransferSummary) -> String {
        let arrow = transfer.direction == .sending ? "↑" : "↓"
        let peer = "\(transfer.direction == .sending ? "to" : "from") \(SafeText.sanitized(transfer.peer))"
        let percent = transfer.size == 0 ? 100 : transfer.done * 100 / transfer.size
        var line = "\(transfer.id) \(arrow) \(ChatRenderer.quotedName(transfer.name)) \(peer)  \(transfer.state.rawValue)  "
            + "\(ChatRenderer.byteCount(transfer.done)) of \(ChatRenderer.byteCount(transfer.size))  \(percent)%"
        if let rate = transfer.rate { line += "  \(ChatRenderer.byteCount(UInt64(rate)))/s" }
        if let left = transfer.secondsLeft { line += "  \(Int(left) / 60):\(String(format: "%02d", Int(left) % 60)) left" }
        return line
    }

    /// A terminal shows the running transfers in the prompt line, redrawn in place; line mode prints
    /// a plain line at each quarter of a transfer.
    func refreshFileProgress() {
        let running = session.fileTransfers.filter { $0.state == .running }
        if isInteractive {
            let text = running.isEmpty ? nil : running.map { transfer in
                let percent = transfer.size == 0 ? 100 : transfer.done * 100 / transfer.size
                let rate = transfer.rate.map { " \(ChatRenderer.byteCount(UInt64($0)))/s" } ?? ""
                let left = transfer.secondsLeft.map { " \(Int($0))s left" } ?? ""
                return "\(transfer.direction == .sending ? "↑" : "↓")\(transfer.name.prefix(20)) \(percent)%\(rate)\(left)"
            }.joined(separator: " | ")
            if fileProgress.setPrompt(text) { refreshPrompt() }
        } else {
            for transfer in running where transfer.size > 0 {
                let step = transfer.done * 4 / transfer.size
                if step > 0, step < 4, fileProgress.isNewStep(step, for: transfer.id) { fileStatus(Self.describe(transfer)) }
            }
        }
    }

    /// Line mode's end of input waits for files being sent or received (and our offers to a user
    /// not yet answered) before it waits for acknowledgements and leaves.
    func waitForFileTransfers(then body: @escaping @Sendable () -> Void) {
        let busy = session.fileTransfers.contains { $0.state == .running || ($0.direction == .sending && !$0.peer.hasPrefix("#")) }
        guard busy, !session.isClosed else { return body() }
        session.queue.dispatchQueue.asyncAfter(deadline: .now() + .milliseconds(100)) { [self] in waitForFileTransfers(then: body) }
    }
}
