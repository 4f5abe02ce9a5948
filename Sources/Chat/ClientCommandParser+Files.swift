extension ClientCommand {
    /// `/send PATH NAME|#room`, `/accept [ID] [DIR]`, `/reject [ID]`, `/transfers`, `/cancel ID`.
    private static func fileUsageError(_ command: String, _ problem: String) -> CommandError {
        .invalidArguments(command: command, problem: problem, usage: usage.first { $0.command == command }?.usage ?? "/\(command)")
    }

    static func parseFileCommand(_ command: String, _ arguments: String) throws(CommandError) -> ClientCommand {
        func transferID(_ text: Substring) throws(CommandError) -> UInt64 {
            guard let id = UInt64(text), id > 0 else {
                throw fileUsageError(command, "'\(text)' is not a transfer id (see /transfers)")
            }
            return id
        }
        let words = arguments.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        switch command {
        case "send":
            guard let space = arguments.lastIndex(of: " ") else {
                throw fileUsageError(command, "Missing path or target")
            }
            let path = String(arguments[..<space]).trimmingWhitespace()
            let target = String(arguments[arguments.index(after: space)...])
            guard !path.isEmpty, !target.isEmpty else { throw fileUsageError(command, "Missing path or target") }
            if target.hasPrefix("#") {
                do throws(NameError) { try ChatNames.validateRoomName(target) } catch {
                    throw fileUsageError(command, "Invalid room '\(target)': \(error)")
                }
            } else {
                do throws(NameError) { try ChatNames.validateUserName(target) } catch {
                    throw fileUsageError(command, "Invalid name '\(target)': \(error)")
                }
            }
            return .sendFile(path: path, to: target)
        case "accept":
            guard let first = words.first else { return .acceptFile(id: nil, directory: nil) }
            if let id = UInt64(first), id > 0 {
                return .acceptFile(id: id, directory: words.count > 1 ? String(words[1]) : nil)
            }
            return .acceptFile(id: nil, directory: arguments)
        case "reject":
            return .rejectFile(id: try words.first.map { (word) throws(CommandError) in try transferID(word) })
        case "cancel":
            guard let first = words.first, words.count == 1 else {
                throw fileUsageError(command, "Missing transfer id (see /transfers)")
            }
            return .cancelFile(id: try transferID(first))
        default:
            guard arguments.isEmpty else { throw fileUsageError(command, "/transfers takes no arguments") }
            return .transfers
        }
    }
}
