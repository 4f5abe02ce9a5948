import CommandLineSupport
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
    ],
    discussion: """
        The relay prints the address it listens on ("listening on 127.0.0.1:9000 (udp+tcp)") on
        standard output, and its log on standard error. SIGINT or SIGTERM tells the clients it is
        shutting down, waits up to 2 seconds for them to be told, and exits with status 0.

        EXAMPLES:
          relay --port 9000
          relay --port 0 --log-level debug
        """
)

/// What the relay was asked to do.
struct RelayOptions {
    var port: UInt16
    var bindAddress: String
    var peerTimeout: Duration
    var maximumPeers: Int
    var logLevel: LogLevel
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
            logLevel: LogLevel(name: level)!)
    }
}
