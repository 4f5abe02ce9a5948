import Chat
import CommandLineSupport
import DatagramRuntime
import Transport

/// The chat client's command line.
let chatSpecification = CommandSpecification(
    toolName: "chat",
    abstract: "A Datagram Chat client: chat through a relay over UDP (Datagram reliability) or TCP.",
    options: [
        .option("name", valueName: "NAME", isRequired: true, help: "Your nickname (1-32 characters)."),
        .option("relay", valueName: "HOST:PORT", default: "127.0.0.1:9000", help: "The relay's address."),
        .option("mode", valueName: "MODE", default: "udp", help: "Transport: udp or tcp."),
        .option("room", valueName: "ROOM", default: "#lobby", help: "The room to join first."),
        .option("loss", valueName: "PCT", default: "0",
                help: "Simulated loss in percent, both directions (udp only; /loss changes it)."),
        .option("delay", valueName: "MS", default: "0", help: "Simulated one-way delay in milliseconds (udp only)."),
        .option("seed", valueName: "N", help: "Seed of the simulated loss (random when absent; printed)."),
        .flag("trace", help: "Print every packet's fate from the start (/trace toggles it)."),
        .flag("plaintext", help: "Speak the unencrypted protocol (the relay must run with --allow-plaintext). For the course only."),
        .option("log-level", valueName: "LEVEL", default: "warning", help: "One of debug, info, warning, error."),
        .option("log", valueName: "DIR",
                help: "Append every room and conversation to DIR/<target>.log as it happens (dated lines)."),
        .option("drain-timeout", valueName: "SECONDS", default: "10",
                help: "Line mode: how long to wait at end of input for acknowledgements."),
        .option("identity", valueName: "FILE",
                help: "Your identity key file (default $XDG_CONFIG_HOME/datagram-chat/identity.key, created on first run, mode 0600)."),
        .flag("accept-new-relay-key",
              help: "Accept a relay key that differs from the one pinned in known_relays (after checking its fingerprint)."),
        .option("download-dir", valueName: "DIR",
                help: "Where received files go (default: $XDG_DOWNLOAD_DIR, else ~/Downloads)."),
        .flag("accept-files", help: "Accept every file offered (up to --max-file-size) without asking."),
        .option("max-file-size", valueName: "SIZE", default: "4G",
                help: "Refuse offered files larger than this (bytes, or with K, M or G)."),
    ],
    discussion: """
        On a terminal, type messages and commands; received lines appear above the line you are
        typing. Otherwise (a pipe or a file) each input line is a message or a command, received
        lines go to standard output, and at end of input the client waits until everything it sent
        is acknowledged, then quits (status 0), or names what was not delivered (status 1).

        EXIT STATUS:
          0   everything sent was acknowledged (or /quit)
          1   something was not delivered, a name was refused, or another run took the session
          3   the relay refused this client for good, and retrying cannot help: it accepts encrypted
              sessions only and --plaintext was given (drop --plaintext, or run the relay with
              --allow-plaintext), or its key is not the one pinned for its address, or it speaks no
              encryption; the message says what to do. Interactive or not, the client stops.
          64  a usage error (a bad option or value)

        COMMANDS:
          /msg NAME TEXT    private message          /join ROOM   join a room (and talk there)
          /part [ROOM]      leave a room             /list        rooms and their sizes
          /who [ROOM]       users, transport and RTT /nick NAME   change your name
          /me ACTION        an action                /quit [TEXT] leave
          /loss PCT         simulated loss (udp)     /trace on|off  packet fates
          /stats            connection statistics    /help        this list
          /join ROOM KEY    join a room with a key   /save [FILE] save this room's lines
          /ignore NAME      hide someone's lines     /unignore NAME
          /whois NAME       a user's key fingerprint /trust NAME  accept a contact's changed key
          /send PATH NAME|#ROOM  offer a file        /accept [ID] [DIR]  /reject [ID]
          /transfers        files moving             /cancel ID   stop one
          Operators: /op /deop /voice /mute /kick /ban /unban /bans /topic /mode /invite
          Administrators (relay --admin): /oper TOKEN, then /kill /kline /unkline /klines   (/help: details)

        EXAMPLES:
          chat --name alice --relay 127.0.0.1:9000
          chat --name bob --mode tcp
          chat --name carol --loss 30 --seed 7 --trace
          chat --name dave --log ~/chatlogs
        """
)

