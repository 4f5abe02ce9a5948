/// A minimal line editor for a terminal in raw mode: the line being typed, a cursor, and a history.
///
/// It is pure: `handle(_:)` takes the bytes read from the terminal and returns what happened; the
/// caller draws `visibleLine(width:)` after every change and whenever it prints something above the
/// line being typed. Keys: printable text (UTF-8), Backspace, Delete, Left/Right, Home/End (also
/// Ctrl-A/Ctrl-E), Up/Down for history, Ctrl-U (clear), Ctrl-W (delete word), Enter (submit),
/// Ctrl-C (interrupt), Ctrl-D (end of input on an empty line, else delete).
public struct LineEditor: Sendable {
    /// What a key press did.
    public enum Action: Sendable, Hashable {
        /// The line changed or the cursor moved: draw it again.
        case redraw
        /// Enter was pressed with this text; the editor is empty again.
        case submit(String)
        /// Ctrl-C.
        case interrupt
        /// Ctrl-D on an empty line.
        case endOfInput
    }

    /// What is drawn before the text, for example `[#lobby] `.
    public var prompt: String
    /// The characters typed so far.
    public private(set) var text: [Character] = []
    /// Where the next typed character goes, 0...text.count.
    public private(set) var cursor = 0
    private var history: [String] = []
    private var historyIndex = 0
    private var pendingBytes: [UInt8] = []
    private let historyLimit = 200

    /// Creates an empty editor showing `prompt`.
    public init(prompt: String = "> ") { self.prompt = prompt }

    /// Feeds bytes read from the terminal; returns the actions in order.
    public mutating func handle(_ bytes: [UInt8]) -> [Action] {
        pendingBytes += bytes
        var actions: [Action] = []
        while let action = consumeOne() {
            if let action { actions.append(action) }
        }
        return actions
    }

    /// Consumes one key from `pendingBytes`. Returns nil when more bytes are needed, `.some(nil)`
    /// when a key was consumed that changes nothing.
    private mutating func consumeOne() -> Action?? {
        guard let first = pendingBytes.first else { return nil }
        if first == 0x1B { return consumeEscape() }
        if first < 0x20 || first == 0x7F {
            pendingBytes.removeFirst()
            return .some(controlKey(first))
        }
        let length = first < 0x80 ? 1 : first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 1
        guard pendingBytes.count >= length else { return nil }
        let scalarBytes = pendingBytes.prefix(length)
        pendingBytes.removeFirst(length)
        guard let string = String(validating: scalarBytes, as: UTF8.self) else { return .some(nil) }
        for character in string { insert(character) }
        return .some(.redraw)
    }

    private mutating func controlKey(_ byte: UInt8) -> Action? {
        switch byte {
        case 0x0D, 0x0A: return submit()
        case 0x03: return .interrupt
        case 0x04:
            if text.isEmpty { return .endOfInput }
            return deleteForward()
        case 0x7F, 0x08: return deleteBackward()
        case 0x01: cursor = 0
        case 0x05: cursor = text.count
        case 0x15: text.removeAll(); cursor = 0
        case 0x17: deleteWord()
        default: return nil
        }
        return .redraw
    }

    /// Handles `ESC [ X`, `ESC O X` and `ESC [ 3 ~`; a lone ESC followed by something else is dropped.
    private mutating func consumeEscape() -> Action?? {
        guard pendingBytes.count >= 2 else { return nil }
        guard pendingBytes[1] == UInt8(ascii: "[") || pendingBytes[1] == UInt8(ascii: "O") else {
            pendingBytes.removeFirst()
            return .some(nil)
        }
        guard let end = pendingBytes.dropFirst(2).firstIndex(where: { (0x40...0x7E).contains($0) }) else {
            if pendingBytes.count > 16 { pendingBytes.removeAll() }
            return nil
        }
        let sequence = Array(pendingBytes[2...end])
        pendingBytes.removeFirst(end + 1)
        switch sequence {
        case [UInt8(ascii: "D")]: cursor = max(0, cursor - 1)
        case [UInt8(ascii: "C")]: cursor = min(text.count, cursor + 1)
        case [UInt8(ascii: "H")], Array("1~".utf8): cursor = 0
        case [UInt8(ascii: "F")], Array("4~".utf8): cursor = text.count
        case Array("3~".utf8): return .some(deleteForward())
        case [UInt8(ascii: "A")]: recall(offset: -1)
        case [UInt8(ascii: "B")]: recall(offset: 1)
        default: return .some(nil)
        }
        return .some(.redraw)
    }

    private mutating func insert(_ character: Character) {
        text.insert(character, at: cursor)
        cursor += 1
    }

    private mutating func submit() -> Action {
        let line = String(text)
        if !line.isEmpty, history.last != line {
            history.append(line)
            if history.count > historyLimit { history.removeFirst() }
        }
        historyIndex = history.count
        text.removeAll()
        cursor = 0
        return .submit(line)
    }

    private mutating func deleteBackward() -> Action? {
        guard cursor > 0 else { return nil }
        cursor -= 1
        text.remove(at: cursor)
        return .redraw
    }

    private mutating func deleteForward() -> Action? {
        guard cursor < text.count else { return nil }
        text.remove(at: cursor)
        return .redraw
    }

    private mutating func deleteWord() {
        var start = cursor
        while start > 0, text[start - 1] == " " { start -= 1 }
        while start > 0, text[start - 1] != " " { start -= 1 }
        text.removeSubrange(start..<cursor)
        cursor = start
    }

    private mutating func recall(offset: Int) {
        let index = historyIndex + offset
        guard index >= 0, index <= history.count else { return }
        historyIndex = index
        text = index == history.count ? [] : Array(history[index])
        cursor = text.count
    }

    /// The prompt and the part of the text that fits in `width` columns (one column per character),
    /// and the column the cursor is drawn at. Long lines scroll horizontally to keep the cursor visible.
    /// A prompt too long for the width is cut (with `…`) so that at least 8 columns stay for text.
    public func visibleLine(width: Int) -> (line: String, cursorColumn: Int) {
        let promptLimit = max(0, width - 9)
        let shownPrompt = prompt.count <= promptLimit ? prompt : String(prompt.prefix(max(0, promptLimit - 2))) + "… "
        let room = max(1, width - shownPrompt.count - 1)
        let start = max(0, min(cursor - room * 3 / 4, text.count - room))
        let shown = text[start..<min(text.count, start + room)]
        return (shownPrompt + String(shown), shownPrompt.count + cursor - start)
    }
}
