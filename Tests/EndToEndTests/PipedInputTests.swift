import Foundation
import Testing

/// Line mode with more lines in flight than the session's window (4,096): the client stops reading
/// standard input while the window is full, so nothing is refused, everything arrives, and it exits 0.
/// (The relay's rate limit is off here: at its default of 50 lines a second it would push back too,
/// losing nothing, but 20,000 lines would take almost seven minutes.)
@Test(.timeLimit(.minutes(2)))
func twentyThousandPipedLinesAreAllDeliveredAndTheClientExitsZero() throws {
    let (relay, port) = try startRelay(arguments: ["--rate", "off"])
    defer { relay.terminate() }
    let bob = try startClient("bob", port: port, arguments: ["--mode", "udp"])
    let alice = try startClient("alice", port: port, arguments: ["--mode", "udp"])
    let count = 20_000
    alice.send((1...count).map { "m alice \($0)" })
    alice.closeInput()
    #expect(alice.waitForExit(timeout: 60) == 0, "alice did not leave cleanly: \(alice.standardError.suffix(2000))")
    #expect(!alice.standardOutput.contains("not sent"))
    bob.waitForOutput("all \(count) messages of alice", timeout: 30) { sequence(from: "alice", in: $0).last == count }
    #expect(sequence(from: "alice", in: bob.standardOutput) == Array(1...count))
    bob.closeInput()
    #expect(bob.waitForExit(timeout: 15) == 0)
}
