@testable import Datagram
import LinkSimulator
import Testing

@Suite("The simulator draws first packet numbers from its seed, as real ends draw them at random")
struct RandomStartTests {
    /// Specs/wire-format.md, section 4: Each endpoint MUST start its packet numbers at an unpredictable value (relay:
    /// SipHash of its secret; client: the system's random source; simulator: its seed).
    @Test("different seeds, different first packet numbers; the same seed, the same; a scenario may still fix them")
    func seededFirstPacketNumbers() {
        let first = SimulatedPair(options: SimulatedPair.Options(seed: 1)).client.firstPacketNumber
        let again = SimulatedPair(options: SimulatedPair.Options(seed: 1)).client.firstPacketNumber
        let other = SimulatedPair(options: SimulatedPair.Options(seed: 2)).client.firstPacketNumber
        #expect(first == again)
        #expect(first != other)
        var options = SimulatedPair.Options(seed: 1)
        options.clientFirstPacketNumber = UInt32.max - 10
        #expect(SimulatedPair(options: options).client.firstPacketNumber == UInt32.max - 10)
    }
}
