import Chat
import ChatClientCore
import Datagram
import LibCrypto
import LinkSimulator
import Relay
import Synchronization
import Testing

/// A file in memory, to send.
final class MemorySource: FileSource, @unchecked Sendable {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        let start = Int(min(offset, UInt64(bytes.count)))
        return Array(bytes[start..<min(start + count, bytes.count)])
    }
}

struct DiskFull: Error, CustomStringConvertible { var description: String { "disk full" } }

/// A file in memory, being received; `failAt` makes writes at or past that offset fail like a full disk.
final class MemorySink: FileSink, @unchecked Sendable {
    private let state = Mutex<(bytes: [UInt8], writes: [UInt64], committed: Bool, discarded: Bool)>(([], [], false, false))
    let failAt: UInt64?
    init(failAt: UInt64? = nil) { self.failAt = failAt }
    var bytes: [UInt8] { state.withLock { $0.bytes } }
    var writeOffsets: [UInt64] { state.withLock { $0.writes } }
    var isCommitted: Bool { state.withLock { $0.committed } }
    var isDiscarded: Bool { state.withLock { $0.discarded } }
    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        if let failAt, offset + UInt64(bytes.count) > failAt { throw DiskFull() }
        state.withLock {
            precondition(offset == UInt64($0.bytes.count))
            $0.bytes += bytes
            $0.writes.append(offset)
        }
    }
    func digest() throws -> FileDigest { FileDigest(SHA256.hash(bytes))! }
    func commit() throws -> String { state.withLock { $0.committed = true }; return "/downloads/file" }
    func discard() { state.withLock { $0.discarded = true } }
}

/// Two chat client cores (alice over UDP, bob over UDP or TCP) and a real `RelayCore`, in memory.
struct FilePair {
    var alice: ChatClientCore
    var bob: ChatClientCore
    var relay: RelayCore
    var now = Timestamp.milliseconds(1_000)
    let aliceEndpoint = Endpoint(transport: .udp, address: [127, 0, 0, 1], port: 5000)
    let bobEndpoint: Endpoint
    var aliceEvents: [ChatSessionEvent] = []
    var bobEvents: [ChatSessionEvent] = []

    init(bob transport: TransportKind) {
        relay = Self.freshRelay(at: now)
        alice = ChatClientCore(configuration: ChatClientConfiguration(name: "alice", transport: .udp, sessionSecret: SessionSecret(rawValue: 1)),
                               random: SplitMix64(seed: 1))
        bob = ChatClientCore(configuration: ChatClientConfiguration(name: "bob", transport: transport, sessionSecret: SessionSecret(rawValue: 2)),
                             random: SplitMix64(seed: 2))
        bobEndpoint = Endpoint(transport: transport, address: [127, 0, 0, 1], port: 5001)
        alice.start(at: now)
        bob.start(at: now)
        exchange()
    }

    static func freshRelay(at now: Timestamp) -> RelayCore {
        RelayCore(configuration: RelayConfiguration(), cookieSecret: (1, 2), senderIDs: { SenderID(deriving: $0, sha256: SHA256.hash) }, at: now)
    }

    var aliceFileEvents: [FileTransferEvent] { aliceEvents.compactMap { if case .file(let event) = $0 { event } else { nil } } }
    var bobFileEvents: [FileTransferEvent] { bobEvents.compactMap { if case .file(let event) = $0 { event } else { nil } } }

    /// Passes what each side sends until all are quiet, or `stop` holds.
    mutating func exchange(stop: (FilePair) -> Bool = { _ in false }) {
        var isBusy = true
        while isBusy, !stop(self) {
            isBusy = false
            while let action = alice.pollAction() {
                switch action {
                case .sendDatagram(let bytes):
                    relay.handleDatagram(bytes, from: aliceEndpoint, at: now)
                    isBusy = true
                case .event(let event): aliceEvents.append(event)
                default: break
                }
            }
            while let action = bob.pollAction() {
                isBusy = true
                switch action {
                case .sendDatagram(let bytes): relay.handleDatagram(bytes, from: bobEndpoint, at: now)
                case .openStream:
                    relay.handleStreamOpened(bobEndpoint, at: now)
                    bob.handleStreamConnected(at: now)
                case .sendFrame(let frame):
                    relay.handleStreamBytes(frame, from: bobEndpoint, at: now)
                    bob.handleStreamOutput(pendingBytes: 0, at: now)
                case .closeStream, .finishStream: relay.handleStreamClosed(bobEndpoint, at: now)
                case .event(let event): bobEvents.append(event)
                default: isBusy = false
                }
            }
            while let action = relay.pollAction() {
                switch action {
                case let .sendDatagram(bytes, to) where to == aliceEndpoint:
                    alice.handleDatagram(bytes, at: now)
                    isBusy = true
                case let .sendDatagram(bytes, to) where to == bobEndpoint:
                    bob.handleDatagram(bytes, at: now)
                    isBusy = true
                case let .sendStream(bytes, to) where to == bobEndpoint:
                    bob.handleStreamBytes(bytes, at: now)
                    relay.handleStreamBacklog(0, for: bobEndpoint, at: now)
                    isBusy = true
                default: break
                }
            }
        }
    }

