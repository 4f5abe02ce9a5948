import Datagram
import Foundation
import Measurement
import Transport

// `relay-scale` above one process's file limit: every peer needs a socket of its own, and this
// machine's hard limit on open files (which only CAP_SYS_RESOURCE can raise) is per process. So the
// peers are spread over worker processes (`bench relay-scale-worker`, the same binary), each with its
// own share, its own loopback address (127.0.1.K) and its own limit. A worker reports its counts on
// stdout twice a second and exits when its stdin closes, so a parent that dies leaves none behind.

/// What a worker has done so far (one status line).
struct SwarmStatus: Equatable {
    var started = 0
    var joined = 0
    var failed = 0
    var lost = 0
    var sent = 0
    var received = 0
    var refused = 0

    var line: String { "status \(started) \(joined) \(failed) \(lost) \(sent) \(received) \(refused)" }

    init() {}

    init?(line: Substring) {
        let fields = line.split(separator: " ")
        guard fields.count == 8, fields[0] == "status" else { return nil }
        let numbers = fields.dropFirst().compactMap { Int($0) }
        guard numbers.count == 7 else { return nil }
        (started, joined, failed, lost, sent, received, refused) =
            (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5], numbers[6])
    }

    static func + (left: SwarmStatus, right: SwarmStatus) -> SwarmStatus {
        var sum = SwarmStatus()
        sum.started = left.started + right.started
        sum.joined = left.joined + right.joined
        sum.failed = left.failed + right.failed
        sum.lost = left.lost + right.lost
        sum.sent = left.sent + right.sent
        sum.received = left.received + right.received
        sum.refused = left.refused + right.refused
        return sum
    }
}

/// One worker's share of the peers.
struct SwarmShare {
    var relayPort: UInt16
    /// The number of the share's first peer (peers are named `peer<N>` and sit in `#idle<N / roomSize>`).
    var first: Int
    var count: Int
    var roomSize: Int
    var batchSize: Int
    /// The last byte of the third octet: the worker's peers bind to 127.0.1.K.
    var addressIndex: Int

    var arguments: [String] {
        [String(relayPort), String(first), String(count), String(roomSize), String(batchSize), String(addressIndex)]
    }

    init(relayPort: UInt16, first: Int, count: Int, roomSize: Int, batchSize: Int, addressIndex: Int) {
        (self.relayPort, self.first, self.count, self.roomSize, self.batchSize, self.addressIndex) =
            (relayPort, first, count, roomSize, batchSize, addressIndex)
    }

    /// Parses `bench relay-scale-worker PORT FIRST COUNT ROOM_SIZE BATCH K`; nil when malformed.
    init?(arguments: [String]) {
        let numbers = arguments.compactMap { Int($0) }
        guard arguments.count == 6, numbers.count == 6, (1...65_535).contains(numbers[0]), numbers[1] >= 0,
              (1...1_000_000).contains(numbers[2]), numbers[3] >= 1, numbers[4] >= 1, (0...255).contains(numbers[5]) else {
            return nil
        }
        self.init(relayPort: UInt16(numbers[0]), first: numbers[1], count: numbers[2], roomSize: numbers[3],
                  batchSize: numbers[4], addressIndex: numbers[5])
    }
}

