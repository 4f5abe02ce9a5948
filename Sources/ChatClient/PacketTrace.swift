import ChatClientCore
import Datagram
import DatagramRuntime
import LinkSimulator

/// Words for packet fates (`/trace on`) and for connection statistics (`/stats`).
enum PacketTrace {
    /// One line for one packet's fate: `sent #12 DATA 84 B msg #3 frag 0/1, PTO 999.0 ms`.
    static func describe(_ fate: PacketFate) -> String {
        switch fate {
        case let .sent(number, type, bytes, message, fragment, probeTimeout):
            let payload = message.map { " msg \($0)" + (fragment.map { " frag \($0)" } ?? "") } ?? ""
            return "sent     pkt \(number) \(type) \(bytes) B\(payload), PTO \(milliseconds(probeTimeout))"
        case let .acknowledged(number, sample):
            return "acked    pkt \(number)" + (sample.map { ", RTT sample \(milliseconds($0))" } ?? "")
        case let .lost(number, .packetThreshold(largest)):
            return "LOST     pkt \(number): pkt \(largest) acknowledged, 3 or more later"
        case let .lost(number, .timeThreshold(age, threshold)):
            return "LOST     pkt \(number): sent \(milliseconds(age)) ago, over 9/8 RTT (\(milliseconds(threshold)))"
        case let .retransmitted(message, fragment, lostNumber):
            return "resend   msg \(message) frag \(fragment) (was in pkt \(lostNumber))"
        case let .probeTimeout(count, backoff):
            return "PTO      fired (\(count) in a row), next in \(milliseconds(backoff))"
        case let .duplicateDropped(number):
            return "dup      pkt \(number) already received, dropped"
        case let .corruptDropped(bytes, reason):
            return "corrupt  \(bytes) B dropped: \(reason)"
        }
    }

    /// `/stats` as aligned lines.
    static func report(_ statistics: ChatSessionStatistics, transport links: ChatSessionTransportStatistics,
                              linkConditions: LinkConditions?) -> [String] {
        var lines = ["transport        \(statistics.transport)"]
        lines.append("chat messages    \(statistics.messagesSent) sent, \(statistics.messagesAcknowledged) acknowledged, "
            + "\(statistics.messagesReceived) received, \(statistics.duplicatesSuppressed) duplicates hidden")
        lines.append("reconnections    \(statistics.reconnections), \(statistics.messagesResent) messages resent")
        if statistics.sealedSent > 0 || statistics.sealedRejected > 0 {
            lines.append("sealed privates  \(statistics.sealedSent) sent, \(statistics.sealedRejected) received and dropped "
                + "(forged, or not the sender's pinned key)")
        }
        if let connection = statistics.connection {
            lines += datagramLines(connection)
        }
        if let conditions = linkConditions, conditions.loss > 0 || conditions.delay > .zero {
            let percent = Int((conditions.loss * 1000).rounded()) 
            let dropped = (links.outgoingLink?.dropped ?? 0, links.incomingLink?.dropped ?? 0)
            lines.append("simulated link   loss \(percent / 10).\(percent % 10) %, delay \(milliseconds(conditions.delay)); "
                + "dropped \(dropped.0) out, \(dropped.1) in")
        }
        if statistics.transport == .tcp {
            let rtt = statistics.heartbeatRoundTripTime.map(milliseconds) ?? "unknown"
            lines.append("stream           \(statistics.streamBytesSent) B sent, \(statistics.streamBytesReceived) B received")
            lines.append("heartbeat RTT    \(rtt)")
        }
        return lines
    }

    private static func datagramLines(_ s: Connection.Statistics) -> [String] {
        [
            "packets          \(s.packetsSent) sent (\(s.bytesSent) B), \(s.packetsReceived) received (\(s.bytesReceived) B)",
            "losses           \(s.packetsLost) packets lost, \(s.retransmissions) fragments retransmitted, "
                + "\(s.probeTimeouts) probe timeouts",
            "dropped          \(s.duplicatesDropped) duplicates, \(s.corruptDropped) corrupt, \(s.malformedDropped) malformed, "
                + "\(s.outOfOrderBuffered) buffered out of order",
            "RTT              srtt \(milliseconds(s.smoothedRTT)), min \(milliseconds(s.minimumRTT)), "
                + "var \(milliseconds(s.rttVariance)), latest \(milliseconds(s.latestRTT))",
            "PTO              \(milliseconds(s.probeTimeout))",
            "congestion       cwnd \(s.congestionWindow) B, in flight \(s.bytesInFlight) B, queued \(s.queuedBytes) B",
        ]
    }

    /// `12.345 ms`.
    static func milliseconds(_ duration: Duration) -> String {
        let micros = duration.wholeMicroseconds
        let fraction = String(abs(micros % 1000))
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) ms"
    }
}
