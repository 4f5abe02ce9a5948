import Datagram
import DatagramRuntime
import Foundation
import Measurement
import Synchronization
import Transport

/// `bench p2p`: Datagram bulk between two endpoints on loopback, no relay, with the counters that say
/// why it runs at the rate it does (packets, losses, window, RTT, dropped sends, CPU).
///
/// Both ends run in this process, each a `ConnectionDriver` on its own socket and queue; the sender
/// keeps the send queue full with `--size`-byte messages until `--bytes` are delivered.
struct PointToPointBulk {
    let bytes: Int
    let size: Int

    struct Progress {
        var delivered = 0
        var deliveredBytes = 0
        var connected = false
    }

    func run() throws -> String {
        let clock = MonotonicClock.process
        let senderSocket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let receiverSocket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let now = clock.now()
        let id = ConnectionID(rawValue: 0x5EED_0001)
        var client = Connection(role: .client, id: id, now: now)
        guard let hello = client.pollTransmit(at: now) else { throw BenchFailure("the client sent no HELLO") }
        var server = Connection(role: .server, id: id, now: now)
        server.handleDatagram(hello, at: now)
        let sender = ConnectionDriver(connection: client, socket: senderSocket, peer: try receiverSocket.localAddress,
                                      clock: clock, queueLabel: "bench.p2p-sender")
        let receiver = ConnectionDriver(connection: server, socket: receiverSocket, peer: try senderSocket.localAddress,
                                        clock: clock, queueLabel: "bench.p2p-receiver")
        let progress = Mutex(Progress())
        let acknowledged = DispatchSemaphore(value: 0)
        receiver.start { event in
            if case let .message(message, _) = event {
                progress.withLock { $0.delivered += 1; $0.deliveredBytes += message.count }
            }
        }
        sender.start { event in
            switch event {
            case .connected: progress.withLock { $0.connected = true }
            case .acknowledged: acknowledged.signal()
            default: break
            }
        }
        defer {
            sender.close()
            sender.stop(closingSocket: true)
            receiver.stop(closingSocket: true)
        }
        let connectDeadline = clock.now() + .seconds(5)
        while !progress.withLock({ $0.connected }) {
            guard clock.now() < connectDeadline else { throw BenchFailure("no handshake within 5 s") }
            Thread.sleep(forTimeInterval: 0.001)
        }
        let count = max(1, bytes / size)
        let payload = [UInt8](repeating: 0x61, count: size)
        let cpuBefore = ProcessSample.read(processID: getpid())
        let start = clock.now()
        var fullWaits = 0
        for _ in 0..<count {
            while true {
                do {
                    try sender.send(payload)
                    break
                } catch .sendQueueFull {
                    fullWaits += 1
                    _ = acknowledged.wait(timeout: .now() + .milliseconds(5))
                } catch {
                    throw BenchFailure("send failed: \(error)")
                }
            }
        }
        let deadline = start + .seconds(120)
        while progress.withLock({ $0.delivered }) < count {
            guard clock.now() < deadline else { throw BenchFailure("delivered \(progress.withLock { $0.delivered }) of \(count)") }
            Thread.sleep(forTimeInterval: 0.0002)
        }
        let elapsed = clock.now() - start
        let cpuAfter = ProcessSample.read(processID: getpid())
        let delivered = progress.withLock { $0.deliveredBytes }
        let sent = sender.connectionStatistics, received = receiver.connectionStatistics
        let senderDriver = sender.statistics, receiverDriver = receiver.statistics
        var lines: [String] = []
        func line(_ label: String, _ value: String) { lines.append(label.padding(toLength: 30, withPad: " ", startingAt: 0) + value) }
        line("delivered", "\(delivered) B in \(count) messages of \(size) B")
        line("elapsed", String(format: "%.3f s", elapsed.seconds))
        line("goodput", String(format: "%.1f MB/s", Double(delivered) / elapsed.seconds / 1e6))
        if let cpuBefore, let cpuAfter {
            line("process CPU", String(format: "%.0f %% of one core", ProcessSample.corePercent(from: cpuBefore, to: cpuAfter, elapsed: elapsed)))
            line("CPU per message", String(format: "%.2f µs", (cpuAfter.cpuTime - cpuBefore.cpuTime).seconds * 1e6 / Double(count)))
        }
        line("sender packets", "\(sent.packetsSent) sent, \(sent.retransmissions) retransmitted, \(sent.packetsLost) declared lost, \(sent.probeTimeouts) probe timeouts")
        line("sender window", "cwnd \(sent.congestionWindow) B, srtt \(sent.smoothedRTT), min rtt \(sent.minimumRTT)")
        line("sender socket", "\(senderDriver.datagramsSent) datagrams sent, \(senderDriver.sendsDropped) dropped (buffer full), \(senderDriver.datagramsReceived) received")
        line("receiver packets", "\(received.packetsSent) sent, \(received.packetsReceived) received, \(received.duplicatesDropped) duplicates, \(received.outOfOrderBuffered) out of order")
        line("receiver socket", "\(receiverDriver.datagramsReceived) datagrams received, \(receiverDriver.datagramsSent) sent, \(receiverDriver.sendsDropped) dropped")
        line("send queue full", "\(fullWaits) waits")
        return lines.joined(separator: "\n") + "\n"
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