    /// Runs every timer until `time`.
    mutating func run(until time: Timestamp, stop: (FilePair) -> Bool = { _ in false }) {
        exchange(stop: stop)
        while !stop(self), let next = [alice.nextDeadline, bob.nextDeadline, relay.nextDeadline].compactMap({ $0 }).min(), next <= time {
            now = max(now, next)
            alice.handleTimeout(at: now)
            bob.handleTimeout(at: now)
            relay.handleTimeout(at: now)
            exchange(stop: stop)
        }
        if !stop(self) { now = time }
    }

    /// alice offers `bytes` to bob, who accepts into `sink`.
    mutating func send(_ bytes: [UInt8], digestOf original: [UInt8]? = nil, to sink: MemorySink, stop: (FilePair) -> Bool = { _ in false }) {
        _ = alice.offerFile(to: "bob", name: "notes.txt", size: UInt64(bytes.count), digest: FileDigest(SHA256.hash(original ?? bytes))!,
                            source: MemorySource(bytes), at: now)
        exchange()
        guard case let .offered(offer)? = bobFileEvents.last else { return }
        let accepted = bob.acceptFile(offer.transferID, sink: sink, at: now)
        #expect(accepted)
        run(until: now + .seconds(30), stop: stop)
    }
}

/// Deterministic pseudo-random bytes.
func fileBytes(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
    var random = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
}

@Suite("File transfer between two clients through the relay (chat-protocol 4.12)")
struct FileTransferTests {
    /// Specs/chat-protocol.md, section 4.12: 0 B, 1 B, one chunk, one chunk + 1 B and many chunks
    /// arrive whole and verified, udp to tcp and udp to udp.
    @Test(arguments: [0, 1, 16_384, 16_385, 300_000], [TransportKind.tcp, .udp])
    func aFileArrivesWholeAndVerified(size: Int, bob transport: TransportKind) {
        var pair = FilePair(bob: transport)
        let file = fileBytes(size)
        let sink = MemorySink()
        pair.send(file, to: sink)
        #expect(sink.bytes == file)
        #expect(sink.isCommitted && !sink.isDiscarded)
        #expect(pair.bobFileEvents.contains(.received(transfer: 1, from: "alice", path: "/downloads/file", size: UInt64(size))))
        #expect(pair.aliceFileEvents.contains(.delivered(transfer: 1, by: "bob", name: "notes.txt", verified: true)))
        #expect(pair.alice.isFileTransferIdle && pair.bob.fileTransfers(at: pair.now).isEmpty)
    }

    /// Specs/chat-protocol.md, section 4.12: a SHA-256 mismatch deletes the partial file and tells the sender.
    @Test func aFileThatDoesNotMatchItsHashIsDeletedAndTheSenderTold() {
        var pair = FilePair(bob: .tcp)
        let original = fileBytes(50_000)
        var changed = original
        changed[40_000] ^= 1
        let sink = MemorySink()
        pair.send(changed, digestOf: original, to: sink)
        #expect(sink.isDiscarded && !sink.isCommitted)
        #expect(pair.bobFileEvents.contains(.mismatch(transfer: 1, name: "notes.txt")))
        #expect(pair.aliceFileEvents.contains(.delivered(transfer: 1, by: "bob", name: "notes.txt", verified: false)))
    }

