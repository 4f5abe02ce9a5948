import Datagram
import LinkSimulator
import Testing

/// A datagram that names its own index, so tests can tell which one came out.
private func datagram(_ index: Int, size: Int = 8) -> [UInt8] {
    let head = withUnsafeBytes(of: UInt32(index).bigEndian, Array.init)
    return head + [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: max(0, size - 4))
}

private func index(of datagram: [UInt8]) -> Int {
    datagram.prefix(4).reduce(0) { $0 << 8 | Int($1) }
}

/// Sends `count` datagrams one every `spacing`, then drains the link; returns (time, index) per delivery.
private func pass(_ count: Int, through link: inout SimulatedLink,
                  spacing: Duration = .milliseconds(1)) -> [(time: Timestamp, index: Int)] {
    var deliveries: [(time: Timestamp, index: Int)] = []
    var now = Timestamp.zero
    for sent in 0..<count {
        now = .zero + spacing * sent
        while let next = link.nextDeliveryTime, next <= now {
            while let bytes = link.pollDelivery(at: next) { deliveries.append((next, index(of: bytes))) }
        }
        link.send(datagram(sent), at: now)
    }
    while let next = link.nextDeliveryTime {
        while let bytes = link.pollDelivery(at: next) { deliveries.append((next, index(of: bytes))) }
    }
    return deliveries
}

@Suite("SimulatedLink")
struct SimulatedLinkTests {
    static let everything = LinkConditions(loss: 0.1, burst: BurstLoss(goodToBad: 0.02, badToGood: 0.3),
                                           delay: .milliseconds(20), jitter: .milliseconds(15),
                                           duplication: 0.05, corruption: 0.05)

    @Test func sameSeedSameFate() {
        var first = SimulatedLink(conditions: Self.everything, seed: 42)
        var second = SimulatedLink(conditions: Self.everything, seed: 42)
        var other = SimulatedLink(conditions: Self.everything, seed: 43)
        let a = pass(5_000, through: &first), b = pass(5_000, through: &second), c = pass(5_000, through: &other)
        #expect(a.map(\.index) == b.map(\.index))
        #expect(a.map(\.time) == b.map(\.time))
        #expect(first.statistics == second.statistics)
        #expect(a.map(\.index) != c.map(\.index))
    }

    @Test func everyDatagramConsumesTheSameDraws() {
        // Adding jitter and duplication must not change which datagrams are lost.
        var plain = SimulatedLink(conditions: LinkConditions(loss: 0.2), seed: 7)
        var busy = SimulatedLink(conditions: LinkConditions(loss: 0.2, jitter: .milliseconds(30), duplication: 0.3),
                                 seed: 7)
        let survivors = Set(pass(2_000, through: &plain).map(\.index))
        let busySurvivors = Set(pass(2_000, through: &busy).map(\.index))
        #expect(survivors == busySurvivors)
        #expect(busy.statistics.dropped == plain.statistics.dropped)
    }

    @Test(arguments: [0.01, 0.1, 0.3, 0.5])
    func independentLossMatchesTheSetting(loss: Double) {
        var link = SimulatedLink(conditions: LinkConditions(loss: loss), seed: 2026)
        let delivered = pass(100_000, through: &link, spacing: .microseconds(10)).count
        let measured = Double(link.statistics.dropped) / 100_000
        #expect(abs(measured - loss) < 0.005, "measured \(measured) for a setting of \(loss)")
        #expect(delivered + link.statistics.dropped == 100_000)
        #expect(link.statistics.delivered == delivered)
    }

    @Test func gilbertElliottLosesInBursts() {
        let burst = BurstLoss(goodToBad: 0.01, badToGood: 0.25)
        var bursty = SimulatedLink(conditions: LinkConditions(burst: burst), seed: 99)
        var independent = SimulatedLink(conditions: LinkConditions(loss: burst.averageLoss), seed: 99)
        let burstyRuns = lossRuns(pass(100_000, through: &bursty, spacing: .microseconds(10)), of: 100_000)
        let independentRuns = lossRuns(pass(100_000, through: &independent, spacing: .microseconds(10)), of: 100_000)
        let rate = Double(bursty.statistics.dropped) / 100_000
        #expect(abs(rate - burst.averageLoss) < 0.01, "measured \(rate), expected \(burst.averageLoss)")
        #expect(bursty.statistics.droppedInBurst == bursty.statistics.dropped)
        // A bad spell lasts 1 / 0.25 = 4 datagrams on average; independent losses rarely come in pairs.
        #expect(burstyRuns.mean > 3 && burstyRuns.mean < 5, "mean burst \(burstyRuns.mean)")
        #expect(independentRuns.mean < 1.2, "mean run \(independentRuns.mean)")
        #expect(burstyRuns.longest > independentRuns.longest)
    }

