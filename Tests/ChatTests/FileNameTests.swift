import Chat
import Testing

/// Specs/chat-protocol.md, section 4.12, "Names": what a recipient saves an offered file as.
@Suite("Safe file names for received files")
struct FileNameTests {
    static let names: [(offered: String, saved: String)] = [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/etc/shadow", "shadow"),
        ("C:\\Users\\x\\evil.exe", "evil.exe"),
        ("..", "file"),
        ("", "file"),
        (".bashrc", "bashrc"),
        ("...hidden", "hidden"),
        ("a\u{202E}gpj.exe", "agpj.exe"),
        ("bell\u{7}.txt", "bell.txt"),
        ("dir/", "dir"),
    ]

    /// Specs/chat-protocol.md, section 4.12
    @Test(arguments: names)
    func anOfferedNameBecomesOneSafeComponent(offered: String, saved: String) {
        #expect(FileNames.safe(offered) == saved)
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func aLongNameIsCutTo200Bytes() {
        #expect(FileNames.safe(String(repeating: "é", count: 300)).utf8.count <= 200)
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func aTakenNameIsNumberedBeforeItsExtension() {
        #expect(FileNames.numbered("notes.txt", attempt: 0) == "notes.txt")
        #expect(FileNames.numbered("notes.txt", attempt: 1) == "notes (1).txt")
        #expect(FileNames.numbered("archive.tar.gz", attempt: 2) == "archive.tar (2).gz")
        #expect(FileNames.numbered("README", attempt: 3) == "README (3)")
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func theFileCommandsParse() throws {
        #expect(try ClientCommand.parse("/send ~/My Files/a b.txt carol") == .sendFile(path: "~/My Files/a b.txt", to: "carol"))
        #expect(try ClientCommand.parse("/send report.pdf #class") == .sendFile(path: "report.pdf", to: "#class"))
        #expect(try ClientCommand.parse("/accept") == .acceptFile(id: nil, directory: nil))
        #expect(try ClientCommand.parse("/accept 3") == .acceptFile(id: 3, directory: nil))
        #expect(try ClientCommand.parse("/accept 3 /tmp/in") == .acceptFile(id: 3, directory: "/tmp/in"))
        #expect(try ClientCommand.parse("/accept /tmp/in") == .acceptFile(id: nil, directory: "/tmp/in"))
        #expect(try ClientCommand.parse("/reject") == .rejectFile(id: nil))
        #expect(try ClientCommand.parse("/reject 4") == .rejectFile(id: 4))
        #expect(try ClientCommand.parse("/transfers") == .transfers)
        #expect(try ClientCommand.parse("/cancel 7238751") == .cancelFile(id: 7_238_751))
        #expect(throws: CommandError.self) { try ClientCommand.parse("/send onlyapath") }
        #expect(throws: CommandError.self) { try ClientCommand.parse("/send a.txt bad/name") }
        #expect(throws: CommandError.self) { try ClientCommand.parse("/cancel") }
        #expect(throws: CommandError.self) { try ClientCommand.parse("/cancel x") }
        #expect(throws: CommandError.self) { try ClientCommand.parse("/transfers now") }
    }
}
