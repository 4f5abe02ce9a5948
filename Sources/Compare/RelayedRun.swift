import Chat
import ChatClientCore
import Datagram
import Relay
import Foundation
import LinkSimulator
import DatagramRuntime
import Measurement
import Transport

/// One in-process relay with a sender and a receiver session, for one measured run of one mode.
///
/// Both sessions and the relay run on their own Dispatch queues in this process and read the same
/// `MonotonicClock.process`, so a timestamp written into a message by the sender can be subtracted
/// from the receiver's clock reading without any clock offset.
final class RelayedRun {
    static let room = ChatLimits.defaultRoom
    let relay: RelayHost
    let sender: ChatSession
    let receiver: ChatSession
    let inbox = Inbox()
    let clock = MonotonicClock.process

    /// Binds a relay on a free loopback port and starts both sessions in `mode` (`.udp` or `.tcp`).
    /// `simulatedLoss` (0...1) is applied in both directions of both udp-mode sessions.
    init(mode: Mode, simulatedLoss: Double, seed: UInt64) throws {
        let quiet = Logger(label: "relay", level: .error) { _ in }
        var relayConfiguration = RelayConfiguration()
        relayConfiguration.allowsPlaintext = mode.isPlaintext
        relay = try RelayHost(bindingTo: .loopbackIPv4(port: 0), configuration: relayConfiguration, logger: quiet)
        relay.start()
        sender = ChatSession(configuration: Self.configuration("sender", mode: mode, relay: relay.localAddress,
                                                               loss: simulatedLoss, seed: seed))
        receiver = ChatSession(configuration: Self.configuration("receiver", mode: mode, relay: relay.localAddress,
                                                                 loss: simulatedLoss, seed: seed &+ 1))
        try receiver.start { [inbox, clock] event in inbox.handle(event, at: clock.now(), isReceiver: true) }
        try sender.start { [inbox, clock] event in inbox.handle(event, at: clock.now(), isReceiver: false) }
    }

    private static func configuration(_ name: String, mode: Mode, relay: SocketAddress, loss: Double,
                                      seed: UInt64) -> ChatSessionConfiguration {
        var configuration = ChatSessionConfiguration(name: name, relay: relay, transport: mode.isTCP ? .tcp : .udp)
        configuration.isPlaintext = mode.isPlaintext
        configuration.software = "compare"
        if loss > 0 {
            var conditions = LinkConditions()
            conditions.loss = loss
            configuration.linkConditions = conditions
            configuration.linkSeed = seed
        }
        return configuration
    }

    /// Waits until both sessions have joined, or throws after `timeout`.
    func waitUntilJoined(timeout: Duration) throws {
        guard inbox.wait(until: { $0.joinedCount >= 2 }, timeout: timeout) else {
            throw RunFailure("the sessions did not join the relay within \(formatSignificant(timeout.seconds)) s")
        }
    }

    /// Says `text` in the room, waiting for room in the send queue when the session pushes back.
    func say(_ text: String, deadline: Timestamp) throws {
        while true {
            do {
                try sender.say(text, in: Self.room)
                return
            } catch .queueFull {
                guard clock.now() < deadline else { throw RunFailure("the send queue stayed full until the deadline") }
                inbox.waitForAcknowledgement(timeout: .milliseconds(5))
            } catch {
                throw RunFailure("say failed: \(error)")
            }
        }
    }

    /// Sleeps the calling thread until `time` on the shared clock.
    func sleep(until time: Timestamp) {
        let remaining = time - clock.now()
        if remaining > .zero { Thread.sleep(forTimeInterval: remaining.seconds) }
    }

    /// Retransmitted fragments of both udp-mode client connections (the relay's own are not visible).
    var datagramRetransmissions: Int {
        (sender.statistics.connection?.retransmissions ?? 0) + (receiver.statistics.connection?.retransmissions ?? 0)
    }

    /// Closes both sessions and shuts the relay down, waiting (bounded) for it to finish.
    func close() {
        sender.close()
        receiver.close()
        let done = inbox
        relay.shutDown(reason: "compare finished") { done.markRelayStopped() }
        _ = inbox.wait(until: { $0.isRelayStopped }, timeout: .seconds(5))
    }
}

/// What the receiver has seen, filled in on the sessions' queues and read by the measuring thread.
// @unchecked Sendable: every stored property is guarded by `condition`.
final class Inbox: @unchecked Sendable {
    struct Contents {
        var joinedCount = 0
        var acknowledgements = 0
        /// Latency in milliseconds by sequence number, for messages that carry a send time.
        var latencies: [Int: Double] = [:]
        var messagesReceived = 0
        var bytesReceived = 0
        var lastArrival: Timestamp?
        var isRelayStopped = false
        /// The file workload (FileWorkload.swift): the transfer offered to the receiver, when the
        /// receiver had it verified, or why it failed.
        var offeredTransfer: UInt64?
        var fileDoneAt: Timestamp?
        var fileFailure: String?
    }

