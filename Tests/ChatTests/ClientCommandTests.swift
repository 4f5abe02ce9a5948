import Chat
import Testing

@Test func plainTextIsSaid() throws {
    #expect(try ClientCommand.parse("hello there") == .say("hello there"))
    #expect(try ClientCommand.parse("  padded  ") == .say("padded"))
    #expect(try ClientCommand.parse("//not a command") == .say("/not a command"))
    #expect(try ClientCommand.parse("   ") == nil)
    #expect(try ClientCommand.parse("") == nil)
}

@Test func commandsParse() throws {
    #expect(try ClientCommand.parse("/msg bob psst, over here") == .privateMessage(to: "bob", text: "psst, over here"))
    #expect(try ClientCommand.parse("/me waves") == .action("waves"))
    #expect(try ClientCommand.parse("/join #rust") == .join(room: "#rust"))
    #expect(try ClientCommand.parse("/join rust") == .join(room: "#rust"))
    #expect(try ClientCommand.parse("/part") == .part(room: nil))
    #expect(try ClientCommand.parse("/part #rust") == .part(room: "#rust"))
    #expect(try ClientCommand.parse("/list") == .list)
    #expect(try ClientCommand.parse("/who") == .who(room: nil))
    #expect(try ClientCommand.parse("/who #lobby") == .who(room: "#lobby"))
    #expect(try ClientCommand.parse("/nick alice2") == .nick("alice2"))
    #expect(try ClientCommand.parse("/quit") == .quit(reason: nil))
    #expect(try ClientCommand.parse("/quit gone fishing") == .quit(reason: "gone fishing"))
    #expect(try ClientCommand.parse("/HELP") == .help)
    #expect(try ClientCommand.parse("/loss 12.5") == .setLoss(percent: 12.5))
    #expect(try ClientCommand.parse("/loss 30%") == .setLoss(percent: 30))
    #expect(try ClientCommand.parse("/trace on") == .setTracing(true))
    #expect(try ClientCommand.parse("/trace OFF") == .setTracing(false))
    #expect(try ClientCommand.parse("/stats") == .stats)
}

@Test func unknownCommandIsALocalError() {
    #expect(throws: CommandError.unknownCommand("frobnicate")) { try ClientCommand.parse("/frobnicate now") }
    #expect(CommandError.unknownCommand("x").description == "Unknown command: /x (try /help)")
}

@Test func badArgumentsExplainThemselves() {
    #expect(throws: CommandError.invalidArguments(command: "msg", problem: "Missing name or text", usage: "/msg NAME text")) {
        try ClientCommand.parse("/msg bob")
    }
    #expect(throws: CommandError.invalidArguments(command: "join", problem: "Missing room", usage: "/join #room [KEY]")) {
        try ClientCommand.parse("/join")
    }
    #expect(throws: CommandError.self) { try ClientCommand.parse("/nick bad name") }
    #expect(throws: CommandError.self) { try ClientCommand.parse("/join #b@d") }
    #expect(throws: CommandError.self) { try ClientCommand.parse("/loss 101") }
    #expect(throws: CommandError.self) { try ClientCommand.parse("/loss lots") }
    #expect(throws: CommandError.self) { try ClientCommand.parse("/trace maybe") }
    #expect(throws: CommandError.self) { try ClientCommand.parse("/list everything") }
    let error = CommandError.invalidArguments(command: "trace", problem: "Missing on or off", usage: "/trace on|off")
    #expect(error.description == "Missing on or off. Usage: /trace on|off")
}
