import Chat
import ChatClientCore
import Datagram
import DatagramRuntime
import Foundation
import LibCrypto
import Transport

/// Issue 12's lesson: chat latency between two users while a file moves between the same two, and
/// the file's goodput. In udp mode the file rides Datagram's bulk channel below the chat; in tcp mode
/// both share the one stream, as a plain TCP chat would.
struct FileFigures: Codable, Equatable {
    /// The file's size.
    var fileBytes: Int
    /// Chat messages sent while the file moved, and how many arrived.
    var sent: Int
    var delivered: Int
    /// One-way chat latency during the transfer.
    var latency: LatencySummary?
    /// File bytes per second from acceptance to verified arrival, MB/s (10^6 bytes).
    var megabytesPerSecond: Double
}

/// A synthetic file of `size` bytes (a fixed pattern, never held in memory whole).
final class PatternSource: FileSource, @unchecked Sendable { // immutable
    let size: UInt64

    init(size: UInt64) { self.size = size }

    static func byte(at offset: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: (offset &* 2_654_435_761) >> 13) }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        let end = min(size, offset + UInt64(count))
        guard offset < end else { return [] }
        return (offset..<end).map(Self.byte)
    }

    /// SHA-256 of the whole pattern.
    var digest: FileDigest {
        let hasher = SHA256Hasher()
        var offset: UInt64 = 0
        while offset < size {
            let block = (try? read(at: offset, count: 1 << 20)) ?? []
            hasher.update(block)
            offset += UInt64(block.count)
        }
        return FileDigest(hasher.digest())!
    }
}

/// Receives a file into nothing but its hash.
final class HashingSink: FileSink, @unchecked Sendable { // used on the receiving session's queue only
    private let hasher = SHA256Hasher()
    func write(_ bytes: [UInt8], at offset: UInt64) throws { hasher.update(bytes) }
    func digest() throws -> FileDigest { FileDigest(hasher.digest())! }
    func commit() throws -> String { "(memory)" }
    func discard() {}
}

extension RelayedModes {
    /// Chat at the usual rate while `options.fileBytes` move from sender to receiver through the relay.
    static func chatDuringFile(_ mode: Mode, simulatedLoss: Double, options: Options, seed: UInt64) throws -> FileFigures {
        let run = try RelayedRun(mode: mode, simulatedLoss: simulatedLoss, seed: seed &+ 13)
        defer { run.close() }
        try run.waitUntilJoined(timeout: .seconds(15))
        let source = PatternSource(size: UInt64(options.fileBytes))
        _ = run.sender.offerFile(to: "receiver", name: "compare.bin", size: source.size, digest: source.digest, source: source)
        guard run.inbox.wait(until: { $0.offeredTransfer != nil }, timeout: .seconds(10)),
              let transfer = run.inbox.snapshot.offeredTransfer else {
            throw RunFailure("the receiver was not offered the file")
        }
        let start = run.clock.now()
        guard run.receiver.acceptFile(transfer, sink: HashingSink()) else { throw RunFailure("the offer could not be accepted") }
        let interval = Duration.seconds(1) / options.rate
        var sequence = 0
        // Chat while the file moves (at most the usual count of messages), every line measured from the
        // first: the session is warm already (joined, the offer answered), and the first lines are the
        // ones a fast TCP transfer holds up most. With the 10-line warm-up of the chat workload, a tcp
        // transfer of 16 MiB (0.14 s at 1 % loss) was over before the first measured line was said.
        while run.inbox.snapshot.fileDoneAt == nil, sequence < options.messageCount {
            run.sleep(until: start + interval * sequence)
            let stamp = MessageStamp(sequence: sequence, sentAtMicroseconds: run.clock.now().microsecondsSinceOrigin)
            try run.say(stamp.text(size: options.size), deadline: run.clock.now() + .seconds(30))
            sequence += 1
        }
        let finished = run.inbox.wait(until: { $0.fileDoneAt != nil || $0.fileFailure != nil }, timeout: .seconds(600))
        let seen = run.inbox.snapshot
        if let failure = seen.fileFailure { throw RunFailure("the file failed: \(failure)") }
        guard finished, let done = seen.fileDoneAt else { throw RunFailure("the file did not arrive within 600 s") }
        _ = run.inbox.wait(until: { $0.messagesReceived >= sequence }, timeout: .seconds(20))
        let measured = run.inbox.snapshot.latencies.map(\.value)
        return FileFigures(fileBytes: options.fileBytes, sent: sequence, delivered: measured.count,
                           latency: LatencySummary(milliseconds: measured),
                           megabytesPerSecond: rateInMegabytesPerSecond(options.fileBytes, done - start))
    }
}
