import Transport

/// Counters of the current network namespace from `/proc/net/netstat` and `/proc/net/snmp`.
///
/// On loopback every packet is counted once in `OutOctets` as it leaves (including packets a firewall
/// rule later drops on input), so the difference between two readings is the bytes put on the wire,
/// IP and transport headers included. The counters cover the whole namespace: inside the private
/// namespace of `compare --kernel-loss` that is exactly this process's traffic.
public struct NetworkCounters: Sendable, Hashable {
    /// IP bytes sent (`IpExt: OutOctets`).
    public var ipBytesSent: Int
    /// TCP segments retransmitted (`Tcp: RetransSegs`).
    public var tcpSegmentsRetransmitted: Int

    /// Creates counters.
    public init(ipBytesSent: Int, tcpSegmentsRetransmitted: Int) {
        self.ipBytesSent = ipBytesSent
        self.tcpSegmentsRetransmitted = tcpSegmentsRetransmitted
    }

    /// Reads both files now; nil when `/proc/net` is unreadable.
    public static func read() -> NetworkCounters? {
        guard let netstat = ProcFile.read("/proc/net/netstat"),
              let snmp = ProcFile.read("/proc/net/snmp"),
              let octets = value(of: "OutOctets", section: "IpExt", in: netstat),
              let retransmitted = value(of: "RetransSegs", section: "Tcp", in: snmp) else { return nil }
        return NetworkCounters(ipBytesSent: octets, tcpSegmentsRetransmitted: retransmitted)
    }

    /// The change from `earlier` to `self`.
    public func since(_ earlier: NetworkCounters) -> NetworkCounters {
        NetworkCounters(ipBytesSent: ipBytesSent - earlier.ipBytesSent,
                        tcpSegmentsRetransmitted: tcpSegmentsRetransmitted - earlier.tcpSegmentsRetransmitted)
    }

    /// Finds `name` in a `/proc/net` table, where a line of names (`Tcp: RtoAlgorithm ...`) is followed
    /// by a line of values with the same prefix.
    static func value(of name: String, section: String, in text: String) -> Int? {
        let lines = text.split(separator: "\n").filter { $0.hasPrefix(section + ":") }
        guard lines.count >= 2 else { return nil }
        let names = lines[0].split(separator: " ")
        let values = lines[1].split(separator: " ")
        guard let index = names.firstIndex(where: { $0 == name }), index < values.count else { return nil }
        return Int(values[index])
    }
}
