import enum Chat.ChatLimits
import enum Chat.ChatNames
import enum Chat.NameError
import CommandLineSupport
import struct Relay.RateLimit
import struct Relay.RelayConfiguration
import Transport

/// The relay's command line.
let relaySpecification = CommandSpecification(
    toolName: "relay",
    abstract: "The Datagram Chat relay: forwards chat between clients over UDP (Datagram) and TCP on one port.",
    options: [
        .option("port", valueName: "PORT", default: "9000",
                help: "UDP and TCP port to listen on; 0 picks a free port."),
        .option("bind", valueName: "ADDRESS", default: "127.0.0.1",
                help: "IPv4 or IPv6 address to listen on."),
        .option("peer-timeout", valueName: "SECONDS", default: "10",
                help: "Remove a peer heard nothing from for this long."),
        .option("max-peers", valueName: "N", default: "256",
                help: "Refuse new peers beyond this many."),
        .option("log-level", valueName: "LEVEL", default: "info",
                help: "One of debug, info, warning, error."),
        .option("max-per-address", valueName: "N", default: "32",
                help: "Refuse connections beyond this many from one address (an IPv4 address or an IPv6 /64)."),
        .option("max-handshakes-per-address", valueName: "N", default: "8",
                help: "Refuse connections beyond this many not yet joined (no WELCOME) from one address."),
        .option("hello-timeout", valueName: "SECONDS", default: "5",
                help: "Close a connection that has not joined (sent an accepted HELLO) this long after connecting."),
        .option("max-rooms", valueName: "N", default: "1024",
                help: "Refuse to create rooms beyond this many."),
        .option("max-rooms-per-user", valueName: "N", default: "16",
                help: "Refuse to let one user join more rooms than this (at most 16)."),
        .option("stall-timeout", valueName: "SECONDS", default: "5",
                help: "Disconnect a user that stops reading (its queue holds back its rooms and does not drain) for this long."),
        .option("rate", valueName: "MSGS[/BYTES]", default: "50/200000",
                help: "Each user's rate limit: messages (and bytes) per second, with 4 seconds of burst; 'off' for none."),
        .option("max-file-size", valueName: "SIZE", default: "4G",
                help: "Refuse to forward files larger than this (bytes, or with K, M or G)."),
        .option("admin", valueName: "NAME",
                help: "A relay administrator (repeatable): once it has typed /oper TOKEN, an operator in every room who may /kill and /kline."),
        .option("admin-token-file", valueName: "FILE",
                help: "Read the administrators' token from FILE (its first line) instead of drawing one at start."),
        .option("key", valueName: "FILE",
                help: "The relay's identity key file (default DIR/identity.key in the data directory, or $XDG_STATE_HOME/datagram-chat/relay/identity.key with --data :memory:; created on first start, mode 0600). Its fingerprint is printed at start."),
        .flag("allow-plaintext", help: "Accept plaintext sessions (chat --plaintext, UDP and TCP) beside the sealed ones; for the course only."),
        .option("data", valueName: "DIR",
                help: "The relay's data directory (bans, room settings, history); ':memory:' for an ephemeral relay. Default: $XDG_STATE_HOME/datagram-chat/relay (or ~/.local/state/datagram-chat/relay)."),
        .option("history-lines", valueName: "N", default: "50",
                help: "Lines of a room's history a user gets on joining it (0: none)."),
        .option("history-days", valueName: "DAYS", default: "30",
                help: "Drop history lines older than DAYS days (0: keep them until the per-room count limit)."),
    ],
    discussion: """
        The relay prints the address it listens on ("listening on 127.0.0.1:9000 (udp+tcp)") on
        standard output, and its log on standard error. SIGINT or SIGTERM tells the clients it is
        shutting down, waits up to 2 seconds for them to be told, and exits with status 0.

        LIMITS: a sender over its --rate is slowed down, not cut off: the relay reads it more slowly
        (UDP: its data is left unacknowledged and sent again; TCP: its stream is not read) and tells it
        once. A user that stops reading while its queue holds back its rooms is disconnected after
        --stall-timeout. Room and user lists are sent in several messages when long.

        EXAMPLES:
          relay --port 9000
          relay --port 0 --log-level debug
          relay --rate 20/50000 --max-per-address 4
          relay --admin teacher --admin ta

        ADMINISTRATORS: with --admin, the relay draws a random token at start and prints it on standard
        output ("administrator token: ..."). A user holding an administrator's name gets the rights
        only after typing /oper TOKEN, for as long as that session holds the name; holding the name
        alone gives nothing. Keep the token to yourself. (Accounts, issue 11, will replace this.)

        DATA: the relay keeps bans, room settings and room history in DIR/relay.sqlite3 (--data DIR,
        printed at start), and loads them when it starts again. Only one relay may use a directory.
        --data :memory: keeps nothing after the relay stops (tests and benchmarks use it).
        """
)

