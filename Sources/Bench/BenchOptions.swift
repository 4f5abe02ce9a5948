import CommandLineSupport

/// What `relay-scale` was asked to do.
struct RelayScaleOptions {
    var peers = 10_000
    var duration: Duration = .seconds(20)
    var roomSize = 10
    var batchSize = 500
    /// Peers per worker process when they do not fit this process's open-file limit.
    var peersPerWorker = 15_000
    var isJSON = false
    /// `--relay-data DIR`: the relay's data directory (default ':memory:').
    var relayData = ":memory:"

    static let specification = CommandSpecification(
        toolName: "bench relay-scale",
        abstract: "Start the relay, bring up N idle UDP peers heartbeating at 1 Hz, and measure the relay's CPU and RSS.",
        options: [
            .option("peers", valueName: "N", default: "10000", help: "Idle peers to connect and join."),
            .option("duration", valueName: "SECONDS", default: "20", help: "How long to measure once all have joined."),
            .option("room-size", valueName: "N", default: "10", help: "Peers per room (joins notify every member)."),
            .option("batch", valueName: "N", default: "500", help: "Peers started every 100 ms while ramping up."),
            .option("relay-data", valueName: "DIR", default: ":memory:", help: "The relay's data directory (a real one measures durability)."),
            .flag("json", help: "Print the results as JSON on stdout instead of the table."),
        ],
        discussion: """
        The relay runs as a child process (the `relay` binary next to `bench`) on 127.0.0.1 with an
        ephemeral port. Every peer has its own socket and Datagram connection with a 1 s keepalive, all
        driven by one loop in this process. Target: under 25 % of one core and 100 MB RSS for the relay.
        When the peers need more sockets than this process may open (`ulimit -n`), they are spread over
        worker processes of up to 15,000 each (this binary, as `relay-scale-worker`), each on its own
        loopback address (127.0.1.K), started one after another; their CPU is reported as the bench's.

        EXAMPLES:
          swift run -c release bench relay-scale --peers 1000 --duration 10
          swift run -c release bench relay-scale --peers 50000 --duration 15
        """)

    static func parse(_ arguments: [String]) -> CommandLineOutcome<RelayScaleOptions> {
        specification.parse(arguments) { (parsed) throws(UsageError) in
            var options = RelayScaleOptions()
            options.peers = try parsed.integer("peers", in: 1...200_000)!
            options.duration = .milliseconds(Int64(try parsed.number("duration", in: 1...3600)! * 1000))
            options.roomSize = try parsed.integer("room-size", in: 1...10_000)!
            options.batchSize = try parsed.integer("batch", in: 1...10_000)!
            options.relayData = parsed.string("relay-data")!
            options.isJSON = parsed.isSet("json")
            return options
        }
    }
}

/// What `fanout` was asked to do.
struct FanoutOptions {
    var receivers = 50
    var messages = 2000
    var size = 100
    var isJSON = false
    /// `--relay-data DIR`: the relay's data directory (default ':memory:').
    var relayData = ":memory:"

    static let specification = CommandSpecification(
        toolName: "bench fanout",
        abstract: "One sender and M receivers in #lobby through the relay: deliveries per second and exactly-once, in-order checks.",
        options: [
            .option("receivers", valueName: "M", default: "50", help: "Receivers in the room."),
            .option("messages", valueName: "N", default: "2000", help: "Messages the sender says."),
            .option("size", valueName: "BYTES", default: "100", help: "Text size of each message."),
            .option("relay-data", valueName: "DIR", default: ":memory:", help: "The relay's data directory (a real one measures durability)."),
            .flag("json", help: "Print the results as JSON on stdout instead of the table."),
        ],
        discussion: """
        The sender says messages as fast as its send queue allows (push-back, not loss). Every receiver
        must get every message exactly once and in order.

        EXAMPLES:
          swift run -c release bench fanout --receivers 100 --messages 5000
        """)

    static func parse(_ arguments: [String]) -> CommandLineOutcome<FanoutOptions> {
        specification.parse(arguments) { (parsed) throws(UsageError) in
            var options = FanoutOptions()
            options.receivers = try parsed.integer("receivers", in: 1...5000)!
            options.messages = try parsed.integer("messages", in: 1...1_000_000)!
            options.size = try parsed.integer("size", in: 12...4000)!
            options.relayData = parsed.string("relay-data")!
            options.isJSON = parsed.isSet("json")
            return options
        }
    }
}

/// What `attack` was asked to do.
struct AttackOptions {
    var scenarios = AttackScenario.allCases
    var duration: Duration = .seconds(10)
    var rate = 20
    var seed: UInt64 = 1
    var relayArguments: [String] = []
    var isJSON = false

    static let specification = CommandSpecification(
        toolName: "bench attack",
        abstract: "Replay the attacks of issue 8 against the real relay while alice (udp) and carol (tcp) keep chatting.",
        options: [
            .option("scenario", valueName: "LIST", default: "all",
                    help: "Comma-separated: \(AttackScenario.allCases.map(\.rawValue).joined(separator: ", ")), or all."),
            .option("duration", valueName: "SECONDS", default: "10", help: "How long each attack lasts."),
            .option("rate", valueName: "N", default: "20", help: "Lines per second each of alice and carol says during the attack."),
            .option("seed", valueName: "N", default: "1", help: "Seed for the attack's random bytes."),
            .option("relay-args", valueName: "ARGS", help: "Extra arguments for the relay, space-separated (for example --relay-args='--rate 100 --stall-timeout 2')."),
            .flag("json", help: "Print the results as JSON on stdout instead of the table."),
        ],
        discussion: """
        Each scenario starts a fresh relay (the `relay` binary next to `bench`) on 127.0.0.1. alice and carol
        join #lobby from 127.0.0.1 and say numbered lines for the whole attack; afterwards every line must
        have arrived exactly once and in order, with neither of them disconnected. Attackers use other
        loopback addresses (127.0.0.2 and up) unless the attack is about the users' own address. The
        relay's resident memory is sampled throughout; the table shows its peak.

        Exit status: 0 when every scenario passed, 1 when one failed, 64 on a bad command line.

        EXAMPLES:
          swift run -c release bench attack
          swift run -c release bench attack --scenario fragments,flood --duration 20
        """)

    static func parse(_ arguments: [String]) -> CommandLineOutcome<AttackOptions> {
        specification.parse(arguments) { (parsed) throws(UsageError) in
            var options = AttackOptions()
            let list = parsed.string("scenario") ?? "all"
            if list != "all" {
                options.scenarios = []
                for name in list.split(separator: ",") {
                    guard let scenario = AttackScenario(rawValue: String(name)) else {
                        throw UsageError("invalid value '\(name)' for '--scenario': expected one of "
                            + AttackScenario.allCases.map(\.rawValue).joined(separator: ", ") + ", or all")
                    }
                    options.scenarios.append(scenario)
                }
            }
            options.duration = .milliseconds(Int64(try parsed.number("duration", in: 1...3600)! * 1000))
            options.rate = try parsed.integer("rate", in: 1...1000)!
            options.seed = try parsed.unsignedInteger("seed") ?? 1
            options.relayArguments = (parsed.string("relay-args") ?? "").split(separator: " ").map(String.init)
            options.isJSON = parsed.isSet("json")
            return options
        }
    }
}
