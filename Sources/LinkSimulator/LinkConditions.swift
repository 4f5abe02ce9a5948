import Datagram

/// Gilbert-Elliott bursty loss: a two-state Markov chain (good, bad) with a loss rate in each state.
///
/// The chain moves once per datagram, after that datagram's fate is decided in the current state.
/// In the long run the link spends `goodToBad / (goodToBad + badToGood)` of datagrams in the bad
/// state, and a bad spell lasts `1 / badToGood` datagrams on average.
public struct BurstLoss: Sendable, Hashable {
    /// Probability per packet of moving from the good state to the bad state.
    public var goodToBad: Double
    /// Probability per packet of moving from the bad state back to the good state.
    public var badToGood: Double
    /// Loss probability while in the good state.
    public var lossInGood: Double
    /// Loss probability while in the bad state.
    public var lossInBad: Double

    /// Creates a chain; by default the good state loses nothing and the bad state loses everything.
    public init(goodToBad: Double, badToGood: Double, lossInGood: Double = 0, lossInBad: Double = 1) {
        self.goodToBad = goodToBad
        self.badToGood = badToGood
        self.lossInGood = lossInGood
        self.lossInBad = lossInBad
    }

    /// The fraction of datagrams this chain loses in the long run (its stationary loss rate).
    public var averageLoss: Double {
        let total = goodToBad + badToGood
        guard total > 0 else { return lossInGood }
        let badShare = goodToBad / total
        return badShare * lossInBad + (1 - badShare) * lossInGood
    }
}

/// What one direction of a simulated link does to the datagrams that cross it.
///
/// Every impairment is decided independently per datagram, in this order: blackhole, independent
/// loss, bursty loss, corruption, delay and jitter, duplication (the copy gets its own jitter).
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
    /// Time windows during which everything is dropped: a datagram is lost if it enters the link or
    /// would come out of it inside a window (the link is down, so what is on the wire is lost too).
    public var blackholes: [Range<Timestamp>] = []

    /// A perfect link: no loss, no delay.
    public init() {}

    /// A link with the given impairments; every argument defaults to none.
    public init(loss: Double = 0, burst: BurstLoss? = nil, delay: Duration = .zero, jitter: Duration = .zero,
                duplication: Double = 0, corruption: Double = 0, blackholes: [Range<Timestamp>] = []) {
        self.loss = loss
        self.burst = burst
        self.delay = delay
        self.jitter = jitter
        self.duplication = duplication
        self.corruption = corruption
        self.blackholes = blackholes
    }

    /// True when `time` falls inside one of the blackhole windows.
    public func isBlackholed(at time: Timestamp) -> Bool {
        blackholes.contains { $0.contains(time) }
    }
}

/// Counters for one direction of a simulated link.
///
/// `sent` counts datagrams offered; each is either dropped or scheduled, and a duplicated one is
/// scheduled twice, so once the link is drained `delivered == sent - dropped + duplicated`.
public struct LinkStatistics: Sendable, Hashable {
    /// Datagrams offered to the link with `send`.
    public var sent = 0
    /// Datagrams lost, for any reason (independent, bursty or blackhole).
    public var dropped = 0
    /// Datagrams scheduled twice.
    public var duplicated = 0
    /// Datagrams that had one byte flipped.
    public var corrupted = 0
    /// Datagrams handed out by `pollDelivery`, duplicates included.
    public var delivered = 0
    /// Of `dropped`, those lost to the Gilbert-Elliott chain.
    public var droppedInBurst = 0
    /// Of `dropped`, those lost to a blackhole window.
    public var droppedInBlackhole = 0
    /// Deliveries that came out after a datagram that entered the link later than they did.
    public var reordered = 0
    /// Bytes offered to the link with `send`.
    public var bytesSent = 0
    /// Bytes handed out by `pollDelivery`.
    public var bytesDelivered = 0

    /// All counters at zero.
    public init() {}

    /// The sum of two sets of counters, for totals over many links or runs.
    public static func + (lhs: LinkStatistics, rhs: LinkStatistics) -> LinkStatistics {
        var sum = LinkStatistics()
        sum.sent = lhs.sent + rhs.sent
        sum.dropped = lhs.dropped + rhs.dropped
        sum.duplicated = lhs.duplicated + rhs.duplicated
        sum.corrupted = lhs.corrupted + rhs.corrupted
        sum.delivered = lhs.delivered + rhs.delivered
        sum.droppedInBurst = lhs.droppedInBurst + rhs.droppedInBurst
        sum.droppedInBlackhole = lhs.droppedInBlackhole + rhs.droppedInBlackhole
        sum.reordered = lhs.reordered + rhs.reordered
        sum.bytesSent = lhs.bytesSent + rhs.bytesSent
        sum.bytesDelivered = lhs.bytesDelivered + rhs.bytesDelivered
        return sum
    }
}
