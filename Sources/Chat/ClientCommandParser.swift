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
        case "join": return try parseJoin(arguments)
        case "part": return .part(room: arguments.isEmpty ? nil : try room(arguments, command: "part"))
        case "list": return try noArguments(.list, arguments, command: "list")
        case "who": return .who(room: arguments.isEmpty ? nil : try room(arguments, command: "who"))
        case "nick": return .nick(try userName(try required(arguments, command: "nick", what: "name"), command: "nick"))
        case "quit", "exit": return .quit(reason: arguments.isEmpty ? nil : arguments)
        case "help": return .help
        case "loss": return try parseLoss(arguments)
        case "trace": return try parseTrace(arguments)
        case "stats": return try noArguments(.stats, arguments, command: "stats")
        case "op", "deop", "voice", "devoice", "mute", "unmute", "invite":
            let action: ModerationAction = switch command {
            case "op": .op
            case "deop": .deop
            case "voice": .voice
            case "devoice": .devoice
            case "mute": .mute
            case "unmute": .unmute
            default: .invite
            }
            let name = try userName(try required(arguments, command: command, what: "name"), command: command)
            return .moderate(Moderation(action, target: name), isRelayWide: false)
        case "kick", "kill":
            let (name, reason) = split(arguments)
            guard !name.isEmpty else { throw invalid(command, "Missing name") }
            return .moderate(Moderation(command == "kick" ? .kick : .kill, target: try userName(name, command: command), text: reason),
                             isRelayWide: command == "kill")
        case "oper":
            return .moderate(Moderation(.oper, text: try required(arguments, command: "oper", what: "token")), isRelayWide: true)
        case "ban", "kline": return try parseBan(arguments, command: command)
        case "unban", "unkline":
            let mask = try required(arguments, command: command, what: "name or mask")
            return .moderate(Moderation(.unban, target: mask), isRelayWide: command == "unkline")
        case "bans", "klines":
            _ = try noArguments(.stats, arguments, command: command)
            return .moderate(Moderation(.bans), isRelayWide: command == "klines")
        case "topic":
            return .moderate(Moderation(.topic, text: try required(arguments, command: "topic", what: "text")), isRelayWide: false)
        case "mode": return try parseMode(arguments)
        case "ignore": return .ignore(arguments.isEmpty ? nil : try userName(arguments, command: "ignore"))
        case "unignore": return .unignore(try userName(try required(arguments, command: "unignore", what: "name"), command: "unignore"))
        case "save": return .save(file: arguments.isEmpty ? nil : arguments)
        case "whois": return .whois(try userName(try required(arguments, command: "whois", what: "name"), command: "whois"))
        case "trust": return .trust(try userName(try required(arguments, command: "trust", what: "name"), command: "trust"))
        case "send", "accept", "reject", "transfers", "cancel": return try parseFileCommand(command, arguments)
        case "history": return try parseHistory(arguments)
        case "register": return .account(AccountRequest(.register, password: arguments))
        case "identify":
            let (name, password) = split(arguments)
            guard !name.isEmpty else { throw invalid("identify", "Missing name") }
            guard !password.isEmpty else { throw invalid("identify", "Missing password") }
            return .account(AccountRequest(.identify, name: try userName(name, command: "identify"), password: password))
        case "unregister": return try noArguments(.account(AccountRequest(.unregister)), arguments, command: "unregister")
        case "password":
            let (first, second) = split(try required(arguments, command: "password", what: "new password"))
            return .account(second.isEmpty ? AccountRequest(.password, newPassword: first)
                                           : AccountRequest(.password, password: first, newPassword: second))
        case "dropaccount":
            let name = try userName(try required(arguments, command: "dropaccount", what: "name"), command: "dropaccount")
            return .account(AccountRequest(.drop, name: name))
        case "receipts":
            switch arguments.lowercased() {
            case "on": return .setReceipts(true)
            case "off": return .setReceipts(false)
            default: throw invalid("receipts", arguments.isEmpty ? "Missing on or off" : "'\(arguments)' is not on or off")
            }
        default: throw .unknownCommand(command)
        }
    }

    private static func parseJoin(_ arguments: String) throws(CommandError) -> ClientCommand {
        let (name, key) = split(try required(arguments, command: "join", what: "room"))
        let joined = try room(name, command: "join")
        return key.isEmpty ? .join(room: joined) : .joinWithKey(room: joined, key: key)
    }

    /// `/ban NAME|ADDRESS [duration] [reason]`: a duration is digits with an optional unit s, m, h or d.
    private static func parseBan(_ arguments: String, command: String) throws(CommandError) -> ClientCommand {
        let (target, rest) = split(arguments)
        guard !target.isEmpty else { throw invalid(command, "Missing name or address") }
        if AddressPrefix(target) == nil { _ = try userName(target, command: command) }
        let (first, afterFirst) = split(rest)
        var seconds: UInt32 = 0
        var reason = rest
        if let duration = parseDuration(first) {
            seconds = duration
            reason = afterFirst
        }
        return .moderate(Moderation(.ban, target: target, durationSeconds: seconds, text: reason), isRelayWide: command == "kline")
    }

    /// `90`, `90s`, `10m`, `2h`, `1d` as seconds (at least 1, at most `UInt32.max`); nil if not a duration.
    static func parseDuration(_ text: String) -> UInt32? {
        guard let last = text.last else { return nil }
        let unit: UInt64
        var digits = Substring(text)
        switch last {
        case "s": unit = 1
        case "m": unit = 60
        case "h": unit = 3_600
        case "d": unit = 86_400
        default: unit = 1
        }
        if !last.isNumber { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = UInt64(digits), value > 0 else { return nil }
        return UInt32(clamping: value * unit)
    }

    private static func parseHistory(_ arguments: String) throws(CommandError) -> ClientCommand {
        if arguments.isEmpty { return .history(count: 50, sinceSecondsAgo: nil) }
        if let count = Int(arguments), (1...1_000).contains(count) { return .history(count: count, sinceSecondsAgo: nil) }
        let (word, duration) = split(arguments)
        guard word == "since", let seconds = parseDuration(duration) else {
            throw invalid("history", "expected a number of lines from 1 to 1000, or 'since' and a duration like 10m, 2h, 1d")
        }
        return .history(count: 1_000, sinceSecondsAgo: seconds)
    }

    private static func parseMode(_ arguments: String) throws(CommandError) -> ClientCommand {
        let (mode, key) = split(arguments)
        switch mode {
        case "+m", "-m", "+i", "-i", "-k":
            guard key.isEmpty else { throw invalid("mode", "\(mode) takes no argument") }
            return .moderate(Moderation(.mode, target: mode), isRelayWide: false)
        case "+k":
            guard !key.isEmpty, !key.contains(" ") else { throw invalid("mode", "+k needs one key") }
            return .moderate(Moderation(.mode, target: mode, text: key), isRelayWide: false)
        default:
            throw invalid("mode", mode.isEmpty ? "Missing mode" : "Unknown mode '\(mode)'")
        }
    }

    /// The first word and the rest, trimmed.
    private static func split(_ text: String) -> (String, String) {
        let first = String(text.prefix { $0 != " " })
        return (first, String(text.dropFirst(first.count)).trimmingWhitespace())
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
