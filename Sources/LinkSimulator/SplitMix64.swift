import Datagram

/// A small, fast, seedable pseudo-random generator (SplitMix64). The only randomness in the pure targets.
///
/// Every simulated run derives all of its randomness from one of these, seeded from the run's seed, so a
/// run is reproduced exactly by its seed. Not for cryptography.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state; the next output is a function of it alone.
    public private(set) var state: UInt64

    /// Creates a generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 pseudo-random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in `0 ..< 1` built from the top 53 bits of one output.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform duration in `0 ... upperBound`, at microsecond resolution; always consumes one output.
    public mutating func nextDuration(upTo upperBound: Duration) -> Duration {
        let micros = upperBound.wholeMicroseconds
        let draw = next()
        guard micros > 0 else { return .zero }
        return .microseconds(Int64(draw % UInt64(micros + 1)))
    }

    /// Mixes `value` into a seed so that related inputs (a run seed and a direction) give unrelated streams.
    public static func derive(_ seed: UInt64, _ value: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: seed ^ (value &* 0xD6E8_FEB8_6659_FD93))
        return generator.next()
    }
}
