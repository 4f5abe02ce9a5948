import Datagram
import Foundation
import DatagramRuntime
import Measurement
import Transport

/// One second of the idle phase: the relay's and this process's CPU, and the relay's memory.
struct ScaleSample: Codable {
    var second: Int
    var relayCorePercent: Double
    var relayResidentMegabytes: Double
    var benchCorePercent: Double
    var connectedPeers: Int
}

/// Everything `relay-scale` measured.
struct RelayScaleResult: Codable {
    var machine: String
    var peers: Int
    var joined: Int
    var joinSeconds: Double
    var failedJoins: Int
    var lostDuringRun: Int
    var sendsRefused: Int
    /// Datagrams per second all peers sent to the relay during the idle phase (keepalives and acks).
    var peerDatagramsSentPerSecond: Double
    /// Datagrams per second all peers received from the relay during the idle phase.
    var peerDatagramsReceivedPerSecond: Double
    var samples: [ScaleSample]
    /// Worker processes that held the peers (0: this process held them all).
    var workerProcesses: Int

    var relayCPUMean: Double { mean(samples.map(\.relayCorePercent)) }
    var relayCPUMax: Double { samples.map(\.relayCorePercent).max() ?? 0 }
    var relayRSSMax: Double { samples.map(\.relayResidentMegabytes).max() ?? 0 }
    var benchCPUMean: Double { mean(samples.map(\.benchCorePercent)) }
    var isCPUTargetMet: Bool { relayCPUMean < 25 && relayCPUMax < 25 }
    var isMemoryTargetMet: Bool { relayRSSMax < 100 }
}

/// `bench relay-scale`: N idle peers on the real relay, its CPU and RSS sampled every second.
struct RelayScale {
    let options: RelayScaleOptions

    func run() throws -> RelayScaleResult {
        let wantedDescriptors = options.peers + 256
        let limit = FileDescriptorLimit.raise(to: wantedDescriptors)
        guard limit >= options.peers + 64 else {
            // More peers than one process may hold sockets: worker processes (SwarmWorkers.swift).
            let perWorker = min(options.peersPerWorker, limit - 256)
            guard perWorker >= 100 else {
                throw BenchError("need \(wantedDescriptors) file descriptors, the limit is \(limit) (ulimit -n)")
            }
            return try runAcrossWorkers(perWorker: perWorker)
        }
        let relay = try RelayProcess(maximumPeers: options.peers + 10, extraArguments: ["--data", options.relayData])
        defer { relay.stop() }
        Progress.line("relay-scale: relay pid \(relay.processID) on \(relay.address), fd limit \(limit)")
        var configuration = Connection.Configuration()
        configuration.keepaliveInterval = .seconds(1)
        let swarm = try PeerSwarm(relay: relay.address, configuration: configuration)
        defer { swarm.closeAll() }

        let joinSeconds = try rampUp(swarm)
        let lostBefore = swarm.lostAfterJoinCount
        let countsBefore = swarm.datagramCounts
        let measureStart = swarm.clock.now()
        let samples = try measure(swarm, relayID: relay.processID)
        let measured = (swarm.clock.now() - measureStart).seconds
        let countsAfter = swarm.datagramCounts
        return RelayScaleResult(machine: MachineDescription.current, peers: options.peers, joined: swarm.joinedCount,
                                joinSeconds: joinSeconds, failedJoins: swarm.failedBeforeJoinCount,
                                lostDuringRun: swarm.lostAfterJoinCount - lostBefore,
                                sendsRefused: swarm.sendsRefused,
                                peerDatagramsSentPerSecond: Double(countsAfter.sent - countsBefore.sent) / measured,
                                peerDatagramsReceivedPerSecond: Double(countsAfter.received - countsBefore.received) / measured,
                                samples: samples, workerProcesses: 0)
    }

