import Chat
import Datagram
import DatagramRuntime
import Foundation
import Measurement
import LinkSimulator
import Transport

/// The attacks `bench attack` replays against the real relay (issue 8), each while alice (udp) and
/// carol (tcp) keep chatting.
enum AttackScenario: String, CaseIterable, Codable {
    case junk
    case slots
    case fragments
    case flood
    case frozenReader = "frozen-reader"
    case rooms
    case hijack

    var summary: String {
        switch self {
        case .junk: "random datagrams and random TCP bytes as fast as the sockets take them"
        case .slots: "300 connections from one address complete the handshake and never join"
        case .fragments: "250 unjoined connections send out-of-order, never-complete fragments"
        case .flood: "a udp and a tcp user say lines as fast as the relay takes them"
        case .frozenReader: "a tcp user in #lobby stops reading, beside a busy udp user"
        case .rooms: "users create rooms with long names until the limits stop them; carol asks for /list"
        case .hijack: "eve copies the id alice's lines carry into a HELLO as alice, then says id 2^64-1"
        }
    }
}

/// What one attack did to the relay and to the two users.
struct AttackOutcome: Codable {
    var scenario: AttackScenario
    var attack: String
    var alice: LegitimatePair.Tally
    var carol: LegitimatePair.Tally
    var relayStartRSS: Int
    var relayPeakRSS: Int
    var isRelayAlive: Bool
    var check: String
    var isCheckPassed: Bool

    /// The longest pause allowed in a user's lines while the attack runs, in seconds: the relay's
    /// stalled-receiver timeout (5 s by default), plus up to 2 s for a held-back udp sender, whose
    /// probe timeout backed off while its DATA was refused, to try again.
    static let stallLimit = 7.0

    var isChatIntact: Bool {
        [alice, carol].allSatisfy {
            $0.delivered == $0.sent && $0.duplicates == 0 && $0.outOfOrder == 0 && $0.disconnects == 0
                && $0.longestStall <= Self.stallLimit
        }
    }
    var isPassed: Bool { isChatIntact && isRelayAlive && isCheckPassed }
}

/// `bench attack`: for each scenario a fresh relay, the two users, and the attacker for `duration`.
struct Attack {
    let options: AttackOptions
    static let room = LegitimatePair.room

    func run() throws -> [AttackOutcome] {
        FileDescriptorLimit.raise(to: 2048)
        return try options.scenarios.map { try run($0) }
    }

    private func run(_ scenario: AttackScenario) throws -> AttackOutcome {
        let relay = try RelayProcess(maximumPeers: 256, isLimited: true, extraArguments: options.relayArguments)
        defer { relay.stop() }
        Progress.line("attack \(scenario.rawValue): relay pid \(relay.processID) on \(relay.address); \(scenario.summary)")
        let pair = try LegitimatePair(relay: relay.address)
        defer { pair.close() }
        guard pair.waitUntilJoined(timeout: 10) else { throw BenchError("alice and carol did not join within 10 s") }
        let startRSS = ProcessSample.read(processID: relay.processID)?.residentBytes ?? 0
        let peak = PeakSampler(processID: relay.processID)

        // The conversation runs on its own thread for the whole attack.
        let stop = StopFlag()
        let talker = Thread { [pair, rate = options.rate] in
            while !stop.isSet {
                pair.tick()
                Thread.sleep(forTimeInterval: 1 / Double(rate))
            }
        }
        talker.start()
        pair.measureStalls(true)
        let deadline = Date().addingTimeInterval(options.duration.seconds)
        var random = SplitMix64(seed: options.seed)
        let (attack, check, passed) = try perform(scenario, relay: relay.address, pair: pair, until: deadline,
                                                  random: &random, sample: { peak.sample() })
        pair.measureStalls(false)
        stop.set()
        while !talker.isFinished { usleep(10_000) }
        Progress.line("attack \(scenario.rawValue): attack over; waiting for every line to arrive")
        let tallies = pair.finish(timeout: 30)
        peak.sample()
        let alive = ProcessSample.read(processID: relay.processID) != nil && relay.isRunning
        return AttackOutcome(scenario: scenario, attack: attack, alice: tallies["alice"]!, carol: tallies["carol"]!,
                             relayStartRSS: startRSS, relayPeakRSS: peak.peak, isRelayAlive: alive,
                             check: check, isCheckPassed: passed)
    }

