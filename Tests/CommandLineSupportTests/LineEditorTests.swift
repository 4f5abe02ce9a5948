import Testing
import CommandLineSupport

private func type(_ text: String, into editor: inout LineEditor) -> [LineEditor.Action] {
    editor.handle(Array(text.utf8))
}

@Test func typingAndEnterSubmitsTheLine() {
    var editor = LineEditor()
    #expect(type("hi", into: &editor) == [.redraw, .redraw])
    #expect(type("\r", into: &editor) == [.submit("hi")])
    #expect(editor.text.isEmpty && editor.cursor == 0)
}

@Test func backspaceAndArrowsEditInTheMiddle() {
    var editor = LineEditor()
    _ = type("helo", into: &editor)
    _ = type("\u{1B}[D", into: &editor)
    _ = type("l", into: &editor)
    #expect(String(editor.text) == "hello" && editor.cursor == 4)
    _ = editor.handle([0x7F])
    #expect(String(editor.text) == "helo" && editor.cursor == 3)
    _ = type("\u{1B}[C\u{1B}[3~", into: &editor)
    #expect(String(editor.text) == "helo")
    _ = type("\u{1B}[H\u{1B}[3~", into: &editor)
    #expect(String(editor.text) == "elo" && editor.cursor == 0)
}

@Test func escapeSequencesSplitAcrossReadsAreAssembled() {
    var editor = LineEditor()
    _ = type("ab", into: &editor)
    #expect(editor.handle([0x1B]) == [])
    #expect(editor.handle([UInt8(ascii: "[")]) == [])
    #expect(editor.handle([UInt8(ascii: "D")]) == [.redraw])
    #expect(editor.cursor == 1)
}

@Test func multiByteCharactersSplitAcrossReadsAreAssembled() {
    var editor = LineEditor()
    let bytes = Array("é✓".utf8)
    #expect(editor.handle([bytes[0]]) == [])
    #expect(editor.handle(Array(bytes[1...])) == [.redraw, .redraw])
    #expect(String(editor.text) == "é✓" && editor.cursor == 2)
}

@Test func controlKeys() {
    var editor = LineEditor()
    #expect(editor.handle([0x04]) == [.endOfInput])
    #expect(editor.handle([0x03]) == [.interrupt])
    _ = type("one two three", into: &editor)
    _ = editor.handle([0x17])
    #expect(String(editor.text) == "one two ")
    _ = editor.handle([0x15])
    #expect(editor.text.isEmpty)
}

@Test func historyRecallsEarlierLines() {
    var editor = LineEditor()
    _ = type("first\rsecond\r", into: &editor)
    _ = type("\u{1B}[A", into: &editor)
    #expect(String(editor.text) == "second")
    _ = type("\u{1B}[A\u{1B}[A", into: &editor)
    #expect(String(editor.text) == "first")
    _ = type("\u{1B}[B\u{1B}[B", into: &editor)
    #expect(editor.text.isEmpty)
}

@Test func longLinesScrollToKeepTheCursorVisible() {
    var editor = LineEditor(prompt: "> ")
    _ = type(String(repeating: "x", count: 100) + "END", into: &editor)
    let (line, column) = editor.visibleLine(width: 40)
    #expect(line.count <= 39)
    #expect(line.hasSuffix("END"))
    #expect(column == line.count)
}

@Test func aLongPromptIsCutToLeaveRoomForText() {
    var editor = LineEditor(prompt: "[#lobby] (Last contact 17 seconds ago. Reconnecting…) ")
    _ = type("hello", into: &editor)
    let (line, column) = editor.visibleLine(width: 30)
    #expect(line.count <= 29)
    #expect(line.hasPrefix("[#lobby] (Last"))
    #expect(line.hasSuffix("… hello"))
    #expect(column == line.count)
}
