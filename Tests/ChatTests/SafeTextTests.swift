import Chat
import Testing

/// Specs/chat-protocol.md, section 6.1: Text shown is sanitised: escapes, C0/C1, bidi, zero-width, BOM, U+2028/9;
/// invalid UTF-8 refused; none of these in names.
@Test func plainTextIsUntouched() {
    #expect(SafeText.sanitized("héllo, wörld 👋") == "héllo, wörld 👋")
}

/// Specs/chat-protocol.md, section 6.1: Text shown is sanitised: escapes, C0/C1, bidi, zero-width, BOM, U+2028/9;
/// invalid UTF-8 refused; none of these in names.
@Test func escapeSequencesAreRemoved() {
    #expect(SafeText.sanitized("\u{1B}[31mred\u{1B}[0m") == "red")
    #expect(SafeText.sanitized("a\u{1B}[2J\u{1B}[Hb") == "ab")
    #expect(SafeText.sanitized("\u{1B}]0;pwned title\u{07}after") == "after")
    #expect(SafeText.sanitized("\u{1B}]8;;http://x\u{1B}\\link\u{1B}]8;;\u{1B}\\") == "link")
    #expect(SafeText.sanitized("x\u{1B}cy") == "xy")
    #expect(SafeText.sanitized("x\u{1B}(By") == "xy")
    #expect(SafeText.sanitized("dangling\u{1B}") == "dangling")
}

/// Specs/chat-protocol.md, section 6.1: Text shown is sanitised: escapes, C0/C1, bidi, zero-width, BOM, U+2028/9;
/// invalid UTF-8 refused; none of these in names.
@Test func controlCharactersAreRemoved() {
    #expect(SafeText.sanitized("a\u{07}b\u{08}c\rd\ne\tf\u{7F}g") == "abcdefg")
    #expect(SafeText.sanitized("a\u{9B}31mb\u{85}c") == "a31mbc")
}

/// Specs/chat-protocol.md, section 6.1: Text shown is sanitised: escapes, C0/C1, bidi, zero-width, BOM, U+2028/9;
/// invalid UTF-8 refused; none of these in names.
@Test func bidiOverridesAreRemoved() {
    #expect(SafeText.sanitized("abc\u{202E}fed\u{202C}") == "abcfed")
    #expect(SafeText.sanitized("\u{2066}x\u{2069}\u{200F}") == "x")
}

/// Specs/chat-protocol.md, section 6.1: Text shown is sanitised: escapes, C0/C1, bidi, zero-width, BOM, U+2028/9;
/// invalid UTF-8 refused; none of these in names.
@Test func invalidUTF8IsRefused() {
    #expect(SafeText.decode([0x68, 0x69]) == "hi")
    #expect(SafeText.decode([0x68, 0xFF]) == nil)
    #expect(SafeText.decode([0xC0, 0x80]) == nil)
    #expect(SafeText.decode([0xE2, 0x82]) == nil)
    #expect(SafeText.decode([0x1B, 0x5B, 0x31, 0x6D, 0x68]) == "h")
}

/// Specs/chat-protocol.md, section 4.6: Receivers MUST key the duplicate filter on the sender id; a huge id under an
/// observed sender id does not silence anyone.
@Test func duplicateFilterShowsEachMessageOnce() {
    var filter = DuplicateFilter()
    let bob = SenderID(rawValue: 1), carol = SenderID(rawValue: 2)
    let arrivals: [(UInt64, SenderID)] = [(1, bob), (2, bob), (2, bob), (1, bob), (1, carol), (5, bob), (4, bob)]
    let shown = arrivals.map { filter.isNew(messageID: $0.0, from: $0.1) }
    #expect(shown == [true, true, false, false, true, true, false])
}

/// Specs/chat-protocol.md, section 4.6: Receivers MUST key the duplicate filter on the sender id; a huge id under an
/// observed sender id does not silence anyone.
@Test func duplicateFilterForgetsTheLeastRecentlyUsedSession() {
    var filter = DuplicateFilter(sessionLimit: 2)
    let first = SenderID(rawValue: 1), second = SenderID(rawValue: 2), third = SenderID(rawValue: 3)
    // `second` is the least recently used when `third` arrives, so its 9 is forgotten and shown again.
    let arrivals: [(UInt64, SenderID)] = [(9, first), (9, second), (9, first), (1, third), (9, first), (9, second)]
    let shown = arrivals.map { filter.isNew(messageID: $0.0, from: $0.1) }
    #expect(shown == [true, true, false, true, false, true])
    #expect(filter.sessionCount == 2)
}