/// What the relay was asked to do.
struct RelayOptions {
    var port: UInt16
    var bindAddress: String
    var peerTimeout: Duration
    var maximumPeers: Int
    var logLevel: LogLevel
    var maximumConnectionsPerAddress: Int
    var maximumHandshakesPerAddress: Int
    var helloTimeout: Duration
    var maximumRooms: Int
    var maximumRoomsPerUser: Int
    var stalledReceiverTimeout: Duration
    var rateLimit: RateLimit?
    var administrators: [String] = []
    /// `--admin-token-file`: where to read the administrators' token, or nil to draw one.
    var administratorTokenFile: String?
    /// `--key FILE`: the relay's identity key file, or nil for the default.
    var keyFile: String? = nil
    /// `--allow-plaintext`: accept plaintext UDP sessions too.
    var allowsPlaintext = false
    /// `--max-file-size`: the largest file the relay forwards.
    var maximumFileSize: UInt64 = 4 << 30
    /// `--data`: the data directory as given, or nil for the default.
    var dataDirectory: String? = nil
    /// `--history-lines` and `--history-days` (0: no age limit).
    var historyLines = 50
    var historyDays = 30

    /// The relay's configuration for these options.
    var configuration: RelayConfiguration {
        var configuration = RelayConfiguration()
        configuration.peerTimeout = peerTimeout
        configuration.maximumPeers = maximumPeers
        configuration.maximumConnectionsPerAddress = maximumConnectionsPerAddress
        configuration.maximumHandshakesPerAddress = maximumHandshakesPerAddress
        configuration.helloTimeout = helloTimeout
        configuration.maximumRooms = maximumRooms
        configuration.maximumRoomsPerUser = maximumRoomsPerUser
        configuration.stalledReceiverTimeout = stalledReceiverTimeout
        configuration.rateLimit = rateLimit
        configuration.administrators = administrators
        configuration.allowsPlaintext = allowsPlaintext
        configuration.files.maximumFileSize = maximumFileSize
        configuration.historyLinesOnJoin = historyLines
        return configuration
    }
}

/// `off`, `MSGS` or `MSGS/BYTES` (`--rate`); without BYTES, 4,096 bytes per message.
func parseRateLimit(_ text: String) throws(UsageError) -> RateLimit? {
    if text == "off" { return nil }
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count), let messages = Int(parts[0]), (1...1_000_000).contains(messages) else {
        throw rateUsageError(text)
    }
    var bytes = messages * 4_096
    if parts.count == 2 {
        guard let value = Int(parts[1]), (ChatLimits.maximumMessageSize...1_000_000_000).contains(value) else {
            throw rateUsageError(text)
        }
        bytes = value
    }
    return RateLimit(messagesPerSecond: messages, bytesPerSecond: bytes)
}

private func rateUsageError(_ text: String) -> UsageError {
    UsageError("invalid value '\(text)' for '--rate': expected MSGS or MSGS/BYTES per second (MSGS from 1 to 1000000, "
        + "BYTES from \(ChatLimits.maximumMessageSize) to 1000000000), e.g. '--rate 50/200000', or 'off'")
}

/// Parses the relay's arguments (without the program name).
func parseRelayOptions(_ arguments: [String]) -> CommandLineOutcome<RelayOptions> {
    relaySpecification.parse(arguments) { (parsed) throws(UsageError) in
        let level = try parsed.choice("log-level", from: LogLevel.names)!
        let timeout = try parsed.number("peer-timeout", in: 0.5...3600)!
        return RelayOptions(
            port: UInt16(try parsed.integer("port", in: 0...65535)!),
            bindAddress: parsed.string("bind")!,
            peerTimeout: .milliseconds(Int64(timeout * 1000)),
            maximumPeers: try parsed.integer("max-peers", in: 1...100_000)!,
            logLevel: LogLevel(name: level)!,
            maximumConnectionsPerAddress: try parsed.integer("max-per-address", in: 1...100_000)!,
            maximumHandshakesPerAddress: try parsed.integer("max-handshakes-per-address", in: 1...100_000)!,
            helloTimeout: .milliseconds(Int64(try parsed.number("hello-timeout", in: 0.1...3600)! * 1000)),
            maximumRooms: try parsed.integer("max-rooms", in: 1...1_000_000)!,
            maximumRoomsPerUser: try parsed.integer("max-rooms-per-user", in: 1...ChatLimits.maximumRoomsPerUser)!,
            stalledReceiverTimeout: .milliseconds(Int64(try parsed.number("stall-timeout", in: 0.1...3600)! * 1000)),
            rateLimit: try parseRateLimit(parsed.string("rate")!),
            administrators: try administratorNames(arguments),
            administratorTokenFile: parsed.string("admin-token-file"), keyFile: parsed.string("key"),
            allowsPlaintext: parsed.isSet("allow-plaintext"),
            maximumFileSize: try parseByteSize(parsed.string("max-file-size")!, option: "max-file-size"),
            dataDirectory: parsed.string("data"),
            historyLines: try parsed.integer("history-lines", in: 0...1_000)!,
            historyDays: try parsed.integer("history-days", in: 0...36_500)!)

    }
}

/// Every `--admin NAME` (or `--admin=NAME`) given: the option may be repeated, and the parser keeps
/// only the last value of an option, so the names are collected from the arguments themselves.
func administratorNames(_ arguments: [String]) throws(UsageError) -> [String] {
    var names: [String] = []
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        var name: String?
        if argument == "--admin", index + 1 < arguments.count {
            name = arguments[index + 1]
            index += 1
        } else if argument.hasPrefix("--admin=") {
            name = String(argument.dropFirst("--admin=".count))
        }
        if let name {
            do throws(NameError) {
                try ChatNames.validateUserName(name)
            } catch {
                throw UsageError("invalid value '\(name)' for '--admin': \(error)")
            }
            names.append(name)
        }
        index += 1
    }
    return names
}
