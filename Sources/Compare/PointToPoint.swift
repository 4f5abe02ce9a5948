import Datagram
import DatagramRuntime
import Foundation
import LinkSimulator
import Measurement
import Transport

/// The `udp-p2p` row: Datagram between two endpoints over loopback, no relay and no chat protocol,
/// configured as the relay and the chat client configure it (`.coalescing`).
///
/// Two `ConnectionDriver`s, each with its own UDP socket and serial queue, in this process: the
/// sender's messages go straight to the receiver's connection. Beside the relayed `udp` row it
/// separates what the reliability layer costs from what the chat path adds (the relay's hop, the
/// chat encoding, the session's queue). The workloads are the relayed ones: the same paced chat
/// messages timed one-way on the shared clock, the same 1000-byte bulk messages.
final class PointToPointRun {
    let sender: ConnectionDriver
    let receiver: ConnectionDriver
    let inbox = Inbox()
    let clock = MonotonicClock.process

    /// Binds two loopback sockets and starts both drivers; `simulatedLoss` (0...1) applies in both
    /// directions of both drivers, as in udp mode.
    init(simulatedLoss: Double, seed: UInt64) throws {
        let senderSocket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let receiverSocket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let senderAddress = try senderSocket.localAddress
        let receiverAddress = try receiverSocket.localAddress
        let now = clock.now()
        // The handshake's first step by hand: the client's HELLO goes straight into the server's
        // connection (no cookie step: both ends are ours), and the drivers take it from there.
        let id = ConnectionID(rawValue: UInt32(truncatingIfNeeded: seed) | 1)
        // The configuration the relay and the chat client use, so this row and `udp` differ only in
        // the chat path.
        var client = Connection(role: .client, id: id, configuration: .coalescing, now: now)
        guard let hello = client.pollTransmit(at: now) else { throw RunFailure("the client sent no HELLO") }
        var server = Connection(role: .server, id: id, configuration: .coalescing, now: now)
        server.handleDatagram(hello, at: now)
        sender = ConnectionDriver(connection: client, socket: senderSocket, peer: receiverAddress, clock: clock,
                                  linkSeed: seed, queueLabel: "compare.p2p-sender")
        receiver = ConnectionDriver(connection: server, socket: receiverSocket, peer: senderAddress, clock: clock,
                                    linkSeed: seed &+ 1, queueLabel: "compare.p2p-receiver")
        if simulatedLoss > 0 {
            var conditions = LinkConditions()
            conditions.loss = simulatedLoss
            sender.setLinkConditions(outgoing: conditions, incoming: conditions)
            receiver.setLinkConditions(outgoing: conditions, incoming: conditions)
        }
        receiver.start { [inbox, clock] event in
            if case let .message(bytes, _) = event { inbox.markDelivered(String(decoding: bytes, as: UTF8.self), at: clock.now()) }
        }
        sender.start { [inbox] event in
            switch event {
            case .connected: inbox.markJoined()
            case .acknowledged: inbox.markAcknowledged()
            default: break
            }
        }
    }

    /// Waits until the handshake completed, or throws after `timeout`.
    func waitUntilConnected(timeout: Duration) throws {
        guard inbox.wait(until: { $0.joinedCount >= 1 }, timeout: timeout) else {
            throw RunFailure("the point-to-point handshake did not complete within \(formatSignificant(timeout.seconds)) s")
        }
    }

    /// Sends `bytes`, waiting for room in the send queue when the connection pushes back.
    func send(_ bytes: [UInt8], deadline: Timestamp) throws {
        while true {
            do {
                try sender.send(bytes)
                return
            } catch .sendQueueFull {
                guard clock.now() < deadline else { throw RunFailure("the send queue stayed full until the deadline") }
                inbox.waitForAcknowledgement(timeout: .milliseconds(5))
            } catch {
                throw RunFailure("send failed: \(error)")
            }
        }
    }

    /// Retransmitted fragments of both connections.
    var retransmissions: Int {
        sender.connectionStatistics.retransmissions + receiver.connectionStatistics.retransmissions
    }

    /// Closes both connections and their sockets.
    func close() {
        sender.close()
        sender.stop(closingSocket: true)
        receiver.stop(closingSocket: true)
    }
}

enum PointToPoint {
    /// Fixed-rate messages from sender to receiver; one-way latency of each (as `RelayedModes.chat`).
    static func chat(simulatedLoss: Double, options: Options, seed: UInt64) throws -> ChatFigures {
        let run = try PointToPointRun(simulatedLoss: simulatedLoss, seed: seed)
        defer { run.close() }
        try run.waitUntilConnected(timeout: .seconds(15))
        let warmUp = RelayedModes.warmUpCount
        let count = options.messageCount
        let interval = Duration.seconds(1) / options.rate
        let total = warmUp + count
        var before = NetworkCounters.read()
        var retransmissionsBefore = 0
        let start = run.clock.now()
        for sequence in 0..<total {
            if sequence == warmUp {
                before = NetworkCounters.read()
                retransmissionsBefore = run.retransmissions
            }
            let remaining = (start + interval * sequence) - run.clock.now()
            if remaining > .zero { Thread.sleep(forTimeInterval: remaining.seconds) }
            let stamp = MessageStamp(sequence: sequence, sentAtMicroseconds: run.clock.now().microsecondsSinceOrigin)
            try run.send(stamp.bytes(size: options.size), deadline: run.clock.now() + .seconds(10))
        }
        _ = run.inbox.wait(until: { $0.messagesReceived >= total }, timeout: .seconds(20))
        let seen = run.inbox.snapshot
        let measured = seen.latencies.filter { $0.key >= warmUp }.map(\.value)
        let traffic = before.flatMap { earlier in NetworkCounters.read()?.since(earlier) }
        return ChatFigures(sent: count, delivered: measured.count, latency: LatencySummary(milliseconds: measured),
                           retransmissions: run.retransmissions - retransmissionsBefore,
                           wireBytesPerPayloadByte: RelayedModes.wirePerPayload(traffic, payload: measured.count * options.size))
    }

    /// `options.bulkBytes` in 1000-byte messages as fast as the connection accepts them; goodput at
    /// the receiver (as `RelayedModes.bulk`).
    static func bulk(simulatedLoss: Double, options: Options, seed: UInt64) throws -> BulkFigures {
        let run = try PointToPointRun(simulatedLoss: simulatedLoss, seed: seed &+ 7)
        defer { run.close() }
        try run.waitUntilConnected(timeout: .seconds(15))
        let size = RelayedModes.bulkMessageSize
        let count = max(1, options.bulkBytes / size)
        let start = run.clock.now()
        let deadline = start + .seconds(120)
        for sequence in 0..<count {
            try run.send(MessageStamp(sequence: sequence, sentAtMicroseconds: 0).bytes(size: size), deadline: deadline)
        }
        let isComplete = run.inbox.wait(until: { $0.messagesReceived >= count }, timeout: deadline - run.clock.now())
        let seen = run.inbox.snapshot
        guard isComplete, let last = seen.lastArrival else {
            throw RunFailure("bulk delivered \(seen.messagesReceived) of \(count) messages before the deadline")
        }
        let elapsed = last - start
        return BulkFigures(bytesSent: count * size, bytesDelivered: seen.bytesReceived, seconds: elapsed.seconds,
                           megabytesPerSecond: rateInMegabytesPerSecond(seen.bytesReceived, elapsed))
    }
}
