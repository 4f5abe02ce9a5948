import Transport
import Synchronization

/// The outcome of one bulk transfer: how many payload bytes went out and arrived, and how long it took.
public struct BulkSample: Sendable, Hashable {
    /// Payload bytes the sender handed to the socket.
    public var bytesSent: Int
    /// Payload bytes the receiver got (less than `bytesSent` only for plain UDP, which does not recover).
    public var bytesReceived: Int
    /// From the first send to the last byte's arrival.
    public var elapsed: Duration
    /// From the first send to the sender's last send call returning.
    public var sendElapsed: Duration

    /// Creates a sample.
    public init(bytesSent: Int, bytesReceived: Int, elapsed: Duration, sendElapsed: Duration) {
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.elapsed = elapsed
        self.sendElapsed = sendElapsed
    }
}

/// Plain UDP and TCP bulk transfers over loopback into a counting sink: the socket floor for goodput.
public enum BulkBaseline {
    /// Sends `bytes` in datagrams of `datagramSize` as fast as `sendto` returns, into a sink.
    ///
    /// Loopback UDP never pushes back on the sender: what the receiver cannot keep up with is dropped
    /// from its buffer, so `bytesReceived` shows how much of the send rate survives.
    public static func measureUDP(bytes: Int, datagramSize: Int) throws -> BulkSample {
        let sink = try RawLoopbackSocket.udp()
        let sender = try RawLoopbackSocket.udp()
        sink.setBufferSizes(4 << 20)
        let port = try sink.localPort()
        let counter = SinkCounter()
        let stop = StopFlag()
        let finished = BackgroundWork {
            runUDPSink(sink, counter: counter, stop: stop)
        }
        let clock = ContinuousClock()
        let start = clock.now
        let datagram = [UInt8](repeating: 0x62, count: datagramSize)
        var sent = 0
        datagram.withUnsafeBytes { raw in
            while sent < bytes {
                if sender.send(raw, toPort: port) { sent += datagramSize }
            }
        }
        let sendElapsed = clock.now - start
        waitUntilQuiet(counter)
        stop.raise()
        finished.wait()
        return BulkSample(bytesSent: sent, bytesReceived: counter.bytes,
                          elapsed: counter.lastArrival(since: start), sendElapsed: sendElapsed)
    }

    /// Writes `bytes` down one TCP connection in writes of `writeSize` and times the sink reading them all.
    public static func measureTCP(bytes: Int, writeSize: Int = 65_536) throws -> BulkSample {
        let listener = try RawLoopbackSocket.tcpListener()
        let port = try listener.localPort()
        let counter = SinkCounter()
        let finished = BackgroundWork {
            if let connection = try? listener.accept() { runTCPSink(connection, counter: counter) }
        }
        let sender = try RawLoopbackSocket.tcpConnected(to: port)
        let clock = ContinuousClock()
        let start = clock.now
        let chunk = [UInt8](repeating: 0x62, count: writeSize)
        var sent = 0
        chunk.withUnsafeBytes { raw in
            while sent < bytes {
                let count = min(writeSize, bytes - sent)
                guard sender.writeAll(UnsafeRawBufferPointer(rebasing: raw[0..<count])) else { return }
                sent += count
            }
        }
        let sendElapsed = clock.now - start
        sender.shutdownWrite()
        finished.wait()
        return BulkSample(bytesSent: sent, bytesReceived: counter.bytes,
                          elapsed: counter.lastArrival(since: start), sendElapsed: sendElapsed)
    }

    private static func waitUntilQuiet(_ counter: SinkCounter) {
        var last = counter.bytes
        while true {
            BackgroundWork.sleep(for: .milliseconds(100))
            let now = counter.bytes
            if now == last { return }
            last = now
        }
    }

    private static func runUDPSink(_ socket: RawLoopbackSocket, counter: SinkCounter, stop: StopFlag) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        buffer.withUnsafeMutableBytes { raw in
            while !stop.isRaised {
                guard socket.waitReadable(timeout: .milliseconds(20)) else { continue }
                while let (count, _) = socket.receive(into: raw) { counter.add(count) }
            }
        }
    }

    private static func runTCPSink(_ connection: RawLoopbackSocket, counter: SinkCounter) {
        var buffer = [UInt8](repeating: 0, count: 1 << 18)
        buffer.withUnsafeMutableBytes { raw in
            while true {
                let count = connection.read(into: raw)
                guard count > 0 else { return }
                counter.add(count)
            }
        }
    }
}

/// Bytes a sink has received and when the last of them arrived; written by the sink, read by the sender.
final class SinkCounter: Sendable {
    private let state = Mutex<(bytes: Int, last: ContinuousClock.Instant?)>((0, nil))

    func add(_ count: Int) {
        let now = ContinuousClock.now
        state.withLock { $0 = ($0.bytes + count, now) }
    }

    var bytes: Int { state.withLock { $0.bytes } }

    func lastArrival(since start: ContinuousClock.Instant) -> Duration {
        state.withLock { $0.last.map { $0 - start } ?? .zero }
    }
}
