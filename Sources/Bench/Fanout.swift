import Chat
import Datagram
import Foundation
import DatagramRuntime
import Measurement
import Transport

/// Everything `fanout` measured.
struct FanoutResult: Codable {
    var machine: String
    var receivers: Int
    var messages: Int
    var size: Int
    var sent: Int
    var elapsedSeconds: Double
    var deliveries: Int
    var duplicates: Int
    var outOfOrder: Int
    var completeReceivers: Int
    var errorsFromRelay: Int
    var senderRetransmissions: Int
    var benchCorePercent: Double
    var relayCorePercent: Double

    var expectedDeliveries: Int { receivers * messages }
    var deliveriesPerSecond: Double { elapsedSeconds > 0 ? Double(deliveries) / elapsedSeconds : 0 }
    var isExact: Bool { deliveries == expectedDeliveries && duplicates == 0 && outOfOrder == 0 }
}

/// What one receiver has seen of the sender's numbered messages.
private struct ReceiverTally {
    var expected = 0
    var duplicates = 0
    var outOfOrder = 0
}

/// `bench fanout`: one sender says numbered messages in #lobby as fast as push-back allows; M receivers
/// check that each arrives exactly once and in order.
struct Fanout {
    let options: FanoutOptions
    private static let room = "#lobby"
    private static let senderName = "sender"

    func run() throws -> FanoutResult {
        FileDescriptorLimit.raise(to: options.receivers + 256)
        let relay = try RelayProcess(maximumPeers: options.receivers + 10, extraArguments: ["--data", options.relayData])
        defer { relay.stop() }
        Progress.line("fanout: relay pid \(relay.processID) on \(relay.address); \(options.receivers) receivers joining")
        let swarm = try PeerSwarm(relay: relay.address, configuration: Connection.Configuration())
        defer { swarm.closeAll() }
        var tallies = [ReceiverTally](repeating: ReceiverTally(), count: options.receivers + 1)
        var errors = 0
        var lastDelivery = swarm.clock.now()
        swarm.onMessage = { index, message in
            switch message {
            case let .message(_, from, _, _, _, text) where from == Self.senderName:
                guard let number = Int(text.prefix { $0 != " " }) else { return }
                if number == tallies[index].expected {
                    tallies[index].expected += 1
                    lastDelivery = swarm.clock.now()
                } else if number < tallies[index].expected {
                    tallies[index].duplicates += 1
                } else {
                    tallies[index].outOfOrder += 1
                }
            case .error:
                errors += 1
            default:
                break
            }
        }
        for index in 0..<options.receivers {
            try swarm.addPeer(name: "receiver\(index)", rooms: [Self.room])
            if index % 200 == 199 { swarm.runPass(maximumWait: .milliseconds(20)) }
        }
        let sender = try swarm.addPeer(name: Self.senderName, rooms: [Self.room])
        try waitForJoins(swarm, count: options.receivers + 1)

        let selfBefore = ProcessSample.read(processID: getpid())
        let relayBefore = ProcessSample.read(processID: relay.processID)
        let start = swarm.clock.now()
        var sent = 0
        let text = String(repeating: "x", count: options.size)
        let giveUp = start + .seconds(60)
        Progress.line("  all joined; sending \(options.messages) messages of \(options.size) B")
        while swarm.clock.now() < giveUp {
            while sent < options.messages {
                let body = "\(sent) " + text.dropFirst("\(sent) ".count)
                let say = ClientMessage.say(room: Self.room, messageID: UInt64(sent + 1), flags: [], text: body)
                guard swarm.send(say, from: sender) else { break }
                sent += 1
            }
            if sent == options.messages, tallies[0..<options.receivers].allSatisfy({ $0.expected == options.messages }) { break }
            swarm.runPass(maximumWait: .milliseconds(2))
        }
        let now = swarm.clock.now()
        let receiverTallies = tallies[0..<options.receivers]
        let wall = now - start
        return FanoutResult(
            machine: MachineDescription.current, receivers: options.receivers, messages: options.messages,
            size: options.size, sent: sent, elapsedSeconds: (lastDelivery - start).seconds,
            deliveries: receiverTallies.reduce(0) { $0 + $1.expected },
            duplicates: receiverTallies.reduce(0) { $0 + $1.duplicates },
            outOfOrder: receiverTallies.reduce(0) { $0 + $1.outOfOrder },
            completeReceivers: receiverTallies.count { $0.expected == options.messages },
            errorsFromRelay: errors,
            senderRetransmissions: swarm.peers[sender].connection.statistics.retransmissions,
            benchCorePercent: corePercent(getpid(), since: selfBefore, elapsed: wall),
            relayCorePercent: corePercent(relay.processID, since: relayBefore, elapsed: wall))
    }

    private func waitForJoins(_ swarm: PeerSwarm, count: Int) throws {
        let giveUp = swarm.clock.now() + .seconds(30)
        while swarm.joinedCount < count {
            guard swarm.clock.now() < giveUp else {
                throw BenchError("only \(swarm.joinedCount) of \(count) peers joined within 30 s")
            }
            swarm.runPass(maximumWait: .milliseconds(5))
        }
    }

    private func corePercent(_ processID: Int32, since earlier: ProcessSample?, elapsed: Duration) -> Double {
        guard let earlier, let later = ProcessSample.read(processID: processID) else { return 0 }
        return ProcessSample.corePercent(from: earlier, to: later, elapsed: elapsed)
    }
}
