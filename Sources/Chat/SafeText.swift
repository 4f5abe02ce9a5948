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
///   implicit marks (`U+200E`, `U+200F`, `U+061C`), the "Trojan Source" characters.
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
        default: false
        }
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