    private let condition = NSCondition()
    private var contents = Contents()

    func handle(_ event: ChatSessionEvent, at now: Timestamp, isReceiver: Bool) {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        switch event {
        case .connection(.joined):
            contents.joinedCount += 1
        case .acknowledged:
            contents.acknowledgements += 1
            signalAcknowledgement()
        case let .received(.message(_, from, _, _, _, text)) where isReceiver && from == "sender":
            record(text, at: now)
        case let .file(.offered(offer)) where isReceiver:
            contents.offeredTransfer = offer.transferID
        case .file(.received) where isReceiver:
            contents.fileDoneAt = now
        case .file(.mismatch) where isReceiver:
            contents.fileFailure = "SHA-256 mismatch"
        case let .file(.ended(_, _, reason, detail)):
            contents.fileFailure = "\(reason) \(detail)"
        default:
            break
        }
    }

    /// A point-to-point peer connected (the counterpart of a session joining).
    func markJoined() {
        update { $0.joinedCount += 1 }
    }

    /// The sender's side saw an acknowledgement (room in its send queue).
    func markAcknowledged() {
        update { $0.acknowledgements += 1 }
        signalAcknowledgement()
    }

    /// Acknowledgements have their own condition: a sender blocked on a full queue waits on it alone,
    /// so the receiver's deliveries (one broadcast per message) do not wake it for nothing, a context
    /// switch per bulk message that cost the measured modes a core's share on a 2-core machine.
    private let acknowledgementCondition = NSCondition()
    private var unconsumedAcknowledgements = 0

    private func signalAcknowledgement() {
        acknowledgementCondition.lock()
        unconsumedAcknowledgements += 1
        acknowledgementCondition.signal()
        acknowledgementCondition.unlock()
    }

    /// Waits until an acknowledgement arrived since the last call, or `timeout` passed.
    func waitForAcknowledgement(timeout: Duration) {
        let limit = Date().addingTimeInterval(timeout.seconds)
        acknowledgementCondition.lock()
        defer { acknowledgementCondition.unlock() }
        while unconsumedAcknowledgements == 0 {
            guard acknowledgementCondition.wait(until: limit) else { break }
        }
        unconsumedAcknowledgements = 0
    }

    /// The receiving side got a measurement message (`text`) at `now`.
    func markDelivered(_ text: String, at now: Timestamp) {
        condition.lock()
        record(text, at: now)
        condition.broadcast()
        condition.unlock()
    }

    private func update(_ body: (inout Contents) -> Void) {
        condition.lock()
        body(&contents)
        condition.broadcast()
        condition.unlock()
    }

    func markRelayStopped() {
        condition.lock()
        contents.isRelayStopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func record(_ text: String, at now: Timestamp) {
        contents.messagesReceived += 1
        contents.bytesReceived += text.utf8.count
        contents.lastArrival = now
        guard let stamp = MessageStamp(parsing: text), stamp.sentAtMicroseconds > 0 else { return }
        let latency = Double(now.microsecondsSinceOrigin - stamp.sentAtMicroseconds) / 1000
        contents.latencies[stamp.sequence] = latency
    }

    /// A copy of what has been seen so far.
    var snapshot: Contents {
        condition.lock()
        defer { condition.unlock() }
        return contents
    }

    /// Waits until `isSatisfied` holds or `timeout` passes; true when it holds.
    func wait(until isSatisfied: (Contents) -> Bool, timeout: Duration) -> Bool {
        let limit = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while !isSatisfied(contents) {
            guard condition.wait(until: limit) else { return isSatisfied(contents) }
        }
        return true
    }
}

/// The sequence number and send time a measurement message starts with: `123 4567890 xxxx...`.
struct MessageStamp: Equatable {
    var sequence: Int
    /// Microseconds on `MonotonicClock.process`; 0 when the message is not timed (bulk).
    var sentAtMicroseconds: Int64

    init(sequence: Int, sentAtMicroseconds: Int64) {
        self.sequence = sequence
        self.sentAtMicroseconds = sentAtMicroseconds
    }

    init?(parsing text: String) {
        let fields = text.utf8.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count >= 2, let sequence = Int(Substring(fields[0])),
              let sent = Int64(Substring(fields[1])) else { return nil }
        self.init(sequence: sequence, sentAtMicroseconds: sent)
    }

    /// The message text, padded with `x` to `size` bytes (longer if the stamp itself does not fit).
    func text(size: Int) -> String {
        String(decoding: bytes(size: size), as: UTF8.self)
    }

    /// The same as bytes, built with one allocation (`String(repeating:count:)` appends character by
    /// character, which cost the bulk runs a fifth of their CPU in the harness rather than the stack).
    func bytes(size: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(size, 24))
        bytes.append(contentsOf: "\(sequence) \(sentAtMicroseconds) ".utf8)
        if bytes.count < size { bytes.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: size - bytes.count)) }
        return bytes
    }
}
