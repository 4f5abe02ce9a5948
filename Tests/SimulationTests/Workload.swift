import Datagram
import LinkSimulator

/// The messages one run sends, all derived from the run's seed.
///
/// Unreliable messages start with a 6-byte tag (side, channel, index) so a delivery can be matched to
/// what was sent whatever order it arrives in; reliable ones are matched by position, so they may be of
/// any size, including empty. Every payload byte comes from the seed, so a flipped byte cannot pass.
struct Workload: Sendable {
    struct Planned: Sendable {
        var side: Side
        var channel: Channel
        var bytes: [UInt8]
        var time: Timestamp
    }

    var messages: [Planned] = []

    init(seed: UInt64) {
        var generator = SplitMix64(seed: SplitMix64.derive(seed, 0x3017))
        for side in Side.allCases {
            let reliableCount = 4 + Int(generator.next() % 8)
            let unreliableCount = 2 + Int(generator.next() % 4)
            for index in 0..<reliableCount {
                let size = index == 0 && seed % 8 == UInt64(side == .client ? 0 : 4)
                    ? Limits.maximumMessageSize : Self.size(&generator)
                add(side, .reliableOrdered, index: index, size: size, &generator)
            }
            for index in 0..<unreliableCount {
                add(side, .unreliable, index: index, size: max(6, min(Self.size(&generator), 6_000)), &generator)
            }
        }
        messages.sort { $0.time < $1.time }
    }

    /// Mostly small, some a few fragments, a few large.
    private static func size(_ generator: inout SplitMix64) -> Int {
        let roll = generator.next() % 100
        if roll < 5 { return 0 }
        if roll < 70 { return Int(generator.next() % 200) }
        if roll < 95 { return 200 + Int(generator.next() % 4_000) }
        return 4_000 + Int(generator.next() % UInt64(Limits.maximumMessageSize - 4_000 + 1))
    }

    private mutating func add(_ side: Side, _ channel: Channel, index: Int, size: Int, _ generator: inout SplitMix64) {
        var bytes = [UInt8](repeating: 0, count: size)
        var fill = SplitMix64(seed: generator.next())
        for offset in bytes.indices { bytes[offset] = UInt8(truncatingIfNeeded: fill.next()) }
        if channel == .unreliable {
            bytes.replaceSubrange(0..<6, with: Self.tag(side, channel, index))
        }
        let time = Timestamp.milliseconds(Int64(generator.next() % 2_000))
        messages.append(Planned(side: side, channel: channel, bytes: bytes, time: time))
    }

    static func tag(_ side: Side, _ channel: Channel, _ index: Int) -> [UInt8] {
        [side == .client ? 0xC1 : 0x5E, channel.rawValue] + withUnsafeBytes(of: UInt32(index).bigEndian, Array.init)
    }

    func planned(from side: Side, on channel: Channel) -> [Planned] {
        messages.filter { $0.side == side && $0.channel == channel }
    }
}
