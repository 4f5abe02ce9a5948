import Chat
import LinkSimulator
import Testing

/// Specs/chat-protocol.md, section 6.2: the skeleton table.
@Test func lookAlikesShareASkeleton() {
    let alice = ChatNames.skeleton("alice")
    for name in ["aIice", "a1ice", "ALICE", "AL1CE", "a|ice", "\u{0430}lice", "\u{0391}lice", "al\u{0456}ce"] {
        #expect(ChatNames.skeleton(name) == alice, "\(name)")
    }
    #expect(ChatNames.skeleton("rnallory") == ChatNames.skeleton("mallory"))
    #expect(ChatNames.skeleton("vvendy") == ChatNames.skeleton("wendy"))
    #expect(ChatNames.skeleton("b0b") == ChatNames.skeleton("BOB"))
    #expect(ChatNames.skeleton("\u{0441}\u{0430}r\u{043E}l") == ChatNames.skeleton("carol"))
    #expect(ChatNames.skeleton("alice") != ChatNames.skeleton("alicia"))
    #expect(ChatNames.skeleton("bob") != ChatNames.skeleton("rob"))
}

/// Section 6.2: names equal case-insensitively always have equal skeletons.
/// Specs/chat-protocol.md, section 6.2: Look-alike names (the skeleton table) are `nameTaken`; a PRIVATE to a
/// look-alike is `noSuchUser`.
@Test func caseInsensitivelyEqualNamesHaveEqualSkeletons() {
    let characters = Array("abcdefghijklmnopqrstuvwxyz0123456789-_.")
    var generator = SplitMix64(seed: 8)
    for _ in 0..<500 {
        let name = String((0..<Int(generator.next() % 12 + 1)).map { _ in characters[Int(generator.next() % UInt64(characters.count))] })
        let upper = String(name.map { generator.next() % 2 == 0 ? Character($0.uppercased()) : $0 })
        #expect(ChatNames.skeleton(name) == ChatNames.skeleton(upper))
    }
}

/// Section 6: zero-width characters, BOM, line and paragraph separators are removed from shown text,
/// like the control characters and bidi controls.
/// Specs/chat-protocol.md, section 6.1: Text shown is sanitised: escapes, C0/C1, bidi, zero-width, BOM, U+2028/9;
/// invalid UTF-8 refused; none of these in names.
@Test func invisibleAndLineBreakingCharactersAreNeutralised() {
    let text = "a\u{200B}b\u{200C}c\u{200D}d\u{2060}e\u{FEFF}f\u{2028}g\u{2029}h\u{202E}i\u{2066}j\u{200F}k"
    #expect(SafeText.sanitized(text) == "abcdefghijk")
    #expect(SafeText.sanitized("caf\u{00E9} \u{0430}") == "caf\u{00E9} \u{0430}")
}

/// Section 6.3: the log helper sanitises, escapes, bounds and quotes.
/// Specs/chat-protocol.md, section 6.3: Every logged peer string sanitised, escaped, bounded, quoted; 10 lines per
/// kind per second, then one summary.
@Test func loggableFieldsAreSanitisedEscapedBoundedAndQuoted() {
    #expect(SafeText.loggable("chat 1.0") == "\"chat 1.0\"")
    #expect(SafeText.loggable("a\"b\\c") == "\"a\\\"b\\\\c\"")
    #expect(SafeText.loggable("x\n2026 fake\u{1B}[2J line") == "\"x2026 fake line\"")
    #expect(SafeText.loggable(String(repeating: "é", count: 100), limit: 9) == "\"éééé…(200 bytes)\"")
    #expect(SafeText.loggable("") == "\"\"")
}
