// PUBLIC API SKETCH written before the implementation so that Transport and the simulation tests can
// compile against it. The LinkSimulator implementer replaces the stub bodies and may split the file.
import Datagram

/// A small, fast, seedable pseudo-random generator (SplitMix64). The only randomness in the pure targets.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Gilbert-Elliott bursty loss: a two-state Markov chain (good, bad) with a loss rate in each state.
public struct BurstLoss: Sendable, Hashable {
    /// Probability per packet of moving from the good state to the bad state.
    public var goodToBad: Double
    /// Probability per packet of moving from the bad state back to the good state.
    public var badToGood: Double
    /// Loss probability while in the good state.
    public var lossInGood: Double
    /// Loss probability while in the bad state.
    public var lossInBad: Double
    public init(goodToBad: Double, badToGood: Double, lossInGood: Double = 0, lossInBad: Double = 1) {
        self.goodToBad = goodToBad; self.badToGood = badToGood
        self.lossInGood = lossInGood; self.lossInBad = lossInBad
    }
}

/// What one direction of a simulated link does to the datagrams that cross it.
public struct LinkConditions: Sendable, Hashable {
    /// Independent loss probability, 0...1.
    public var loss: Double = 0
    /// Bursty loss; applied in addition to `loss` when set.
    public var burst: BurstLoss? = nil
    /// Fixed one-way delay.
    public var delay: Duration = .zero
    /// Uniform extra delay in 0...jitter; jitter larger than the gap between packets reorders them.
    public var jitter: Duration = .zero
    /// Probability that a datagram is delivered twice.
    public var duplication: Double = 0
    /// Probability that one byte of a datagram is flipped.
    public var corruption: Double = 0
    /// Time windows during which everything is dropped.
    public var blackholes: [Range<Timestamp>] = []
    public init() {}
}

/// Counters for one direction of a simulated link.
public struct LinkStatistics: Sendable, Hashable {
    public var sent = 0, dropped = 0, duplicated = 0, corrupted = 0, delivered = 0
    public init() {}
}

/// One direction of a lossy link, as a pure value: datagrams go in with `send`, come out of
/// `pollDelivery` when their time has come. Deterministic for a given seed and input.
public struct SimulatedLink: Sendable {
    public var conditions: LinkConditions
    public private(set) var statistics = LinkStatistics()
    public let seed: UInt64

    public init(conditions: LinkConditions, seed: UInt64) {
        self.conditions = conditions
        self.seed = seed
        fatalError("stub")
    }

    /// A datagram enters the link at `now`; the link decides its fate at once.
    public mutating func send(_ datagram: [UInt8], at now: Timestamp) { fatalError("stub") }

    /// The next datagram whose delivery time is at or before `now`, or nil.
    public mutating func pollDelivery(at now: Timestamp) -> [UInt8]? { fatalError("stub") }

    /// When the next datagram comes out, or nil when the link is empty.
    public var nextDeliveryTime: Timestamp? { fatalError("stub") }
}
