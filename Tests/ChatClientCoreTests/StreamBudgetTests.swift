import Chat
import ChatClientCore
import Datagram
import Testing

/// The TCP output budget (issue 13, "the rare bulk failure"): the core never hands the shell more
/// frames than its output buffer holds (`streamOutputLimit`), counting what the shell holds *and*
/// what it has not taken yet, so a write is never refused and no frame of a sealed stream goes
/// missing.
///
/// A second way to issue 13's bulk stall (the one seen is in SealedStreamBudgetTests.swift): a relay
/// holding a sender back stops reading its stream, whose buffer fills to the limit. The shell takes
/// a batch of actions and reported after each write only its buffer; the core took that for
/// everything outstanding and queued up to another limit's worth behind the frames still in the
/// batch. The write that did not fit was refused and its frame dropped: on a sealed stream a gap
/// the relay cannot open past, on a plaintext one a message lost without a word.
@Suite struct StreamBudgetTests {
    static let text = String(repeating: "x", count: 900)

    @Test func framesNotYetTakenByTheShellCountTowardTheOutputLimit() throws {
        var client = ScriptedClient { $0.streamOutputLimit = 4_000 }
        client.startAndConnect()
        client.welcome()
        client.core.handleStreamOutput(pendingBytes: 0, at: client.now)
        client.drain()
        for _ in 0..<10 { _ = try client.core.say(Self.text, in: "#lobby", at: client.now) }
        // The shell has not taken those frames yet; its own buffer is empty, and it says so.
        client.core.handleStreamOutput(pendingBytes: 0, at: client.now)
        var shell = ModelShell(limit: 4_000)
        shell.takeBatch(from: &client.core, reporting: false, at: client.now)
        #expect(shell.refusals == 0)
        #expect(shell.buffered <= 4_000)
        shell.relayReadsEverything()
        #expect(shell.said == [1, 2, 3, 4])
    }

    @Test func aShellReportingAfterEachWriteOfABatchNeverHasAWriteRefused() throws {
        var client = ScriptedClient { $0.streamOutputLimit = 4_000 }
        client.startAndConnect()
        client.welcome()
        client.drain()
        var shell = ModelShell(limit: 4_000)
        // The relay reads nothing (it holds this sender back): the buffer fills and stays full.
        for _ in 0..<30 {
            _ = try client.core.say(Self.text, in: "#lobby", at: client.now)
            shell.run(&client.core, at: client.now)
        }
        #expect(shell.refusals == 0)
        #expect(shell.buffered <= 4_000)
        // The relay reads again: everything arrives, in order, without a gap.
        for _ in 0..<40 where shell.said.count < 30 {
            shell.relayReadsEverything()
            client.core.handleStreamOutput(pendingBytes: 0, at: client.now)
            shell.run(&client.core, at: client.now)
        }
        #expect(shell.refusals == 0)
        #expect(shell.said == Array(1...30))
    }
}

/// A shell the way `ChatSession` drives the core over TCP: it takes every action queued, then
/// writes the batch's frames one by one into an output buffer of `limit` bytes (which refuses a frame
/// that would pass it, unless the buffer is empty), reporting after each write what it still holds:
/// the buffer and the rest of the batch. The kernel takes nothing until `relayReadsEverything()`.
struct ModelShell {
    let limit: Int
    var buffered = 0
    var refusals = 0
    /// The SAY ids the relay has read, in order (plaintext frames).
    var said: [UInt64] = []
    private var written: [[UInt8]] = []

    init(limit: Int) { self.limit = limit }

    /// Takes batches until the core has nothing more to do.
    mutating func run(_ core: inout ChatClientCore, at now: Timestamp) {
        for _ in 0..<1_000 where takeBatch(from: &core, reporting: true, at: now) {}
    }

    /// Takes one batch and writes its frames; false when there was nothing to take.
    @discardableResult
    mutating func takeBatch(from core: inout ChatClientCore, reporting: Bool, at now: Timestamp) -> Bool {
        var frames: [[UInt8]] = []
        while let action = core.pollAction() {
            if case .sendFrame(let frame) = action { frames.append(frame) }
        }
        var inHand = frames.reduce(0) { $0 + $1.count }
        for frame in frames {
            inHand -= frame.count
            if buffered == 0 || buffered + frame.count <= limit {
                buffered += frame.count
                written.append(frame)
            } else {
                refusals += 1
            }
            if reporting { core.handleStreamOutput(pendingBytes: buffered + inHand, at: now) }
        }
        return !frames.isEmpty
    }

    /// The relay reads the whole buffer; the SAY ids in it are recorded.
    mutating func relayReadsEverything() {
        var decoder = FrameDecoder()
        for frame in written { decoder.append(frame) }
        while let payload = try? decoder.nextFrame() {
            if case let .say(_, id, _, _)? = try? ClientMessage(decoding: payload) { said.append(id) }
        }
        written = []
        buffered = 0
    }
}
