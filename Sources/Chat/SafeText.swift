/// Makes text from the network safe to print on a terminal.
///
/// Another user's text must never move the cursor, change colours, set the window title, ring the
/// bell or reorder the line around it. `sanitized(_:)` removes:
///
/// - escape sequences: CSI (`ESC [` ... final byte `0x40-0x7E`), OSC/DCS/SOS/PM/APC strings
///   (`ESC ]`, `ESC P`, `ESC X`, `ESC ^`, `ESC _`, up to BEL or `ESC \`), and two-byte `ESC x`;
/// - every other C0 control (`U+0000-U+001F`), DEL (`U+007F`) and every C1 control (`U+0080-U+009F`),
///   with no exceptions (tab and newline included: one chat message prints as one line);
/// - bidirectional embeddings, overrides and isolates (`U+202A-U+202E`, `U+2066-U+2069`) and the
///   implicit marks (`U+200E`, `U+200F`, `U+061C`), the "Trojan Source" characters;
/// - zero-width and invisible characters that hide text or make look-alikes: `U+200B-U+200D` (zero
///   width space, non-joiner, joiner), `U+2060` (word joiner), `U+FEFF` (BOM, zero width no-break
///   space); and the line and paragraph separators `U+2028`, `U+2029` (one message is one line).
///
/// `loggable(_:limit:)` is the one helper for every peer-supplied string the relay writes to its log.
public enum SafeText {
    /// Decodes `bytes` as UTF-8 and sanitises it; nil when the bytes are not valid UTF-8.
    public static func decode(_ bytes: [UInt8]) -> String? {
        String(validating: bytes, as: UTF8.self).map(sanitized)
    }

    /// `text` without control sequences, control characters and bidirectional overrides.
    public static func sanitized(_ text: String) -> String {
        var output = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            if scalar == "\u{1B}" {
                skipEscapeSequence(&scalars)
            } else if !isForbidden(scalar) {
                output.append(scalar)
            }
        }
        return String(output)
    }

    /// True for the scalars `sanitized` removes on their own.
    public static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: true
        case 0x200B...0x200D, 0x2060, 0xFEFF, 0x2028, 0x2029: true
        default: false
        }
    }

    /// The most UTF-8 bytes of one peer-supplied field `loggable` keeps by default.
    public static let defaultLogFieldLimit = 64

    /// A peer-supplied string made safe for a log line: sanitised (no escape sequences, controls,
    /// bidi or zero-width characters, so it can neither fake a line nor reach the terminal), with
    /// backslashes and double quotes escaped, cut to at most `limit` UTF-8 bytes on a character
    /// boundary (`…` and the original length in bytes appended when cut), and in double quotes so its
    /// ends are visible: `"alice"`, `"chat 1.0"`, `"xxxx…(70000 bytes)"`.
    public static func loggable(_ text: String, limit: Int = defaultLogFieldLimit) -> String {
        var kept = ""
        var keptBytes = 0
        var cut = false
        for character in sanitized(text) {
            let piece = character == "\\" ? "\\\\" : character == "\"" ? "\\\"" : String(character)
            guard keptBytes + piece.utf8.count <= max(0, limit) else {
                cut = true
                break
            }
            kept += piece
            keptBytes += piece.utf8.count
        }
        return cut ? "\"\(kept)…(\(text.utf8.count) bytes)\"" : "\"\(kept)\""
    }

    /// Consumes the rest of an escape sequence whose ESC was just read.
    private static func skipEscapeSequence(_ scalars: inout String.UnicodeScalarView.Iterator) {
        guard let introducer = scalars.next() else { return }
        switch introducer {
        case "[":
            // CSI: parameter and intermediate bytes, then one final byte in 0x40-0x7E.
            while let scalar = scalars.next(), !(0x40...0x7E).contains(scalar.value) {}
        case "]", "P", "X", "^", "_":
            // A control string, ended by BEL or by ST (ESC \).
            while let scalar = scalars.next() {
                if scalar == "\u{07}" { return }
                if scalar == "\u{1B}" {
                    _ = scalars.next()
                    return
                }
            }
        default:
            // A two-character sequence (ESC c, ESC 7, ...) or an intermediate byte and a final byte.
            if (0x20...0x2F).contains(introducer.value) { _ = scalars.next() }
        }
    }
}