    /// The peers spread over worker processes of `perWorker` each, started one after another (each
    /// worker's peers all joined, or stuck for 20 s, before the next starts); then the same idle
    /// measurement, with the workers' CPU summed as the bench's.
    private func runAcrossWorkers(perWorker: Int) throws -> RelayScaleResult {
        let relay = try RelayProcess(maximumPeers: options.peers + 10, extraArguments: ["--data", options.relayData])
        defer { relay.stop() }
        let workerCount = (options.peers + perWorker - 1) / perWorker
        Progress.line("relay-scale: relay pid \(relay.processID) on \(relay.address); \(options.peers) peers in "
            + "\(workerCount) worker processes of up to \(perWorker) (one socket per peer; the open-file limit is per process)")
        let workers = SwarmWorkers()
        defer { workers.stop() }
        let clock = MonotonicClock.process
        let start = clock.now()
        var lastProgress = (time: start, joined: 0)
        var nextLine = start + .seconds(1)
        for index in 0..<workerCount {
            let first = index * perWorker
            try workers.start(SwarmShare(relayPort: relay.address.port, first: first,
                                         count: min(perWorker, options.peers - first), roomSize: options.roomSize,
                                         batchSize: options.batchSize, addressIndex: index + 1))
            let wanted = min(options.peers, first + perWorker)
            while true {
                try workers.update(waitingUpTo: 100)
                let total = workers.total
                let now = clock.now()
                if total.joined > lastProgress.joined { lastProgress = (now, total.joined) }
                if total.joined + total.failed >= wanted || now - lastProgress.time >= .seconds(20) { break }
                if now >= nextLine {
                    Progress.line("  started \(total.started), joined \(total.joined)/\(options.peers), failed \(total.failed)")
                    nextLine = nextLine + .seconds(1)
                }
            }
        }
        let joinSeconds = (clock.now() - start).seconds
        let joined = workers.total
        Progress.line("  joined \(joined.joined)/\(options.peers) in \(formatFixed(joinSeconds, decimals: 1)) s")

        let before = workers.total
        let measureStart = clock.now()
        guard var relayBefore = ProcessSample.read(processID: relay.processID) else {
            throw BenchError("cannot read /proc for the relay")
        }
        var workersBefore = workers.processIDs.compactMap { ProcessSample.read(processID: $0) }
        var sampledAt = measureStart
        var samples: [ScaleSample] = []
        let wanted = max(1, Int(options.duration.seconds.rounded()))
        while samples.count < wanted {
            try workers.update(waitingUpTo: 50)
            let now = clock.now()
            guard now - sampledAt >= .seconds(1) else { continue }
            guard let relayNow = ProcessSample.read(processID: relay.processID) else {
                throw BenchError("the relay exited during the run")
            }
            let workersNow = workers.processIDs.compactMap { ProcessSample.read(processID: $0) }
            let elapsed = now - sampledAt
            let workerPercent = zip(workersBefore, workersNow).reduce(0.0) { sum, pair in
                sum + ProcessSample.corePercent(from: pair.0, to: pair.1, elapsed: elapsed)
            }
            let total = workers.total
            let sample = ScaleSample(
                second: samples.count + 1,
                relayCorePercent: ProcessSample.corePercent(from: relayBefore, to: relayNow, elapsed: elapsed),
                relayResidentMegabytes: Double(relayNow.residentBytes) / 1_048_576,
                benchCorePercent: workerPercent,
                connectedPeers: total.joined - total.lost)
            samples.append(sample)
            Progress.line("  [\(sample.second) s] relay \(formatFixed(sample.relayCorePercent, decimals: 1)) % CPU, "
                + "\(formatFixed(sample.relayResidentMegabytes, decimals: 1)) MB; workers \(formatFixed(sample.benchCorePercent, decimals: 1)) % CPU")
            relayBefore = relayNow
            workersBefore = workersNow
            sampledAt = now
        }
        // Worker counts arrive twice a second: the rates are over the span between two status lines.
        try workers.update(waitingUpTo: 600)
        let after = workers.total
        let measured = (clock.now() - measureStart).seconds
        return RelayScaleResult(machine: MachineDescription.current, peers: options.peers, joined: joined.joined,
                                joinSeconds: joinSeconds, failedJoins: after.failed,
                                lostDuringRun: after.lost - before.lost, sendsRefused: after.refused,
                                peerDatagramsSentPerSecond: Double(after.sent - before.sent) / measured,
                                peerDatagramsReceivedPerSecond: Double(after.received - before.received) / measured,
                                samples: samples, workerProcesses: workerCount)
    }