    // MARK: - The attacks

    private func perform(_ scenario: AttackScenario, relay: SocketAddress, pair: LegitimatePair, until deadline: Date,
                         random: inout SplitMix64, sample: () -> Void) throws -> (String, String, Bool) {
        switch scenario {
        case .junk: return try junk(relay, until: deadline, random: &random, sample: sample)
        case .slots: return try slots(relay, until: deadline, sample: sample)
        case .fragments: return try fragments(relay, until: deadline, random: &random, sample: sample)
        case .flood: return try flood(relay, until: deadline, sample: sample)
        case .frozenReader: return try frozenReader(relay, until: deadline, sample: sample)
        case .rooms: return try rooms(relay, pair: pair, until: deadline, sample: sample)
        case .hijack: return try hijack(relay, pair: pair, until: deadline, sample: sample)
        }
    }

    private func junk(_ relay: SocketAddress, until deadline: Date, random: inout SplitMix64,
                      sample: () -> Void) throws -> (String, String, Bool) {
        let sockets = try (0..<16).map { _ in try UDPSocket(bindingTo: .loopback(0, 0, 2)) }
        var datagrams = 0
        var streams = 0
        var tcp: RawTCPClient?
        while Date() < deadline {
            for socket in sockets {
                let size = Int.random(in: 0...1400, using: &random)
                let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
                if (try? socket.send(bytes, to: relay)) == true { datagrams += 1 }
            }
            if tcp == nil || tcp!.isClosed {
                tcp?.close()
                tcp = try? RawTCPClient(relay: relay)
                streams += 1
            }
            let chunk = (0..<512).map { _ in UInt8.random(in: 0...255, using: &random) }
            tcp?.sendBytes(chunk)
            _ = tcp?.receive()
            if datagrams % 1600 == 0 { sample() }
        }
        tcp?.close()
        return ("\(datagrams) junk datagrams, \(streams) junk TCP streams", "-", true)
    }

