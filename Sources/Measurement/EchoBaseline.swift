import Transport
import Synchronization

/// Round-trip times of one paced echo run: what the socket floor gives a chat message.
public struct RoundTripSample: Sendable {
    /// Messages sent after the warm-up.
    public var sent: Int
    /// The round trip of every message that came back, in the order they were sent.
    public var roundTrips: [Duration]

    /// Creates a sample.
    public init(sent: Int, roundTrips: [Duration]) {
        self.sent = sent
        self.roundTrips = roundTrips
    }
}

/// The schedule of a paced run: `warmUp` unrecorded messages, then `count` recorded ones, one every
/// `interval`, each `size` bytes; then up to `drainTimeout` to collect late answers.
public struct PacedSchedule: Sendable, Hashable {
    public var count: Int
    public var interval: Duration
    public var size: Int
    public var warmUp: Int
    public var drainTimeout: Duration

    /// Creates a schedule; `size` is raised to 8 so every message can carry its sequence number.
    public init(count: Int, interval: Duration, size: Int, warmUp: Int = 10, drainTimeout: Duration = .seconds(2)) {
        self.count = count
        self.interval = interval
        self.size = max(8, size)
        self.warmUp = warmUp
        self.drainTimeout = drainTimeout
    }

    var total: Int { warmUp + count }
}

/// Plain UDP and TCP echo over loopback, with no protocol of ours: the floor the modes are compared to.
///
/// Each run starts an echo server on a Dispatch worker thread and drives the client on the calling
/// thread, so both ends share one monotonic clock. A message's sequence number travels in its first
/// eight bytes; a plain UDP message that is lost is simply missing from the sample.
public enum EchoBaseline {
    /// Sends paced datagrams to a UDP echo server and records each round trip.
    public static func measureUDPRoundTrips(_ schedule: PacedSchedule) throws -> RoundTripSample {
        let server = try RawLoopbackSocket.udp()
        let client = try RawLoopbackSocket.udp()
        let port = try server.localPort()
        let stop = StopFlag()
        let finished = BackgroundWork {
            runUDPEchoServer(server, stop: stop)
        }
        defer {
            stop.raise()
            finished.wait()
        }
        var tracker = RoundTripTracker(schedule: schedule)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        tracker.run(
            send: { message in message.withUnsafeBytes { client.send($0, toPort: port) } },
            receive: { timeout in
                guard client.waitReadable(timeout: timeout) else { return [] }
                var arrived: [UInt64] = []
                buffer.withUnsafeMutableBytes { raw in
                    while let (count, _) = client.receive(into: raw), count >= 8 {
                        arrived.append(raw.loadUnaligned(as: UInt64.self))
                    }
                }
                return arrived
            })
        return tracker.sample
    }

    /// Sends paced fixed-size records over a TCP connection to an echo server and records each round trip.
    public static func measureTCPRoundTrips(_ schedule: PacedSchedule) throws -> RoundTripSample {
        let listener = try RawLoopbackSocket.tcpListener()
        let port = try listener.localPort()
        let finished = BackgroundWork {
            if let connection = try? listener.accept() { runTCPEchoServer(connection) }
        }
        let client = try RawLoopbackSocket.tcpConnected(to: port)
        defer {
            client.shutdownWrite()
            finished.wait()
        }
        var tracker = RoundTripTracker(schedule: schedule)
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        tracker.run(
            send: { message in message.withUnsafeBytes { client.writeAll($0) } },
            receive: { timeout in
                guard client.waitReadable(timeout: timeout) else { return [] }
                let count = buffer.withUnsafeMutableBytes { client.read(into: $0) }
                guard count > 0 else { return [] }
                pending.append(contentsOf: buffer[0..<count])
                return takeRecords(from: &pending, size: schedule.size)
            })
        return tracker.sample
    }

    private static func takeRecords(from pending: inout [UInt8], size: Int) -> [UInt64] {
        var sequences: [UInt64] = []
        var offset = 0
        while pending.count - offset >= size {
            sequences.append(pending.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) })
            offset += size
        }
        pending.removeFirst(offset)
        return sequences
    }

    private static func runUDPEchoServer(_ socket: RawLoopbackSocket, stop: StopFlag) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        buffer.withUnsafeMutableBytes { raw in
            while !stop.isRaised {
                guard socket.waitReadable(timeout: .milliseconds(20)) else { continue }
                while let (count, port) = socket.receive(into: raw) {
                    socket.send(UnsafeRawBufferPointer(rebasing: raw[0..<count]), toPort: port)
                }
            }
        }
    }

    private static func runTCPEchoServer(_ connection: RawLoopbackSocket) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        buffer.withUnsafeMutableBytes { raw in
            while true {
                let count = connection.read(into: raw)
                guard count > 0, connection.writeAll(UnsafeRawBufferPointer(rebasing: raw[0..<count])) else { return }
            }
        }
    }
}

/// A flag one thread raises and another polls.
final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    func raise() { raised.store(true, ordering: .releasing) }
    var isRaised: Bool { raised.load(ordering: .acquiring) }
}

/// Sends on a fixed schedule and matches answers to send times by sequence number.
struct RoundTripTracker {
    let schedule: PacedSchedule
    private var sentAt: [ContinuousClock.Instant?]
    private var roundTrips: [Duration?]
    private var answered = 0

    init(schedule: PacedSchedule) {
        self.schedule = schedule
        sentAt = Array(repeating: nil, count: schedule.total)
        roundTrips = Array(repeating: nil, count: schedule.total)
    }

    var sample: RoundTripSample {
        RoundTripSample(sent: schedule.count, roundTrips: roundTrips[schedule.warmUp...].compactMap { $0 })
    }

    /// Runs the schedule: `send` puts one message on the wire, `receive` waits at most the given time
    /// and returns the sequence numbers that arrived.
    mutating func run(send: ([UInt8]) -> Bool, receive: (Duration) -> [UInt64]) {
        let clock = ContinuousClock()
        let start = clock.now
        var message = [UInt8](repeating: 0x61, count: schedule.size)
        for sequence in 0..<schedule.total {
            let due = start + schedule.interval * sequence
            while clock.now < due { record(receive(due - clock.now), at: clock.now) }
            message.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(sequence), as: UInt64.self) }
            sentAt[sequence] = clock.now
            _ = send(message)
        }
        let deadline = clock.now + schedule.drainTimeout
        while answered < schedule.total, clock.now < deadline {
            record(receive(deadline - clock.now), at: clock.now)
        }
    }

    private mutating func record(_ sequences: [UInt64], at now: ContinuousClock.Instant) {
        for sequence in sequences.map(Int.init) where sequence < sentAt.count && roundTrips[sequence] == nil {
            guard let sent = sentAt[sequence] else { continue }
            roundTrips[sequence] = now - sent
            answered += 1
        }
    }
}