    /// Starts peers in batches every 100 ms, never more than one batch still handshaking, and waits
    /// until all have joined or joins stop making progress for 20 s.
    private func rampUp(_ swarm: PeerSwarm) throws -> Double {
        let clock = swarm.clock
        let start = clock.now()
        var nextBatch = start
        var nextProgress = start + .seconds(1)
        var lastProgress = (time: start, joined: 0)
        while swarm.joinedCount + swarm.failedBeforeJoinCount < options.peers {
            let now = clock.now()
            if swarm.joinedCount > lastProgress.joined { lastProgress = (now, swarm.joinedCount) }
            guard now - lastProgress.time < .seconds(20) else { break }
            if swarm.peers.count < options.peers, now >= nextBatch, swarm.joiningCount < options.batchSize {
                try startBatch(swarm)
                nextBatch = now + .milliseconds(100)
            }
            if now >= nextProgress {
                Progress.line("  started \(swarm.peers.count), joined \(swarm.joinedCount)/\(options.peers), "
                    + "failed \(swarm.failedBeforeJoinCount)")
                nextProgress = nextProgress + .seconds(1)
            }
            swarm.runPass(maximumWait: .milliseconds(5))
        }
        let seconds = (clock.now() - start).seconds
        Progress.line("  joined \(swarm.joinedCount)/\(options.peers) in \(formatFixed(seconds, decimals: 1)) s")
        return seconds
    }

    private func startBatch(_ swarm: PeerSwarm) throws {
        for _ in 0..<min(options.batchSize, options.peers - swarm.peers.count) {
            let number = swarm.peers.count
            try swarm.addPeer(name: "peer\(number)", rooms: ["#idle\(number / options.roomSize)"])
        }
    }

    /// Lets the peers idle for the duration, sampling the relay and this process once a second.
    private func measure(_ swarm: PeerSwarm, relayID: Int32) throws -> [ScaleSample] {
        let clock = swarm.clock
        let selfID = getpid()
        let start = clock.now()
        let end = start + options.duration
        guard var relayBefore = ProcessSample.read(processID: relayID),
              var selfBefore = ProcessSample.read(processID: selfID) else { throw BenchError("cannot read /proc for the relay") }
        var sampledAt = start
        var samples: [ScaleSample] = []
        let wanted = max(1, Int(options.duration.seconds.rounded()))
        while samples.count < wanted {
            guard clock.now() < end + .seconds(2) else { break }
            swarm.runPass(maximumWait: .milliseconds(20))
            let now = clock.now()
            guard now - sampledAt >= .seconds(1) else { continue }
            guard let relayNow = ProcessSample.read(processID: relayID),
                  let selfNow = ProcessSample.read(processID: selfID) else { throw BenchError("the relay exited during the run") }
            let elapsed = now - sampledAt
            let sample = ScaleSample(
                second: samples.count + 1,
                relayCorePercent: ProcessSample.corePercent(from: relayBefore, to: relayNow, elapsed: elapsed),
                relayResidentMegabytes: Double(relayNow.residentBytes) / 1_048_576,
                benchCorePercent: ProcessSample.corePercent(from: selfBefore, to: selfNow, elapsed: elapsed),
                connectedPeers: swarm.connectedCount)
            samples.append(sample)
            Progress.line("  [\(sample.second) s] relay \(formatFixed(sample.relayCorePercent, decimals: 1)) % CPU, "
                + "\(formatFixed(sample.relayResidentMegabytes, decimals: 1)) MB; bench \(formatFixed(sample.benchCorePercent, decimals: 1)) % CPU")
            relayBefore = relayNow
            selfBefore = selfNow
            sampledAt = now
        }
        return samples
    }
}
