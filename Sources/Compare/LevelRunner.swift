import Foundation

/// A run that could not complete, in words for the table's notes.
struct RunFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs every mode and baseline at one loss level, one after another, reporting progress on stderr.
///
/// Modes run in turn, never at once, so each has both cores to itself; each run starts with a warm-up
/// that is not recorded.
struct LevelRunner {
    var options: Options
    var seed: UInt64
    var lossKind: LossKind

    /// Measures all modes at `lossPercent`.
    func run(lossPercent: Int) -> LevelResult {
        LevelResult(lossPercent: lossPercent, results: Mode.allCases.map { run($0, lossPercent: lossPercent) })
    }

    private func run(_ mode: Mode, lossPercent: Int) -> ModeResult {
        let isLossApplied = lossKind == .kernel || mode.isDatagram
        var result = ModeResult(mode: mode, isLossApplied: isLossApplied)
        let simulatedLoss = lossKind == .simulated && mode.isDatagram ? Double(lossPercent) / 100 : 0
        let label = "[\(lossPercent)% \(mode.rawValue)]"
        result.chat = measure(label + " chat latency, \(options.messageCount) messages", into: &result) {
            if mode.isBaseline { return try Baselines.chat(mode, options: options) }
            if mode == .udpPointToPoint { return try PointToPoint.chat(simulatedLoss: simulatedLoss, options: options, seed: seed) }
            return try RelayedModes.chat(mode, simulatedLoss: simulatedLoss, options: options, seed: seed)
        }
        if let chat = result.chat, !mode.isBaseline, chat.delivered < chat.sent {
            result.isFailed = true
            result.notes.append("only \(chat.delivered) of \(chat.sent) reliable messages were delivered")
        }
        result.bulk = measure(label + " bulk, \(formatBytes(options.bulkBytes))", into: &result) {
            if mode.isBaseline { return try Baselines.bulk(mode, options: options) }
            if mode == .udpPointToPoint { return try PointToPoint.bulk(simulatedLoss: simulatedLoss, options: options, seed: seed) }
            return try RelayedModes.bulk(mode, simulatedLoss: simulatedLoss, options: options, seed: seed)
        }
        if options.fileBytes > 0, mode == .udp || mode == .tcp {
            result.file = measure(label + " chat during a \(formatBytes(options.fileBytes)) file", into: &result) {
                try RelayedModes.chatDuringFile(mode, simulatedLoss: simulatedLoss, options: options, seed: seed)
            }
        }
        if let bulk = result.bulk, mode == .udpEcho, bulk.bytesDelivered < bulk.bytesSent {
            let lost = 100 * Double(bulk.bytesSent - bulk.bytesDelivered) / Double(bulk.bytesSent)
            result.notes.append("plain UDP bulk lost \(formatSignificant(lost)) % of its bytes (no recovery)")
        }
        return result
    }

    private func measure<Figures>(_ label: String, into result: inout ModeResult,
                                  _ body: () throws -> Figures) -> Figures? {
        Progress.start(label)
        let started = ContinuousClock.now
        do {
            let figures = try body()
            Progress.finish("done in \(formatSignificant((ContinuousClock.now - started).seconds)) s")
            return figures
        } catch {
            Progress.finish("FAILED: \(error)")
            result.isFailed = true
            result.notes.append("\(label.split(separator: "]").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? label) failed: \(error)")
            return nil
        }
    }
}

/// Progress lines on standard error, so stdout stays the table or the JSON.
enum Progress {
    static func start(_ text: String) {
        FileHandle.standardError.write(Data("\(text) ... ".utf8))
    }

    static func finish(_ text: String) {
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }

    static func line(_ text: String) {
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }
}