    @Test func zeroJitterKeepsOrder() {
        var link = SimulatedLink(conditions: LinkConditions(loss: 0.1, delay: .milliseconds(50), duplication: 0.1),
                                 seed: 5)
        // A duplicate arrives at the same instant as its original: ties come out in the order they went in.
        let deliveries = pass(3_000, through: &link, spacing: .microseconds(500))
        let indices = deliveries.map(\.index)
        #expect(indices == indices.sorted())
        #expect(link.statistics.reordered == 0)
        #expect(deliveries.allSatisfy { $0.time == .zero + .microseconds(500) * $0.index + .milliseconds(50) })
    }

    @Test func jitterReordersButLosesNothing() {
        var link = SimulatedLink(conditions: LinkConditions(delay: .milliseconds(10), jitter: .milliseconds(20)),
                                 seed: 11)
        let deliveries = pass(2_000, through: &link)
        #expect(deliveries.map(\.index).sorted() == Array(0..<2_000))
        #expect(link.statistics.reordered > 100)
        #expect(deliveries.map(\.time) == deliveries.map(\.time).sorted())
        for delivery in deliveries {
            let sent = Timestamp.milliseconds(Int64(delivery.index))
            #expect(delivery.time - sent >= .milliseconds(10) && delivery.time - sent <= .milliseconds(30))
        }
    }

    @Test func blackholeDropsWhatEntersOrWouldArriveInside() {
        let window = Timestamp.milliseconds(100)..<Timestamp.milliseconds(200)
        var link = SimulatedLink(conditions: LinkConditions(delay: .milliseconds(5), blackholes: [window]), seed: 1)
        let survivors = Set(pass(300, through: &link).map(\.index))
        // Sent at 95 ms it would arrive at 100 ms, inside the window; sent at 200 ms it is outside.
        #expect(survivors == Set(0..<95).union(200..<300))
        #expect(link.statistics.droppedInBlackhole == 105)
        #expect(link.statistics.dropped == 105)
    }

    @Test func duplicationAndCorruption() {
        var link = SimulatedLink(conditions: LinkConditions(duplication: 1, corruption: 1), seed: 3)
        var now = Timestamp.zero
        var originals: [[UInt8]] = []
        for sent in 0..<100 {
            now = .milliseconds(Int64(sent))
            originals.append(datagram(sent, size: 64))
            link.send(originals.last!, at: now)
        }
        var copies = 0
        while let bytes = link.pollDelivery(at: now) {
            copies += 1
            let changed = originals.filter { $0.count == bytes.count }
                .map { zip($0, bytes).filter { $0 != $1 }.count }.min()
            #expect(changed == 1, "a corrupted datagram differs from one original in exactly one byte")
        }
        #expect(copies == 200)
        #expect(link.statistics.duplicated == 100 && link.statistics.corrupted == 100)
        #expect(link.statistics.delivered == link.statistics.sent - link.statistics.dropped + link.statistics.duplicated)
    }

    @Test func directionsHaveUnrelatedSeeds() {
        let forward = SimulatedLink.seed(for: 1234, direction: 1)
        let backward = SimulatedLink.seed(for: 1234, direction: 2)
        #expect(forward != backward)
        #expect(forward != SimulatedLink.seed(for: 1235, direction: 1))
    }
}

/// Lengths of the runs of consecutive lost datagrams.
private func lossRuns(_ deliveries: [(time: Timestamp, index: Int)], of count: Int) -> (mean: Double, longest: Int) {
    var delivered = [Bool](repeating: false, count: count)
    for delivery in deliveries { delivered[delivery.index] = true }
    var runs: [Int] = []
    var current = 0
    for isDelivered in delivered {
        if isDelivered {
            if current > 0 { runs.append(current) }
            current = 0
        } else {
            current += 1
        }
    }
    if current > 0 { runs.append(current) }
    return (Double(runs.reduce(0, +)) / Double(max(runs.count, 1)), runs.max() ?? 0)
}
