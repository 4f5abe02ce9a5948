/// The names a recipient saves offered files under (Specs/chat-protocol.md, section 4.12, "Names").
public enum FileNames {
    /// The offered name made safe for one directory: only its last path component, without control,
    /// bidirectional or zero-width characters (`SafeText`), without `/`, `\`, NUL or leading dots
    /// (no hidden files), at most 200 bytes; `file` when nothing is left (or only `..`).
    public static func safe(_ offered: String) -> String {
        let lastComponent = offered.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var name = SafeText.sanitized(lastComponent).filter { $0 != "\0" && $0 != "/" && $0 != "\\" }
        while name.hasPrefix(".") || name.hasPrefix(" ") { name.removeFirst() }
        while name.hasSuffix(" ") { name.removeLast() }
        while name.utf8.count > 200 { name.removeLast() }
        return name.isEmpty ? "file" : name
    }

    /// The `attempt`-th name to try when `name` is taken: `name (1).ext`, `name (2).ext`, ...
    /// (`attempt` 0 is `name` itself). The extension is what follows the last dot, if any.
    public static func numbered(_ name: String, attempt: Int) -> String {
        guard attempt > 0 else { return name }
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return "\(name[..<dot]) (\(attempt))\(name[dot...])"
        }
        return "\(name) (\(attempt))"
    }
}