    /// Specs/chat-protocol.md, section 4.12: a full disk cancels the transfer (`failed`) and cleans up.
    @Test func aFullDiskCancelsTheTransferAndDeletesThePartialFile() {
        var pair = FilePair(bob: .udp)
        let sink = MemorySink(failAt: 100_000)
        pair.send(fileBytes(300_000), to: sink)
        #expect(sink.isDiscarded && !sink.isCommitted)
        #expect(pair.bobFileEvents.contains {
            if case let .ended(_, _, reason, detail) = $0 { reason == .failed && detail.contains("disk full") } else { false }
        })
        #expect(pair.aliceFileEvents.contains { if case .ended(1, _, .failed, _) = $0 { true } else { false } })
        #expect(pair.alice.isFileTransferIdle)
    }

    /// Specs/chat-protocol.md, section 4.12: a rejected offer ends the sender's offer.
    @Test func aRejectedOfferEndsIt() {
        var pair = FilePair(bob: .tcp)
        _ = pair.alice.offerFile(to: "bob", name: "x.bin", size: 10, digest: FileDigest(SHA256.hash(fileBytes(10)))!,
                                 source: MemorySource(fileBytes(10)), at: pair.now)
        pair.exchange()
        let rejected = pair.bob.cancelFile(1, reason: .rejected, at: pair.now)
        #expect(rejected)
        pair.exchange()
        #expect(pair.aliceFileEvents.contains { if case .ended(1, "x.bin", .rejected, "by bob") = $0 { true } else { false } })
        #expect(pair.alice.fileTransfers(at: pair.now).isEmpty)
    }

    /// Specs/chat-protocol.md, section 4.12, "Resume": after a relay restart, the sender offers the
    /// file again and the recipient continues from what it had written; nothing is sent twice.
    @Test(arguments: [TransportKind.tcp, .udp])
    func aRelayRestartMidTransferResumesWhereTheRecipientWas(bob transport: TransportKind) {
        var pair = FilePair(bob: transport)
        let file = fileBytes(600_000)
        let sink = MemorySink()
        pair.send(file, to: sink) { $0.bobFileEvents.isEmpty == false && (200_000..<590_000).contains(UInt64(sinkCount(sink))) }
        let before = sink.bytes.count
        #expect(before >= 200_000 && before < 600_000)
        // The relay restarts: it forgets everyone; a TCP client sees its stream end.
        pair.relay = FilePair.freshRelay(at: pair.now)
        if transport == .tcp { pair.bob.handleStreamEnded(reason: "relay restarted", at: pair.now) }
        pair.run(until: pair.now + .seconds(60))
        #expect(sink.bytes == file)
        #expect(sink.isCommitted)
        #expect(sink.writeOffsets.count == Set(sink.writeOffsets).count, "no byte written twice")
        #expect(pair.bobFileEvents.contains { if case .interrupted = $0 { true } else { false } })
        #expect(pair.bobFileEvents.contains { if case let .resumed(_, _, offset) = $0 { offset == UInt64(before) } else { false } })
        #expect(pair.aliceFileEvents.contains { if case .delivered(_, "bob", "notes.txt", true) = $0 { true } else { false } })
    }

    /// Specs/chat-protocol.md, section 4.12: the sender cancels; the recipient's partial file is deleted.
    @Test func theSenderCancelsMidTransfer() {
        var pair = FilePair(bob: .tcp)
        let sink = MemorySink()
        pair.send(fileBytes(600_000), to: sink) { _ in sinkCount(sink) >= 100_000 }
        let offer = pair.alice.fileTransfers(at: pair.now).first!
        let cancelled = pair.alice.cancelFile(offer.id, reason: .cancelled, at: pair.now)
        #expect(cancelled)
        pair.run(until: pair.now + .seconds(5))
        #expect(sink.isDiscarded && !sink.isCommitted)
        #expect(pair.bobFileEvents.contains { if case .ended(_, _, .cancelled, "by alice") = $0 { true } else { false } })
    }
}

func sinkCount(_ sink: MemorySink) -> Int { sink.bytes.count }

extension FileTransferTests {
    /// Specs/chat-protocol.md, section 4.12, "Resume": the recipient's link drops mid-transfer while
    /// the relay stays up; the sender keeps offering again until the recipient is back, and the
    /// transfer continues from where the recipient's file ends.
    @Test func aRecipientThatReconnectsMidTransferResumes() {
        var pair = FilePair(bob: .tcp)
        let file = fileBytes(600_000)
        let sink = MemorySink()
        pair.send(file, to: sink) { _ in (150_000..<590_000).contains(sinkCount(sink)) }
        let before = sink.bytes.count
        pair.bob.handleStreamEnded(reason: "cable pulled", at: pair.now)
        pair.run(until: pair.now + .seconds(60))
        #expect(sink.bytes == file)
        #expect(sink.isCommitted)
        #expect(pair.bobFileEvents.contains { if case let .resumed(_, _, offset) = $0 { offset == UInt64(before) } else { false } })
        #expect(pair.aliceFileEvents.contains { if case .interrupted = $0 { true } else { false } })
        #expect(pair.aliceFileEvents.contains { if case .delivered(_, "bob", "notes.txt", true) = $0 { true } else { false } })
    }

    /// Specs/chat-protocol.md, section 4.12: a chunk at an offset near 2^64 from a hostile relay is
    /// refused before any arithmetic on it: the transfer fails, the partial file is deleted, nothing crashes.
    @Test func aChunkAtAnAbsurdOffsetFailsTheTransferWithoutACrash() {
        var pair = FilePair(bob: .tcp)
        let sink = MemorySink()
        pair.send(fileBytes(600_000), to: sink) { _ in sinkCount(sink) >= 100_000 }
        let hostile = RelayMessage.fileChunk(transfer: 1, offset: UInt64.max - 3, bytes: [1, 2, 3, 4, 5, 6])
        pair.bob.handleStreamBytes(Framing.frame(hostile.encoded()), at: pair.now)
        pair.exchange()
        #expect(sink.isDiscarded && !sink.isCommitted)
        #expect(pair.bobFileEvents.contains { if case .ended(1, _, .failed, _) = $0 { true } else { false } })
    }
}
