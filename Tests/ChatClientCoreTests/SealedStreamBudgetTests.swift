import Chat
import ChatClientCore
import Datagram
import LibCrypto
import LinkSimulator
import Noise
import Relay
import Testing

// Issue 13, the bulk stall: over a sealed TCP stream, a message the output budget pushes back must
// not have been sealed yet. Sealing takes the stream's next nonce; a frame sealed and then kept in
// the backlog (to be sealed again, with a later nonce) left a gap, the relay could not open the
// next frame and closed the stream, and the resend burst after each reconnection met the same full
// buffer: compare's tcp bulk stopped for good.

// The pair is SealedSessionTests.swift's `SealedPair` over TCP with a small output budget.

@Test func aSealedMessageThePushedBackBudgetHoldsIsSealedOnlyWhenItGoesOut() throws {
    var pair = SealedPair(transport: .tcp, streamOutputLimit: 4_000)
    pair.client.start(at: pair.now)
    pair.exchange()
    #expect(pair.changes.contains { if case .joined = $0 { true } else { false } })
    // The relay holds this sender back: the shell's buffer is nearly full and stays so.
    pair.client.handleStreamOutput(pendingBytes: 3_900, at: pair.now)
    let text = String(repeating: "x", count: 900)
    for _ in 0..<6 { _ = try pair.client.say(text, in: "#lobby", at: pair.now) }
    pair.exchange()
    #expect(pair.relay.statistics.messagesRouted == 0, "everything waits in the backlog")
    // The relay reads again: the buffer empties, the backlog goes out, and every frame opens.
    for _ in 0..<6 {
        pair.client.handleStreamOutput(pendingBytes: 0, at: pair.now)
        pair.exchange()
    }
    #expect(pair.relay.statistics.streamFramesUnopened == 0)
    #expect(pair.relay.statistics.messagesRouted == 6)
    #expect(pair.client.isAllAcknowledged)
    #expect(!pair.changes.contains { if case .lost = $0 { true } else { false } })
}
