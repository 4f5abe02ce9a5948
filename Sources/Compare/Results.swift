/// Latency percentiles of one run, in milliseconds (nearest-rank method).
struct LatencySummary: Codable, Equatable {
    var p50: Double
    var p90: Double
    var p99: Double
    var max: Double

    /// Summarizes `samples` (milliseconds, any order); nil when there are none.
    init?(milliseconds samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        p50 = Self.percentile(50, of: sorted)
        p90 = Self.percentile(90, of: sorted)
        p99 = Self.percentile(99, of: sorted)
        max = sorted[sorted.count - 1]
    }

    init(p50: Double, p90: Double, p99: Double, max: Double) {
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.max = max
    }

    /// The nearest-rank percentile: the smallest sample with at least `percent` % of samples at or below it.
    static func percentile(_ percent: Double, of sorted: [Double]) -> Double {
        precondition(!sorted.isEmpty, "percentile of no samples")
        let rank = Int((percent / 100 * Double(sorted.count)).rounded(.up))
        return sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]
    }
}

/// The modes and baselines `compare` measures, in table order.
enum Mode: String, Codable, CaseIterable {
    /// Datagram over UDP through the relay.
    case udp
    /// Datagram between two endpoints, no relay and no chat protocol: the layer alone.
    case udpPointToPoint = "udp-p2p"
    /// The same chat protocol over TCP through the relay.
    case tcp
    /// udp without encryption (`chat --plaintext`, `relay --allow-plaintext`): what sealing costs.
    case udpPlaintext = "udp-plain"
    /// tcp without encryption: what sealing costs on TCP.
    case tcpPlaintext = "tcp-plain"
    /// Plain UDP echo on loopback, no relay: the socket floor for udp.
    case udpEcho = "udp-echo"
    /// Plain TCP echo on loopback, no relay: the socket floor for tcp.
    case tcpEcho = "tcp-echo"

    var isBaseline: Bool { self == .udpEcho || self == .tcpEcho }
    /// Datagram carries it (simulated loss reaches these modes only).
    var isDatagram: Bool { self == .udp || self == .udpPointToPoint || self == .udpPlaintext }
    /// The chat protocol over TCP through the relay, sealed or not.
    var isTCP: Bool { self == .tcp || self == .tcpPlaintext }
    /// Runs without encryption (the `udp` and `tcp` rows, like every real session, are sealed).
    var isPlaintext: Bool { self == .udpPlaintext || self == .tcpPlaintext }
}

/// Chat-latency figures for one mode at one loss level.
struct ChatFigures: Codable, Equatable {
    /// Messages sent after the warm-up.
    var sent: Int
    /// Messages that reached the receiver.
    var delivered: Int
    /// One-way latency sender to receiver through the relay; for the echo baselines, the round trip
    /// (which crosses loopback twice, as a relayed message does).
    var latency: LatencySummary?
    /// Fragments or segments sent again, all hops; nil when the mode cannot tell.
    var retransmissions: Int?
    /// Bytes on the wire (all hops, both directions, IP and transport headers included) per payload byte delivered.
    var wireBytesPerPayloadByte: Double?
}

/// Bulk-transfer figures for one mode at one loss level.
struct BulkFigures: Codable, Equatable {
    var bytesSent: Int
    var bytesDelivered: Int
    var seconds: Double
    /// Delivered payload per second, in MB/s (10^6 bytes).
    var megabytesPerSecond: Double
    /// For plain UDP: the rate at which `sendto` accepted the bytes, MB/s.
    var sendMegabytesPerSecond: Double?
}

/// Everything measured for one mode at one loss level.
struct ModeResult: Codable, Equatable {
    var mode: Mode
    /// Whether this level's loss reached this mode (simulated loss reaches udp mode only).
    var isLossApplied: Bool
    var chat: ChatFigures?
    var bulk: BulkFigures?
    /// Chat latency while a file moves, and the file's goodput (udp and tcp modes; issue 12).
    var file: FileFigures?
    /// Failures and caveats, printed under the table.
    var notes: [String] = []
    /// True when a run of this mode failed (a reliable message was not delivered, a socket failed ...).
    var isFailed = false
}

/// All results at one loss level.
struct LevelResult: Codable, Equatable {
    var lossPercent: Int
    var results: [ModeResult]

    func result(_ mode: Mode) -> ModeResult? { results.first { $0.mode == mode } }
}

/// How packets were dropped.
enum LossKind: String, Codable {
    /// In-process, between the udp-mode sockets and the Datagram connections, seeded.
    case simulated
    /// By an nftables rule on loopback input in a private network namespace.
    case kernel
}

/// One complete `compare` run, as printed with `--json`.
struct Report: Codable, Equatable {
    var lossKind: LossKind
    var seed: UInt64
    var rate: Int
    var size: Int
    var messages: Int
    var bulkBytes: Int
    var machine: String
    var levels: [LevelResult]
    var targets: [TargetCheck] = []

    var isFailed: Bool { levels.contains { $0.results.contains { $0.isFailed } } }
}
