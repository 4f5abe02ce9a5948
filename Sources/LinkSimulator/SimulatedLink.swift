import Datagram

/// One direction of a lossy link, as a pure value: datagrams go in with `send`, come out of
/// `pollDelivery` when their time has come. Deterministic for a given seed and input.
///
/// The link decides a datagram's whole fate when it enters (lost, corrupted, delayed, duplicated) and
/// holds the survivors in a queue ordered by `(delivery time, entry order)`. Each datagram consumes
/// exactly the same number of draws from the generator whatever the conditions, so switching one
/// impairment on does not change the decisions another impairment makes for the same seed. Give each
/// direction its own seed (see `SimulatedLink.seed(for:direction:)`) so that one side's traffic never
/// shifts the other side's losses.
///
/// Driving contract: call `send` and `pollDelivery` with times that never go backwards; after
/// advancing to `nextDeliveryTime`, call `pollDelivery` until it returns nil.
public struct SimulatedLink: Sendable {
    /// The impairments; may be changed between datagrams (the change applies to datagrams sent later).
    public var conditions: LinkConditions
    /// Counters since the link was created.
    public private(set) var statistics = LinkStatistics()
    /// The seed the link's generator started from.
    public let seed: UInt64

    private var generator: SplitMix64
    private var isInBadState = false
    private var inFlight = TimedQueue<InFlight>()
    private var entries: UInt64 = 0
    private var latestDeliveredEntry: UInt64?

    private struct InFlight: Sendable {
        var entry: UInt64
        var bytes: [UInt8]
        var isCorrupted: Bool
    }

    /// The draws one datagram consumes, taken all at once so their number never depends on the outcome.
    private struct Draws {
        var loss, burstLoss, burstMove, corruption, duplication: Double
        var corruptedIndex, corruptionMask: UInt64
        var jitter, duplicateJitter: Duration
    }

    /// Creates an empty link whose random decisions are fixed by `seed`.
    public init(conditions: LinkConditions, seed: UInt64) {
        self.conditions = conditions
        self.seed = seed
        self.generator = SplitMix64(seed: seed)
    }

    /// The seed for one direction of a run: two directions of the same run get unrelated streams.
    public static func seed(for runSeed: UInt64, direction: UInt64) -> UInt64 {
        SplitMix64.derive(runSeed, 0x4C49_4E4B_0000_0000 | direction)
    }

    /// A datagram enters the link at `now`; the link decides its fate at once and returns it.
    @discardableResult
    public mutating func send(_ datagram: [UInt8], at now: Timestamp) -> DatagramFate {
        let draws = draw()
        statistics.sent += 1
        statistics.bytesSent += datagram.count
        let entry = entries
        entries += 1
        let arrival = now + conditions.delay + draws.jitter
        if let loss = lossCause(draws, sentAt: now, arrivingAt: arrival) { return .lost(loss) }
        var bytes = datagram
        var corruptedByte: Int?
        if draws.corruption < conditions.corruption, !bytes.isEmpty {
            let index = Int(draws.corruptedIndex % UInt64(bytes.count))
            bytes[index] ^= UInt8(1 + draws.corruptionMask % 255)
            statistics.corrupted += 1
            corruptedByte = index
        }
        inFlight.push(InFlight(entry: entry, bytes: bytes, isCorrupted: corruptedByte != nil), at: arrival)
        var copyArrival: Timestamp? = now + conditions.delay + draws.duplicateJitter
        if draws.duplication < conditions.duplication, let time = copyArrival, !conditions.isBlackholed(at: time) {
            statistics.duplicated += 1
            inFlight.push(InFlight(entry: entry, bytes: bytes, isCorrupted: corruptedByte != nil), at: time)
        } else {
            copyArrival = nil
        }
        return .scheduled(arrival: arrival, duplicateArrival: copyArrival, corruptedByte: corruptedByte)
    }

    /// The next datagram whose delivery time is at or before `now`, or nil.
    public mutating func pollDelivery(at now: Timestamp) -> [UInt8]? {
        guard let next = inFlight.popDue(at: now) else { return nil }
        statistics.delivered += 1
        statistics.bytesDelivered += next.bytes.count
        if next.isCorrupted { statistics.corruptedDeliveries += 1 }
        if let latest = latestDeliveredEntry, next.entry < latest {
            statistics.reordered += 1
        } else {
            latestDeliveredEntry = next.entry
        }
        return next.bytes
    }

    /// When the next datagram comes out, or nil when the link is empty.
    public var nextDeliveryTime: Timestamp? { inFlight.earliestTime }

    private mutating func draw() -> Draws {
        Draws(loss: generator.nextUnit(), burstLoss: generator.nextUnit(), burstMove: generator.nextUnit(),
              corruption: generator.nextUnit(), duplication: generator.nextUnit(),
              corruptedIndex: generator.next(), corruptionMask: generator.next(),
              jitter: generator.nextDuration(upTo: conditions.jitter),
              duplicateJitter: generator.nextDuration(upTo: conditions.jitter))
    }

    /// Decides loss and advances the Gilbert-Elliott chain (once per datagram, even in a blackhole).
    private mutating func lossCause(_ draws: Draws, sentAt now: Timestamp, arrivingAt arrival: Timestamp) -> LossCause? {
        var isBurstLoss = false
        if let burst = conditions.burst {
            isBurstLoss = draws.burstLoss < (isInBadState ? burst.lossInBad : burst.lossInGood)
            let move = isInBadState ? burst.badToGood : burst.goodToBad
            if draws.burstMove < move { isInBadState.toggle() }
        }
        let cause: LossCause? = if conditions.isBlackholed(at: now) || conditions.isBlackholed(at: arrival) {
            .blackhole
        } else if draws.loss < conditions.loss {
            .independent
        } else if isBurstLoss {
            .burst
        } else {
            nil
        }
        guard let cause else { return nil }
        statistics.dropped += 1
        if cause == .blackhole { statistics.droppedInBlackhole += 1 }
        if cause == .burst { statistics.droppedInBurst += 1 }
        return cause
    }
}

/// Why a simulated link lost a datagram.
public enum LossCause: String, Sendable, Hashable {
    /// The independent loss probability (`LinkConditions.loss`).
    case independent
    /// The Gilbert-Elliott chain (`LinkConditions.burst`).
    case burst
    /// A blackhole window (`LinkConditions.blackholes`).
    case blackhole
}

/// What a simulated link decided for one datagram when it entered.
public enum DatagramFate: Sendable, Hashable, CustomStringConvertible {
    /// Lost, for this reason.
    case lost(LossCause)
    /// Scheduled to come out at `arrival` (and a copy at `duplicateArrival`), with one byte flipped if
    /// `corruptedByte` is set.
    case scheduled(arrival: Timestamp, duplicateArrival: Timestamp?, corruptedByte: Int?)

    /// A few words for a trace line.
    public var description: String {
        switch self {
        case let .lost(cause): "lost (\(cause.rawValue))"
        case let .scheduled(arrival, duplicate, corrupted):
            "arrives \(arrival)" + (duplicate.map { ", copy \($0)" } ?? "") + (corrupted.map { ", byte \($0) flipped" } ?? "")
        }
    }
}
