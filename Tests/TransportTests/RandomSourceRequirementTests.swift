import Testing
import Datagram
@testable import Transport

/// Specs/wire-format.md, section 4 ("Initial packet numbers": the client draws its first packet number
/// from the system's random source; section 1: the connection id is chosen at random) and
/// Specs/chat-protocol.md, section 4.6 (the session secret comes from a cryptographically secure source).
/// What can be checked of the source itself: `SystemRandom` (getrandom(2)) gives a fresh value per draw.
/// The chat client's use of it for the session secret (`ChatSessionConfiguration.init`, in
/// Sources/DatagramRuntime/ChatSession) is not tested here (see Specs/checking.md, section 3, chat-protocol 4.6).
@Suite("The system random source behind connection ids, first packet numbers and session secrets")
struct RandomSourceRequirementTests {
    /// Sixteen 32-bit draws that collide have probability about 120 / 2^32; sixteen 64-bit draws, about
    /// 120 / 2^64. Any fixed or counter-like source fails at once.
    /// Specs/wire-format.md, section 4: Each endpoint MUST start its packet numbers at an unpredictable value (relay:
    /// SipHash of its secret; client: the system's random source; simulator: its seed).
    /// Specs/chat-protocol.md, section 4.6: A client MUST draw its secret from a cryptographically secure source,
    /// once per run.
    /// Specs/wire-format.md, section 2: The connection id is chosen by the client at random and echoed by the server;
    /// a packet with another id changes nothing.
    @Test("connection ids, first packet numbers and 64-bit secrets differ from draw to draw")
    func drawsDiffer() {
        let ids = (0..<16).map { _ in SystemRandom.connectionID() }
        let packetNumbers = (0..<16).map { _ in SystemRandom.packetNumber() }
        let secrets = (0..<16).map { _ in SystemRandom.uint64() }
        #expect(Set(ids).count == 16)
        #expect(Set(packetNumbers).count == 16)
        #expect(Set(secrets).count == 16)
        let successive = zip(packetNumbers, packetNumbers.dropFirst()).map { $1 &- $0 }
        #expect(Set(successive).count > 1, "not a counter")
    }
}