    private func slots(_ relay: SocketAddress, until deadline: Date, sample: () -> Void) throws -> (String, String, Bool) {
        let swarm = try PeerSwarm(relay: relay, configuration: Connection.Configuration())
        defer { swarm.closeAll() }
        for index in 0..<300 {
            try swarm.addPeer(name: "squat\(index)", rooms: [], bindingTo: .loopback(0, 0, 2), sendsHello: false)
        }
        var newcomerJoined = false
        var newcomer: RawTCPClient?
        var passes = 0
        while Date() < deadline {
            swarm.runPass(maximumWait: .milliseconds(20))
            passes += 1
            if passes == 50 {
                // A newcomer from the users' address must still get in while the squatters hold on.
                newcomer = try? RawTCPClient(relay: relay)
                newcomer?.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0x5EED), name: "dave", software: "bench attack")))
            }
            if let newcomer, !newcomerJoined {
                newcomerJoined = newcomer.receive().contains { if case .welcome = $0 { true } else { false } }
            }
            if passes % 25 == 0 { sample() }
        }
        newcomer?.close()
        let connected = swarm.peers.indices.count { swarm.isConnected($0) }
        return ("300 handshakes from 127.0.0.2, \(connected) still connected at the end",
                "a newcomer (dave, tcp) joined during the attack: \(newcomerJoined ? "yes" : "no")", newcomerJoined)
    }

    private func fragments(_ relay: SocketAddress, until deadline: Date, random: inout SplitMix64,
                           sample: () -> Void) throws -> (String, String, Bool) {
        let swarm = try PeerSwarm(relay: relay, configuration: Connection.Configuration())
        defer { swarm.closeAll() }
        for index in 0..<250 {
            try swarm.addPeer(name: "frag\(index)", rooms: [], bindingTo: .loopback(0, 1, UInt8(index + 1)), sendsHello: false)
        }
        var sent = 0
        var nextPacket: [Int: UInt32] = [:]
        var message: [Int: UInt32] = [:]
        let payload = ArraySlice([UInt8](repeating: 0x41, count: Limits.maximumFragmentPayload))
        while Date() < deadline {
            swarm.runPass(maximumWait: .milliseconds(5))
            for index in swarm.peers.indices where swarm.isConnected(index) {
                guard let last = swarm.peers[index].lastPacketNumber else { continue }
                var number = max(nextPacket[index] ?? 0, last &+ 1)
                // Fragments 1... of a 57-fragment message that never gets its fragment 0, message
                // numbers ahead of the next expected one: what a reorder buffer must not hoard.
                for _ in 0..<8 {
                    let messageNumber = (message[index] ?? 1) &+ UInt32.random(in: 0..<64, using: &random)
                    let fragment = FragmentHeader(channel: .reliableOrdered, messageNumber: messageNumber,
                                                  fragmentIndex: UInt16.random(in: 1..<57, using: &random), fragmentCount: 57)
                    let packet = Packet(header: PacketHeader(connectionID: swarm.peers[index].connection.id, packetNumber: number),
                                        body: .data(fragment, payload: payload))
                    if swarm.sendRaw(packet.emit(), from: index) { sent += 1 }
                    number &+= 1
                }
                nextPacket[index] = number
                message[index] = (message[index] ?? 1) &+ 1
            }
            if sent % 2000 < 8 { sample() }
        }
        return ("\(sent) crafted fragments from 250 addresses", "-", true)
    }

    private func flood(_ relay: SocketAddress, until deadline: Date, sample: () -> Void) throws -> (String, String, Bool) {
        let swarm = try PeerSwarm(relay: relay, configuration: Connection.Configuration())
        defer { swarm.closeAll() }
        let mallory = try swarm.addPeer(name: "mallory", rooms: [Self.room], bindingTo: .loopback(0, 0, 3))
        let trent = try RawTCPClient(relay: relay)
        defer { trent.close() }
        trent.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0x7E47), name: "trent", rooms: [Self.room], software: "bench attack")))
        var udpLines = 0
        var tcpLines = 0
        var nextID: UInt64 = 1
        let text = String(repeating: "flood ", count: 30)
        while Date() < deadline {
            swarm.runPass(maximumWait: .milliseconds(1))
            if swarm.joinedCount > 0 {
                while udpLines < 1_000_000, swarm.send(.say(room: Self.room, messageID: UInt64(udpLines + 1), flags: [], text: text), from: mallory) {
                    udpLines += 1
                    if udpLines % 256 == 0 { break }
                }
            }
            for _ in 0..<256 {
                guard trent.send(.say(room: Self.room, messageID: nextID, flags: [], text: text)) else { break }
                nextID += 1
                tcpLines += 1
            }
            _ = trent.receive()
            if (udpLines + tcpLines) % 4096 < 256 { sample() }
        }
        return ("mallory (udp) queued \(udpLines) lines, trent (tcp) wrote \(tcpLines)", "-", true)
    }

    private func frozenReader(_ relay: SocketAddress, until deadline: Date, sample: () -> Void) throws -> (String, String, Bool) {
        let zed = try RawTCPClient(relay: relay, receiveBuffer: 4096)
        defer { zed.close() }
        zed.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0x2ED), name: "zed", rooms: [Self.room], software: "bench attack")))
        // Four busy but well-behaved udp users (each within the rate limit) fill zed's queue on the relay.
        let swarm = try PeerSwarm(relay: relay, configuration: Connection.Configuration())
        defer { swarm.closeAll() }
        let busy = try (0..<4).map { try swarm.addPeer(name: "busy\($0)", rooms: [Self.room], bindingTo: .loopback(0, 0, UInt8(4 + $0))) }
        var lines = 0
        var nextID = [UInt64](repeating: 1, count: busy.count)
        let text = String(repeating: "b", count: 3900)
        while Date() < deadline {
            swarm.runPass(maximumWait: .milliseconds(2))
            for (slot, index) in busy.enumerated() where swarm.peers[index].isJoined {
                for _ in 0..<4 {
                    guard swarm.send(.say(room: Self.room, messageID: nextID[slot], flags: [], text: text), from: index) else { break }
                    nextID[slot] += 1
                    lines += 1
                }
            }
            if lines % 200 < 16 { sample() }
        }
        return ("zed never reads; four busy udp users queued \(lines) lines of 3900 B", "-", true)
    }

    private func rooms(_ relay: SocketAddress, pair: LegitimatePair, until deadline: Date,
                       sample: () -> Void) throws -> (String, String, Bool) {
        var builders: [RawTCPClient] = []
        defer { builders.forEach { $0.close() } }
        var requested = 0
        for index in 0..<20 {
            guard let builder = try? RawTCPClient(relay: relay) else { continue }
            builder.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0xB0 + UInt64(index)), name: "builder\(index)", software: "bench attack")))
            builders.append(builder)
        }
        for (index, builder) in builders.enumerated() {
            for room in 0..<100 {
                let name = "#r\(index)x\(room)" + String(repeating: "z", count: 40)
                if builder.send(.joinRoom(name)) { requested += 1 }
            }
        }
        var asked = false
        var answered = false
        var echoed = false
        while Date() < deadline {
            builders.forEach { _ = $0.receive() }
            if !asked, Date() > deadline.addingTimeInterval(-options.duration.seconds / 2) {
                pair.carol.send(.listRooms)
                pair.alice.send(.listRooms)
                pair.carol.send(.joinRoom("#" + String(repeating: "y", count: 60_000)))
                asked = true
            }
            if asked && !answered {
                answered = [pair.replies(of: "carol"), pair.replies(of: "alice")].allSatisfy { replies in
                    replies.contains { if case .roomList = $0 { true } else { false } }
                }
                echoed = pair.replies(of: "carol").contains { if case let .error(_, _, text) = $0 { text.utf8.count > 1000 } else { false } }
            }
            sample()
            usleep(20_000)
        }
        let check = "alice (udp) and carol (tcp) got ROOM_LIST: \(answered ? "yes" : "no"); an ERROR echoed the 60 KB room name: \(echoed ? "yes" : "no")"
        return ("20 users asked for \(requested) rooms with 45-character names", check, answered && !echoed)
    }

    private func hijack(_ relay: SocketAddress, pair: LegitimatePair, until deadline: Date,
                        sample: () -> Void) throws -> (String, String, Bool) {
        let eve = try RawTCPClient(relay: relay)
        defer { eve.close() }
        eve.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0xE7E), name: "eve", rooms: [Self.room], software: "bench attack")))
        // What alice's lines carry to every member is all eve needs if it is her secret.
        let seen = eve.waitFor(timeout: 5) { if case let .message(_, from, _, _, _, _) = $0 { from == "alice" } else { false } }
        guard case let .message(_, _, carried, _, _, _)? = seen else {
            return ("eve saw no line from alice", "eve could not observe alice", false)
        }
        let impostor = try RawTCPClient(relay: relay)
        defer { impostor.close() }
        impostor.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: carried.rawValue), name: "alice", rooms: [Self.room], software: "bench attack")))
        let answer = impostor.waitFor(timeout: 3) { message in
            switch message {
            case .welcome, .error: true
            default: false
            }
        }
        var isRefused = false
        if case .error? = answer { isRefused = true }
        if case .welcome? = answer {
            impostor.send(.say(room: Self.room, messageID: .max, flags: [], text: "alice 999999999"))
        }
        while Date() < deadline {
            _ = eve.receive()
            _ = impostor.receive()
            sample()
            usleep(20_000)
        }
        let outcome = isRefused ? "refused" : (answer == nil ? "no answer" : "ACCEPTED")
        return ("eve replayed the id alice's lines carry (\(carried)) in a HELLO as alice", "the impostor's HELLO was \(outcome)", isRefused)
    }
}

/// Samples a process's resident set size and keeps the largest.
final class PeakSampler {
    let processID: Int32
    private(set) var peak = 0
    private var lastSample = Date.distantPast

    init(processID: Int32) { self.processID = processID }

    /// Reads the RSS at most every 50 ms.
    func sample() {
        guard Date().timeIntervalSince(lastSample) >= 0.05 else { return }
        lastSample = Date()
        if let resident = ProcessSample.read(processID: processID)?.residentBytes { peak = max(peak, resident) }
    }
}

/// A flag one thread sets and another polls.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
