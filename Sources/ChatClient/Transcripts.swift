import Chat
import Foundation

/// The client's files: `/ignore`'s list in the configuration directory, `/save`'s default place in the
/// data directory (XDG Base Directory: `$XDG_CONFIG_HOME`, else `~/.config`; `$XDG_DATA_HOME`, else
/// `~/.local/share`; each with `datagram-chat/`).
enum ClientFiles {
    static func configurationDirectory(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        directory(environment["XDG_CONFIG_HOME"], fallback: ".config", environment)
    }

    static func dataDirectory(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        directory(environment["XDG_DATA_HOME"], fallback: ".local/share", environment)
    }

    private static func directory(_ given: String?, fallback: String, _ environment: [String: String]) -> URL {
        let base = given.flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/" + fallback)
        return URL(fileURLWithPath: base).appendingPathComponent("datagram-chat")
    }

    /// `2026-11-30 18:50:00`, local time: the date and time that starts every saved or logged line.
    static func timestamp(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    /// A file name for a room or conversation: `#lobby` stays `#lobby`, anything outside the name
    /// characters becomes `_` (names are ASCII letters, digits, `-`, `_`, `.`, so this is a formality).
    static func fileName(for target: String) -> String {
        let cleaned = String(target.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.#".contains($0)) ? $0 : "_" })
        return cleaned.hasPrefix(".") ? "_" + cleaned : cleaned
    }
}

/// Names whose lines `/ignore` hides, kept one per line in `ignore` in the configuration directory.
struct IgnoreList {
    private(set) var names: [String] = []
    let file: URL

    init(file: URL) {
        self.file = file
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        names = text.split(separator: "\n").map(String.init).filter { (try? ChatNames.validateUserName($0)) != nil }
    }

    func contains(_ name: String) -> Bool {
        names.contains { ChatNames.canonical($0) == ChatNames.canonical(name) }
    }

    mutating func add(_ name: String) throws {
        guard !contains(name) else { return }
        names.append(name)
        try write()
    }

    mutating func remove(_ name: String) throws -> Bool {
        let before = names.count
        names.removeAll { ChatNames.canonical($0) == ChatNames.canonical(name) }
        try write()
        return names.count < before
    }

    private func write() throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(names.map { $0 + "\n" }.joined().utf8).write(to: file, options: .atomic)
    }
}

/// Every room's and conversation's lines as shown, with dates, for `/save`, and appended to per-target
/// files as they happen for `chat --log DIR`.
struct Transcripts {
    /// Lines kept per target for `/save` (the oldest go first).
    static let maximumLinesPerTarget = 10_000
    private(set) var lines: [String: [String]] = [:]
    let logDirectory: URL?

    init(logDirectory: URL?) {
        self.logDirectory = logDirectory
        if let logDirectory { try? FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true) }
    }

    /// Records `line` (already rendered with a date) under `target` (`#room`, or a user's name for a
    /// private conversation), and appends it to the target's log file when logging.
    mutating func record(_ line: String, target: String) {
        lines[target, default: []].append(line)
        if lines[target]!.count > Self.maximumLinesPerTarget { lines[target]!.removeFirst() }
        guard let logDirectory else { return }
        let url = logDirectory.appendingPathComponent(ClientFiles.fileName(for: target) + ".log")
        let data = Data((line + "\n").utf8)
        if let handle = try? FileHandle(forWritingTo: url) {
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: data)
        } else {
            try? data.write(to: url)
        }
    }

    /// Writes `target`'s lines to `file`, one per line; returns how many.
    func save(_ target: String, to file: URL) throws -> Int {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let saved = lines[target] ?? []
        try Data(saved.map { $0 + "\n" }.joined().utf8).write(to: file, options: .atomic)
        return saved.count
    }
}

extension RelayMessage {
    /// The room or conversation a message belongs to in transcripts, or nil for what belongs to none.
    var transcriptTarget: String? {
        switch self {
        case let .message(room, _, _, _, _, _): room
        case let .privateMessage(from, _, _, _, _): from
        case let .notice(notice): notice.room.isEmpty ? nil : notice.room
        default: nil
        }
    }

    /// Who said it, for `/ignore`.
    var speaker: String? {
        switch self {
        case let .message(_, from, _, _, _, _), let .privateMessage(from, _, _, _, _): from
        default: nil
        }
    }
}
