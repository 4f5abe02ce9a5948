import Datagram
import DatagramRuntime
import Measurement
import Transport

/// The plain-socket floor: UDP and TCP echo over loopback, no relay and no protocol of ours.
enum Baselines {
    /// Paced echo round trips, shaped like the chat run, for `mode` (`.udpEcho` or `.tcpEcho`).
    static func chat(_ mode: Mode, options: Options) throws -> ChatFigures {
        let schedule = PacedSchedule(count: options.messageCount, interval: .seconds(1) / options.rate,
                                     size: options.size, warmUp: 10, drainTimeout: .seconds(3))
        let before = NetworkCounters.read()
        let sample = mode == .udpEcho
            ? try EchoBaseline.measureUDPRoundTrips(schedule)
            : try EchoBaseline.measureTCPRoundTrips(schedule)
        let traffic = before.flatMap { earlier in NetworkCounters.read()?.since(earlier) }
        let milliseconds = sample.roundTrips.map(\.milliseconds)
        // The warm-up's traffic is included; it is small beside the run and the same for every mode.
        return ChatFigures(sent: sample.sent, delivered: sample.roundTrips.count,
                           latency: LatencySummary(milliseconds: milliseconds),
                           retransmissions: mode == .udpEcho ? 0 : traffic?.tcpSegmentsRetransmitted,
                           wireBytesPerPayloadByte: RelayedModes.wirePerPayload(
                               traffic, payload: (sample.roundTrips.count + schedule.warmUp) * schedule.size))
    }

    /// A bulk transfer of `options.bulkBytes` into a counting sink.
    static func bulk(_ mode: Mode, options: Options) throws -> BulkFigures {
        let sample = mode == .udpEcho
            ? try BulkBaseline.measureUDP(bytes: options.bulkBytes, datagramSize: bulkDatagramSize)
            : try BulkBaseline.measureTCP(bytes: options.bulkBytes)
        var figures = BulkFigures(sample)
        if mode == .udpEcho { figures.sendMegabytesPerSecond = rateInMegabytesPerSecond(sample.bytesSent, sample.sendElapsed) }
        return figures
    }

    /// Plain UDP sends datagrams as large as the modes' bulk messages, so all move the same payload per packet.
    static let bulkDatagramSize = RelayedModes.bulkMessageSize
}

extension BulkFigures {
    init(_ sample: BulkSample) {
        let seconds = sample.elapsed.seconds
        self.init(bytesSent: sample.bytesSent, bytesDelivered: sample.bytesReceived, seconds: seconds,
                  megabytesPerSecond: rateInMegabytesPerSecond(sample.bytesReceived, sample.elapsed))
    }
}

/// Bytes over a duration in MB/s (10^6 bytes per second, as iperf3 prints MBytes/sec in decimal).
func rateInMegabytesPerSecond(_ bytes: Int, _ elapsed: Duration) -> Double {
    let seconds = elapsed.seconds
    return seconds > 0 ? Double(bytes) / seconds / 1e6 : 0
}

extension Duration {
    /// This duration in seconds, as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
