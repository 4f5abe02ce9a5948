extension ClientCommand {
    /// Parses one input line; nil for a blank line (nothing to do).
    public static func parse(_ line: String) throws(CommandError) -> ClientCommand? {
        let trimmed = line.trimmingWhitespace()
        guard !trimmed.isEmpty else { return nil }
        guard trimmed.hasPrefix("/") else { return .say(trimmed) }
        if trimmed.hasPrefix("//") { return .say(String(trimmed.dropFirst())) }
        let body = trimmed.dropFirst()
        let name = String(body.prefix { $0 != " " }).lowercased()
        let arguments = String(body.dropFirst(name.count)).trimmingWhitespace()
        return try parse(command: name, arguments: arguments)
    }

    private static func parse(command: String, arguments: String) throws(CommandError) -> ClientCommand {
        switch command {
        case "msg", "query": return try parsePrivate(arguments)
        case "me": return .action(try required(arguments, command: "me", what: "text"))
        case "join": return .join(room: try room(try required(arguments, command: "join", what: "room"), command: "join"))
        case "part": return .part(room: arguments.isEmpty ? nil : try room(arguments, command: "part"))
        case "list": return try noArguments(.list, arguments, command: "list")
        case "who": return .who(room: arguments.isEmpty ? nil : try room(arguments, command: "who"))
        case "nick": return .nick(try userName(try required(arguments, command: "nick", what: "name"), command: "nick"))
        case "quit", "exit": return .quit(reason: arguments.isEmpty ? nil : arguments)
        case "help": return .help
        case "loss": return try parseLoss(arguments)
        case "trace": return try parseTrace(arguments)
        case "stats": return try noArguments(.stats, arguments, command: "stats")
        default: throw .unknownCommand(command)
        }
    }

    private static func parsePrivate(_ arguments: String) throws(CommandError) -> ClientCommand {
        let target = String(arguments.prefix { $0 != " " })
        let text = String(arguments.dropFirst(target.count)).trimmingWhitespace()
        guard !target.isEmpty, !text.isEmpty else { throw invalid("msg", "Missing name or text") }
        return .privateMessage(to: try userName(target, command: "msg"), text: text)
    }

    private static func parseLoss(_ arguments: String) throws(CommandError) -> ClientCommand {
        let number = arguments.hasSuffix("%") ? String(arguments.dropLast()) : arguments
        guard let percent = Double(number), percent.isFinite, (0...100).contains(percent) else {
            throw invalid("loss", arguments.isEmpty ? "Missing percentage" : "'\(arguments)' is not a percentage from 0 to 100")
        }
        return .setLoss(percent: percent)
    }

    private static func parseTrace(_ arguments: String) throws(CommandError) -> ClientCommand {
        switch arguments.lowercased() {
        case "on": return .setTracing(true)
        case "off": return .setTracing(false)
        default: throw invalid("trace", arguments.isEmpty ? "Missing on or off" : "'\(arguments)' is not on or off")
        }
    }

    private static func required(_ arguments: String, command: String, what: String) throws(CommandError) -> String {
        guard !arguments.isEmpty else { throw invalid(command, "Missing \(what)") }
        return arguments
    }

    private static func noArguments(_ result: ClientCommand, _ arguments: String, command: String) throws(CommandError) -> ClientCommand {
        guard arguments.isEmpty else { throw invalid(command, "/\(command) takes no arguments") }
        return result
    }

    private static func room(_ argument: String, command: String) throws(CommandError) -> String {
        let room = argument.hasPrefix("#") ? argument : "#" + argument
        do {
            try ChatNames.validateRoomName(room)
        } catch {
            throw invalid(command, "Invalid room name '\(argument)': \(error)")
        }
        return room
    }

    private static func userName(_ argument: String, command: String) throws(CommandError) -> String {
        do {
            try ChatNames.validateUserName(argument)
        } catch {
            throw invalid(command, "Invalid name '\(argument)': \(error)")
        }
        return argument
    }

    private static func invalid(_ command: String, _ problem: String) -> CommandError {
        let usage = ClientCommand.usage.first { $0.command == command }?.usage ?? "/\(command)"
        return .invalidArguments(command: command, problem: problem, usage: usage)
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and line breaks.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
