/// One line typed by the user, understood. Commands start with `/`; anything else is said to the
/// current room (`//text` says `/text`).
public enum ClientCommand: Hashable, Sendable {
    /// Plain text: SAY it in the current room.
    case say(String)
    /// `/me text`: SAY it as an action.
    case action(String)
    /// `/msg NAME text`: PRIVATE.
    case privateMessage(to: String, text: String)
    /// `/join #room` (the `#` may be left out).
    case join(room: String)
    /// `/part [#room]`: the current room when omitted.
    case part(room: String?)
    /// `/list`: LIST_ROOMS.
    case list
    /// `/who [#room]`: everyone when omitted.
    case who(room: String?)
    /// `/nick NAME`.
    case nick(String)
    /// `/quit [reason]`.
    case quit(reason: String?)
    /// `/help`: print the commands; nothing is sent.
    case help
    /// `/loss PCT`: demo, drop this percentage (0-100) of outgoing datagrams locally.
    case setLoss(percent: Double)
    /// `/trace on|off`: demo, print every packet's fate.
    case setTracing(Bool)
    /// `/stats`: print the connection's statistics.
    case stats

    /// The command names and their usage, as `/help` prints them.
    public static let usage: [(command: String, usage: String, summary: String)] = [
        ("msg", "/msg NAME text", "send a private message"),
        ("me", "/me text", "describe an action"),
        ("join", "/join #room", "join a room and make it current"),
        ("part", "/part [#room]", "leave a room (default: the current one)"),
        ("list", "/list", "list rooms"),
        ("who", "/who [#room]", "list users, with transport, endpoint and RTT"),
        ("nick", "/nick NAME", "change your name"),
        ("quit", "/quit [reason]", "leave"),
        ("help", "/help", "show this help"),
        ("loss", "/loss PCT", "drop PCT% of outgoing datagrams (demo)"),
        ("trace", "/trace on|off", "show every packet's fate (demo)"),
        ("stats", "/stats", "show connection statistics"),
    ]
}

/// Why a typed line was not understood. Nothing is sent; the client prints the description.
public enum CommandError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `/frobnicate`: no such command.
    case unknownCommand(String)
    /// A required argument is missing or an argument is malformed; `usage` shows the right form.
    case invalidArguments(command: String, problem: String, usage: String)

    public var description: String {
        switch self {
        case let .unknownCommand(name): "Unknown command: /\(name) (try /help)"
        case let .invalidArguments(_, problem, usage): "\(problem). Usage: \(usage)"
        }
    }
}
