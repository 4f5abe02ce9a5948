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
    /// `/join #room KEY`: join a room that has a key.
    case joinWithKey(room: String, key: String)
    /// An operator's or administrator's command (`/kick`, `/ban`, `/mode`, `/kline`, ...): `request.room`
    /// is empty when the command applies to the current room (the client fills it in) and for
    /// relay-wide commands (`isRelayWide`).
    case moderate(Moderation, isRelayWide: Bool)
    /// `/ignore NAME`: hide a user's lines locally; `/ignore` alone lists who is ignored.
    case ignore(String?)
    /// `/unignore NAME`.
    case unignore(String)
    /// `/save [FILE]`: write the current room's or conversation's scrollback to a file.
    case save(file: String?)
    /// `/whois NAME`: ask the relay for the user's identity key and show its fingerprint.
    case whois(String)
    /// `/trust NAME`: accept the changed identity key the user last presented (Specs/chat-protocol.md 4.10).
    case trust(String)
    /// `/send PATH NAME|#room`: offer a file (the last word is the target; the path may have spaces).
    case sendFile(path: String, to: String)
    /// `/accept [ID] [DIR]`: accept an offered file (the only one waiting when ID is left out).
    case acceptFile(id: UInt64?, directory: String?)
    /// `/reject [ID]`: refuse an offered file.
    case rejectFile(id: UInt64?)
    /// `/transfers`: list files moving and offers waiting.
    case transfers
    /// `/cancel ID`: stop a transfer or withdraw an offer.
    case cancelFile(id: UInt64)
    /// `/history [N|since DURATION]`: the current room's last N lines (default 50), or those said in
    /// the last DURATION (`10m`, `2h`, `1d`; at most 1000 lines).
    case history(count: Int, sinceSecondsAgo: UInt32?)
    /// `/receipts on|off`: show ticks for private messages (`✓` the relay has it, `✓✓` shown to the
    /// recipient) and send receipts for those received.
    case setReceipts(Bool)
    /// `/register [PASSWORD]`, `/identify NAME PASSWORD`, `/unregister`, `/password [OLD] NEW`,
    /// `/dropaccount NAME`: accounts (Specs/chat-protocol.md, section 4.11.5).
    case account(AccountRequest)

    /// The command names and their usage, as `/help` prints them.
    public static let usage: [(command: String, usage: String, summary: String)] = [
        ("msg", "/msg NAME text", "send a private message"),
        ("send", "/send PATH NAME|#room", "offer a file to a user or a room"),
        ("accept", "/accept [ID] [DIR]", "accept an offered file (into DIR)"),
        ("reject", "/reject [ID]", "refuse an offered file"),
        ("transfers", "/transfers", "list file transfers with progress"),
        ("cancel", "/cancel ID", "stop a file transfer or withdraw an offer"),
        ("me", "/me text", "describe an action"),
        ("join", "/join #room [KEY]", "join a room (with its key, if it has one) and make it current"),
        ("part", "/part [#room]", "leave a room (default: the current one)"),
        ("list", "/list", "list rooms"),
        ("who", "/who [#room]", "list users, with transport, endpoint and RTT"),
        ("nick", "/nick NAME", "change your name"),
        ("quit", "/quit [reason]", "leave"),
        ("help", "/help", "show this help"),
        ("loss", "/loss PCT", "drop PCT% of outgoing datagrams (demo)"),
        ("trace", "/trace on|off", "show every packet's fate (demo)"),
        ("stats", "/stats", "show connection statistics"),
        ("op", "/op NAME", "make a member an operator of the current room (operators)"),
        ("deop", "/deop NAME", "take operator rights away (operators)"),
        ("voice", "/voice NAME", "let a member speak in a moderated room (operators)"),
        ("devoice", "/devoice NAME", "take the voice away (operators)"),
        ("mute", "/mute NAME", "stop a member speaking in the room (operators)"),
        ("unmute", "/unmute NAME", "let a muted member speak again (operators)"),
        ("kick", "/kick NAME [reason]", "remove a member from the room (operators)"),
        ("ban", "/ban NAME|ADDRESS[/BITS] [duration] [reason]", "keep a user or address out of the room; duration like 90s, 10m, 2h, 1d (operators)"),
        ("unban", "/unban NAME|MASK", "lift a ban (operators)"),
        ("bans", "/bans", "list the room's bans"),
        ("topic", "/topic text", "set the room's topic (operators)"),
        ("mode", "/mode +m|-m|+i|-i|+k KEY|-k", "moderated, invite-only, key (operators)"),
        ("invite", "/invite NAME", "let a user into an invite-only room (operators)"),
        ("oper", "/oper TOKEN", "become the administrator your name was given for (the token the relay printed)"),
        ("kill", "/kill NAME [reason]", "disconnect a user from the relay (administrators)"),
        ("kline", "/kline NAME|ADDRESS[/BITS] [duration] [reason]", "ban from the whole relay (administrators)"),
        ("unkline", "/unkline NAME|MASK", "lift a relay-wide ban (administrators)"),
        ("klines", "/klines", "list the relay-wide bans (administrators)"),
        ("ignore", "/ignore [NAME]", "hide a user's lines (kept in your configuration); alone: list"),
        ("unignore", "/unignore NAME", "show a user's lines again"),
        ("save", "/save [FILE]", "write this room's or conversation's scrollback to a file"),
        ("whois", "/whois NAME", "show a user's identity key fingerprint, to compare out of band"),
        ("trust", "/trust NAME", "accept a contact's changed identity key (after comparing fingerprints)"),
        ("receipts", "/receipts on|off", "ticks for private messages: ✓ the relay has it, ✓✓ delivered; and send receipts"),
        ("register", "/register [PASSWORD]", "make your name yours (your key logs in; the password lets another device in)"),
        ("identify", "/identify NAME PASSWORD", "log in to a registered name from another device (adds its key)"),
        ("unregister", "/unregister", "give up your registered name and its offline messages"),
        ("password", "/password [OLD] NEW", "change your account's password (OLD only without your registered key)"),
        ("dropaccount", "/dropaccount NAME", "drop a user's account (administrators)"),
        ("history", "/history [N|since DURATION]", "show the room's last N lines (default 50) or those of the last 10m, 2h, 1d"),
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
