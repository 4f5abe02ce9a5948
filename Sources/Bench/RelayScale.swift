import Datagram
import Foundation
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
    var closedDuringRun: Int
    var sendsRefused: Int
    var samples: [ScaleSample]

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
            throw BenchError("need \(wantedDescriptors) file descriptors, the limit is \(limit) (ulimit -n)")
        }
        let relay = try RelayProcess(maximumPeers: options.peers + 10)
        defer { relay.stop() }
        Progress.line("relay-scale: relay pid \(relay.processID) on \(relay.address), fd limit \(limit)")
        var configuration = Configuration()
        configuration.keepaliveInterval = .seconds(1)
        let swarm = PeerSwarm(relay: relay.address, configuration: configuration)
        defer { swarm.closeAll() }

        let joinSeconds = try rampUp(swarm)
        let closedBefore = swarm.closedCount
        let samples = try measure(swarm, relayID: relay.processID)
        return RelayScaleResult(machine: MachineDescription.current, peers: options.peers, joined: swarm.joinedCount,
                                joinSeconds: joinSeconds, closedDuringRun: swarm.closedCount - closedBefore,
                                sendsRefused: swarm.sendsRefused, samples: samples)
    }

    /// Starts peers in batches every 100 ms and waits until all have joined (or a bound passes).
    private func rampUp(_ swarm: PeerSwarm) throws -> Double {
        let clock = swarm.clock
        let start = clock.now()
        let rampTime = Duration.milliseconds(Int64(100 * (options.peers / options.batchSize + 1)))
        let giveUp = start + rampTime + .seconds(30)
        var nextBatch = start
        var nextProgress = start + .seconds(1)
        var added = 0
        while swarm.joinedCount < options.peers, clock.now() < giveUp {
            let now = clock.now()
            if added < options.peers, now >= nextBatch {
                for _ in 0..<min(options.batchSize, options.peers - added) {
                    let room = "#idle\(added / options.roomSize)"
                    try swarm.addPeer(name: "peer\(added)", rooms: [room])
                    added += 1
                }
                nextBatch = nextBatch + .milliseconds(100)
            }
            if now >= nextProgress {
                Progress.line("  started \(added), joined \(swarm.joinedCount)/\(options.peers), closed \(swarm.closedCount)")
                nextProgress = nextProgress + .seconds(1)
            }
            swarm.runPass(maximumWait: .milliseconds(5))
        }
        let seconds = (clock.now() - start).seconds
        Progress.line("  joined \(swarm.joinedCount)/\(options.peers) in \(formatFixed(seconds, decimals: 1)) s")
        return seconds
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
                connectedPeers: swarm.joinedCount - swarm.closedCount)
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