/// Which transport a client uses.
enum ClientMode: String {
    case udp, tcp
}

/// What the chat client was asked to do.
struct ClientOptions {
    var name: String
    var relayHost: String
    var relayPort: UInt16
    var mode: ClientMode
    var room: String
    var lossPercent: Double
    var delay: Duration
    var seed: UInt64?
    var isTracing: Bool
    var logLevel: LogLevel
    var drainTimeout: Duration
    var logDirectory: String? = nil
    /// `--identity FILE`; nil: the default path.
    var identityFile: String? = nil
    /// `--accept-new-relay-key`.
    var acceptsNewRelayKey = false
    /// `--plaintext`: an unencrypted UDP session.
    var isPlaintext = false
    /// `--download-dir`, or the default (`ClientFiles.downloadDirectory`).
    var downloadDirectory: String = ""
    /// `--accept-files`.
    var acceptsFiles = false
    /// `--max-file-size`.
    var maximumFileSize: UInt64 = 4 << 30
}

/// Parses the client's arguments (without the program name).
func parseClientOptions(_ arguments: [String]) -> CommandLineOutcome<ClientOptions> {
    chatSpecification.parse(arguments) { (parsed) throws(UsageError) in
        let mode = ClientMode(rawValue: try parsed.choice("mode", from: ["udp", "tcp"])!)!
        let (host, port) = try relayAddress(parsed)
        let loss = try parsed.number("loss", in: 0...100)!
        let delay = try parsed.integer("delay", in: 0...10_000)!
        if mode == .tcp, loss > 0 || delay > 0 {
            throw UsageError("--loss and --delay simulate a lossy link under Datagram (--mode udp); "
                + "TCP's loss has to come from the network (see compare --kernel-loss)")
        }
        if mode == .tcp, parsed.isSet("trace") {
            throw UsageError("--trace shows Datagram's packets (--mode udp); TCP's segments belong to the kernel")
        }
        let drain = try parsed.number("drain-timeout", in: 0...3600)!
        let name = try parsed.requiredString("name")
        do throws(NameError) { try ChatNames.validateUserName(name) } catch {
            throw parsed.invalid("name", name, "a valid name (\(error))")
        }
        var room = parsed.string("room")!
        if !room.hasPrefix("#") { room = "#" + room }
        do throws(NameError) { try ChatNames.validateRoomName(room) } catch {
            throw parsed.invalid("room", room, "a valid room (\(error))")
        }
        var options = ClientOptions(
            name: name, relayHost: host, relayPort: port, mode: mode,
            room: room, lossPercent: loss, delay: .milliseconds(delay),
            seed: try parsed.unsignedInteger("seed"), isTracing: parsed.isSet("trace"),
            logLevel: LogLevel(name: try parsed.choice("log-level", from: LogLevel.names)!)!,
            drainTimeout: .milliseconds(Int64(drain * 1000)), logDirectory: parsed.string("log"),
            identityFile: parsed.string("identity"), acceptsNewRelayKey: parsed.isSet("accept-new-relay-key"),
            isPlaintext: parsed.isSet("plaintext"))
        options.downloadDirectory = parsed.string("download-dir") ?? ClientFiles.downloadDirectory().path
        options.acceptsFiles = parsed.isSet("accept-files")
        options.maximumFileSize = try parseByteSize(parsed.string("max-file-size")!, option: "max-file-size")
        return options
    }
}

/// Splits `--relay` into host and port: `127.0.0.1:9000`, `[::1]:9000`, or a bare host (port 9000).
private func relayAddress(_ parsed: ParsedArguments) throws(UsageError) -> (String, UInt16) {
    let text = parsed.string("relay")!
    var host = text
    var portText = "9000"
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
        host = String(text[text.index(after: text.startIndex)..<close])
        let rest = text[text.index(after: close)...]
        if rest.hasPrefix(":") { portText = String(rest.dropFirst()) }
    } else if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
        host = String(text[..<colon])
        portText = String(text[text.index(after: colon)...])
    }
    guard !host.isEmpty, let port = UInt16(portText), port > 0 else {
        throw parsed.invalid("relay", text, "HOST:PORT, for example 127.0.0.1:9000")
    }
    return (host, port)
}
