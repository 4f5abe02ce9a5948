import CommandLineSupport

/// What `compare` was asked to do, parsed from its command line.
struct Options: Equatable {
    /// Loss levels in percent, in the order given.
    var lossPercents: [Int] = [0, 1, 5, 10]
    /// Where loss comes from: the kernel when it can (the default), or as asked.
    var lossChoice: LossChoice = .automatic
    /// How long each chat-latency run lasts, when `messages` is not given.
    var duration: Duration = .seconds(5)
    /// Messages per chat-latency run; overrides `duration` when set.
    var messages: Int?
    /// Chat messages per second.
    var rate = 50
    /// Chat message size in bytes.
    var size = 100
    /// Bytes moved by each bulk run.
    var bulkBytes = 4 << 20
    /// The file moved while chat latency is measured (issue 12); 0 skips that workload.
    var fileBytes = 64 << 20
    /// Print JSON instead of the table.
    var isJSON = false
    /// Write an SVG chart here.
    var svgPath: String?
    /// Seed for simulated loss; nil means one is drawn and printed.
    var seed: UInt64?
    /// A short run for CI smoke tests.
    var isQuick = false

    /// The number of chat messages each latency run sends.
    var messageCount: Int {
        if let messages { return messages }
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return max(1, Int(seconds * Double(rate)))
    }

    /// Applies `--quick`: two loss levels, a second of chat, a small bulk transfer.
    mutating func applyQuick() {
        lossPercents = [0, 5]
        messages = messages ?? 50
        rate = max(rate, 100)
        bulkBytes = min(bulkBytes, 512 << 10)
        fileBytes = min(fileBytes, 2 << 20)
    }
}

/// Where `compare`'s loss comes from.
enum LossChoice: Equatable {
    /// Kernel loss when this machine can, simulated loss (with the reason printed) otherwise.
    case automatic
    /// Kernel loss or nothing (`--kernel-loss`).
    case kernel
    /// In-process loss in udp mode only (`--simulated-loss`).
    case simulated
}

extension Options {
    /// The command line `compare` accepts, with its help text.
    static let specification = CommandSpecification(
        toolName: "compare",
        abstract: "Compare udp mode (Datagram over UDP) with tcp mode (the same chat protocol over TCP), "
            + "side by side under the same loss, with plain UDP and TCP echo over loopback as the floor.",
        options: [
            .option("loss", valueName: "LIST", default: "0,1,5,10", help: "Loss levels in percent, comma-separated."),
            .flag("kernel-loss", help: "Require kernel loss (the default whenever it works here): each level runs in a "
                + "private network namespace (unshare -rn) with an nftables rule on loopback input, so every mode faces "
                + "the same loss. Exits 69 when it cannot run."),
            .flag("simulated-loss", help: "Simulate loss in-process instead. It reaches udp mode only, so no udp-vs-tcp "
                + "ratio is printed for a lossy level."),
            .option("duration", valueName: "SECONDS", default: "5", help: "Length of each chat-latency run."),
            .option("messages", valueName: "N", help: "Messages per chat-latency run (overrides --duration)."),
            .option("rate", valueName: "N", default: "50", help: "Chat messages per second."),
            .option("size", valueName: "BYTES", default: "100", help: "Chat message size."),
            .option("bulk-bytes", valueName: "BYTES", default: "4M", help: "Bytes per bulk run; K and M suffixes allowed."),
            .option("file-bytes", valueName: "BYTES", default: "64M",
                    help: "The file moved between the two users while chat latency is measured (udp and tcp); 0 skips it."),
            .flag("json", help: "Print the results as JSON on stdout instead of the table."),
            .option("svg", valueName: "FILE", help: "Also write an SVG chart of latency percentiles per mode and loss level."),
            .option("seed", valueName: "N", help: "Seed for simulated loss (default: drawn and printed)."),
            .flag("quick", help: "A smoke run of a few seconds: loss 0,5, 50 messages at 100/s, 512K bulk, a 2M file."),
        ],
        discussion: """
        Everything runs in this process on loopback: an in-process relay, a sender and a receiver sharing
        one clock. Per loss level and mode it measures chat latency (fixed-rate messages, one-way from
        sender to receiver through the relay) and bulk goodput (messages as fast as the mode allows).
        Loss comes from the kernel whenever unshare, ip and nft (apt-get install nftables) and user
        namespaces (or root) are available, so udp and tcp face the same loss; otherwise compare says why
        on its first line and simulates loss in-process, which reaches udp mode only.

        Progress goes to stderr; the table or JSON to stdout. Exit status: 0 when every run completed,
        1 when a run failed, 64 on a bad command line, 69 when --kernel-loss cannot run here.

        EXAMPLES:
          swift run -c release compare
          swift run -c release compare --svg latency.svg
          swift run -c release compare --simulated-loss --seed 7
          swift run compare --quick --json
        """)

    /// Parses the arguments after the program name.
    static func parse(_ arguments: [String]) -> CommandLineOutcome<Options> {
        specification.parse(arguments) { (parsed) throws(UsageError) -> Options in
            var options = Options()
            options.lossPercents = try parseLossList(parsed.requiredString("loss"))
            switch (parsed.isSet("kernel-loss"), parsed.isSet("simulated-loss")) {
            case (true, true):
                throw UsageError("'--kernel-loss' and '--simulated-loss' exclude each other: give at most one")
            case (true, false): options.lossChoice = .kernel
            case (false, true): options.lossChoice = .simulated
            case (false, false): options.lossChoice = .automatic
            }
            let seconds = try parsed.number("duration", in: 0.1...3600) ?? 5
            options.duration = .milliseconds(Int64(seconds * 1000))
            options.messages = try parsed.integer("messages", in: 1...1_000_000)
            options.rate = try parsed.integer("rate", in: 1...100_000) ?? 50
            options.size = try parsed.integer("size", in: 8...60_000) ?? 100
            options.bulkBytes = try parseByteCount(parsed.requiredString("bulk-bytes"), name: "bulk-bytes")
            let fileBytes = try parsed.requiredString("file-bytes")
            options.fileBytes = fileBytes == "0" ? 0 : try parseByteCount(fileBytes, name: "file-bytes")
            options.isJSON = parsed.isSet("json")
            options.svgPath = parsed.string("svg")
            options.seed = try parsed.unsignedInteger("seed")
            options.isQuick = parsed.isSet("quick")
            if options.isQuick { options.applyQuick() }
            return options
        }
    }

    static func parseLossList(_ text: String) throws(UsageError) -> [Int] {
        var levels: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let level = Int(part), (0...100).contains(level) else {
                throw UsageError("invalid value '\(text)' for '--loss': expected whole percents from 0 to 100, like 0,1,5,10")
            }
            levels.append(level)
        }
        return levels
    }

    static func parseByteCount(_ text: String, name: String) throws(UsageError) -> Int {
        let multipliers: [Character: Int] = ["K": 1 << 10, "k": 1 << 10, "M": 1 << 20, "m": 1 << 20]
        var digits = Substring(text)
        var multiplier = 1
        if let last = digits.last, let factor = multipliers[last] {
            multiplier = factor
            digits = digits.dropLast()
        }
        guard let count = Int(digits), count > 0, count <= (1 << 30) / multiplier else {
            throw UsageError("invalid value '\(text)' for '--\(name)': expected bytes, like 4M, 512K or 65536")
        }
        return count * multiplier
    }
}
