import LinkSimulator
import Testing
@testable import Datagram

/// A seeded generator for tests: LinkSimulator's SplitMix64.
typealias TestRandom = SplitMix64

extension SplitMix64 {
    init(state: UInt64) { self.init(seed: state) }
    mutating func chance(_ probability: Double) -> Bool {
        Double(next() % 1_000_000) < probability * 1_000_000
    }
}

/// A shared box so the pair's closures can draw from one generator per direction.
final class RandomBox: @unchecked Sendable {  // used by one test's thread only
    var generator: TestRandom
    init(seed: UInt64) { generator = TestRandom(state: seed) }
}

@Suite("A lossy, reordering, duplicating, corrupting virtual pair still delivers exactly once, in order")
struct LossyPairTests {
    /// Specs/wire-format.md, section 5: Reliable channel: once, intact, in order; fragments of the next message
    /// always accepted; a fragment that cannot be buffered MUST be dropped before it is recorded.
    @Test(arguments: Array(UInt64(1)...40))
    func lossyDelivery(seed: UInt64) throws {
        var configuration = Connection.Configuration.rfc9002
        configuration.reorderBufferLimit = 64
        var pair = VirtualPair(configuration: configuration, delay: .milliseconds(20),
                               clientFirstPacketNumber: UInt32.max - 50, serverFirstPacketNumber: UInt32.max - 7)
        let losses = RandomBox(seed: seed)
        let jitters = RandomBox(seed: seed &* 7919)
        pair.drop = { _, _ in losses.generator.chance(0.2) }
        pair.jitter = { _, _ in .microseconds(Int64(jitters.generator.next() % 30_000)) }
        pair.duplicate = { _, _ in jitters.generator.chance(0.05) }
        pair.corrupt = { _, _ in jitters.generator.chance(0.02) ? Int(jitters.generator.next() % 1200) : nil }
        var expected: [[UInt8]] = []
        for index in 0..<120 {
            let size = Int(losses.generator.next() % 4000)
            let message = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: size)
            try pair.client.send(message, at: pair.now)
            expected.append(message)
        }
        pair.run(until: Timestamp(sinceOrigin: .seconds(300))) { $0.serverMessages.count < expected.count && !$0.client.isClosed }
        #expect(pair.serverMessages == expected, "seed \(seed)")
        pair.run(until: pair.now + .seconds(5)) { !$0.client.isIdle }
        #expect(pair.client.isIdle, "seed \(seed)")
        #expect(pair.server?.statistics.reorderBufferDropped == 0, "seed \(seed)")
    }
}