/// The worker's side: `bench relay-scale-worker`.
enum SwarmWorker {
    static func run(_ share: SwarmShare) throws -> Never {
        let limit = FileDescriptorLimit.raise(to: share.count + 64)
        guard limit >= share.count + 16 else {
            throw BenchError("worker: need \(share.count + 16) file descriptors, the limit is \(limit)")
        }
        var configuration = Connection.Configuration()
        configuration.keepaliveInterval = .seconds(1)
        let swarm = try PeerSwarm(relay: .loopbackIPv4(port: share.relayPort), configuration: configuration)
        let local = SocketAddress(ipBytes: [127, 0, 1, UInt8(share.addressIndex)], port: 0)
        _ = fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK)
        var nextBatch = swarm.clock.now()
        var nextReport = nextBatch
        while true {
            let now = swarm.clock.now()
            if swarm.peers.count < share.count, now >= nextBatch, swarm.joiningCount < share.batchSize {
                for _ in 0..<min(share.batchSize, share.count - swarm.peers.count) {
                    let number = share.first + swarm.peers.count
                    try swarm.addPeer(name: "peer\(number)", rooms: ["#idle\(number / share.roomSize)"], bindingTo: local)
                }
                nextBatch = now + .milliseconds(100)
            }
            if now >= nextReport {
                var status = SwarmStatus()
                status.started = swarm.peers.count
                status.joined = swarm.joinedCount
                status.failed = swarm.failedBeforeJoinCount
                status.lost = swarm.lostAfterJoinCount
                (status.sent, status.received) = swarm.datagramCounts
                status.refused = swarm.sendsRefused
                FileHandle.standardOutput.write(Data((status.line + "\n").utf8))
                nextReport = now + .milliseconds(500)
                // The parent closed our stdin (or died): stop.
                var byte: UInt8 = 0
                if read(STDIN_FILENO, &byte, 1) == 0 {
                    swarm.closeAll()
                    exit(0)
                }
            }
            swarm.runPass(maximumWait: .milliseconds(5))
        }
    }
}

/// The parent's side: the worker processes and their latest status lines.
final class SwarmWorkers {
    struct Worker {
        var processID: Int32
        var input: Int32
        var output: Int32
        var pending: [UInt8] = []
        var status = SwarmStatus()
        var share: SwarmShare
    }

    private(set) var workers: [Worker] = []

    var total: SwarmStatus { workers.reduce(SwarmStatus()) { $0 + $1.status } }
    var processIDs: [Int32] { workers.map(\.processID) }

    /// Starts a worker for `share` (the `bench` binary itself, as `relay-scale-worker`).
    func start(_ share: SwarmShare) throws {
        let bench = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let child = try ChildProcess.spawn(bench, ["relay-scale-worker"] + share.arguments,
                                           standardInput: .pipe, standardOutput: .pipe)
        guard let input = child.standardInput, let output = child.standardOutput else {
            throw BenchError("the worker's pipes were not made")
        }
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
        workers.append(Worker(processID: child.processID, input: input, output: output, share: share))
    }

    /// Waits up to `milliseconds` for status lines and keeps each worker's latest. Throws when a
    /// worker has exited.
    func update(waitingUpTo milliseconds: Int32) throws {
        var descriptors = workers.map { pollfd(fd: $0.output, events: Int16(POLLIN), revents: 0) }
        _ = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        for index in workers.indices {
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(workers[index].output, &chunk, chunk.count)
                if count == 0 {
                    let status = ChildProcess.status(ifEnded: workers[index].processID).map { " (status \($0))" } ?? ""
                    throw BenchError("worker \(index + 1) (pid \(workers[index].processID)) exited\(status); its peers are gone")
                }
                guard count > 0 else { break }
                workers[index].pending += chunk[0..<count]
            }
            while let newline = workers[index].pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: workers[index].pending[..<newline], as: UTF8.self)
                workers[index].pending.removeSubrange(...newline)
                if let status = SwarmStatus(line: Substring(line)) { workers[index].status = status }
            }
        }
    }

    /// Closes every worker's stdin, waits for them to exit (2 s), and kills what is left.
    func stop() {
        for worker in workers { close(worker.input) }
        let deadline = Date().addingTimeInterval(2)
        for worker in workers {
            while ChildProcess.status(ifEnded: worker.processID) == nil {
                guard Date() < deadline else {
                    ChildProcess.kill(worker.processID)
                    _ = ChildProcess.wait(for: worker.processID)
                    break
                }
                usleep(10_000)
            }
            close(worker.output)
        }
        workers = []
    }
}
