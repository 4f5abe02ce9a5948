import Datagram
import DatagramRuntime
import Measurement
import Transport

/// udp mode and tcp mode through an in-process relay: the chat-latency and bulk workloads.
enum RelayedModes {
    /// Messages sent before the measured ones, to open the path and let the RTT estimate settle.
    static let warmUpCount = 10
    /// Bulk messages are this many bytes of text, so each fits one Datagram packet on both hops.
    static let bulkMessageSize = 1000

    /// Fixed-rate messages from sender to receiver; one-way latency of each.
    static func chat(_ mode: Mode, simulatedLoss: Double, options: Options, seed: UInt64) throws -> ChatFigures {
        let run = try RelayedRun(mode: mode, simulatedLoss: simulatedLoss, seed: seed)
        defer { run.close() }
        try run.waitUntilJoined(timeout: .seconds(15))
        let count = options.messageCount
        let interval = Duration.seconds(1) / options.rate
        let total = warmUpCount + count
        var before = NetworkCounters.read()
        var retransmissionsBefore = 0
        let start = run.clock.now()
        for sequence in 0..<total {
            if sequence == warmUpCount {
                before = NetworkCounters.read()
                retransmissionsBefore = run.datagramRetransmissions
            }
            run.sleep(until: start + interval * sequence)
            let stamp = MessageStamp(sequence: sequence, sentAtMicroseconds: run.clock.now().microsecondsSinceOrigin)
            try run.say(stamp.text(size: options.size), deadline: run.clock.now() + .seconds(10))
        }
        _ = run.inbox.wait(until: { $0.messagesReceived >= total }, timeout: .seconds(20))
        let seen = run.inbox.snapshot
        let measured = seen.latencies.filter { $0.key >= warmUpCount }.map(\.value)
        let traffic = before.flatMap { earlier in NetworkCounters.read()?.since(earlier) }
        let retransmissions = mode.isDatagram
            ? run.datagramRetransmissions - retransmissionsBefore
            : traffic?.tcpSegmentsRetransmitted
        return ChatFigures(sent: count, delivered: measured.count, latency: LatencySummary(milliseconds: measured),
                           retransmissions: retransmissions,
                           wireBytesPerPayloadByte: wirePerPayload(traffic, payload: measured.count * options.size))
    }

    /// `options.bulkBytes` in messages as fast as the session accepts them; goodput at the receiver.
    static func bulk(_ mode: Mode, simulatedLoss: Double, options: Options, seed: UInt64) throws -> BulkFigures {
        let run = try RelayedRun(mode: mode, simulatedLoss: simulatedLoss, seed: seed &+ 7)
        defer { run.close() }
        try run.waitUntilJoined(timeout: .seconds(15))
        let count = max(1, options.bulkBytes / bulkMessageSize)
        let start = run.clock.now()
        let deadline = start + .seconds(120)
        for sequence in 0..<count {
            try run.say(MessageStamp(sequence: sequence, sentAtMicroseconds: 0).text(size: bulkMessageSize),
                        deadline: deadline)
        }
        let isComplete = run.inbox.wait(until: { $0.messagesReceived >= count }, timeout: deadline - run.clock.now())
        let seen = run.inbox.snapshot
        guard isComplete, let last = seen.lastArrival else {
            throw RunFailure("bulk delivered \(seen.messagesReceived) of \(count) messages before the deadline")
        }
        let elapsed = last - start
        return BulkFigures(bytesSent: count * bulkMessageSize, bytesDelivered: seen.bytesReceived,
                           seconds: elapsed.seconds,
                           megabytesPerSecond: rateInMegabytesPerSecond(seen.bytesReceived, elapsed))
    }

    static func wirePerPayload(_ traffic: NetworkCounters?, payload: Int) -> Double? {
        guard let traffic, payload > 0 else { return nil }
        return Double(traffic.ipBytesSent) / Double(payload)
    }
}
