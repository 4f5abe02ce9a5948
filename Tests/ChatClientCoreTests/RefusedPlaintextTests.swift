import Chat
import ChatClientCore
import Datagram
import LibCrypto
import LinkSimulator
import Noise
import Relay
import Testing

// Issue 10: a plaintext client (`chat --plaintext`) at a relay that accepts encrypted sessions only
// is refused for good: it stops, says what happened and what to do, and does not retry
// (Specs/chat-protocol.md sections 4.9 and 5.1; Specs/wire-format.md sections 7 and 10.5).
// The pair is SealedSessionTests.swift's `SealedPair` with a plaintext client.

/// Specs/wire-format.md, section 10.5 (and Specs/chat-protocol.md, section 4.9): over UDP the relay closes
/// a plaintext session with CLOSE `encryptionRequired` (5); the client reports `refusedForGood` once,
/// with what to do, closes, and makes no second attempt in ten minutes.
@Test func aRefusedPlaintextUDPClientStopsAndSaysWhatToDo() {
    var pair = SealedPair(transport: .udp, isClientSealed: false)
    pair.client.start(at: pair.now)
    pair.run(until: .milliseconds(600_000))
    #expect(pair.changes == [.refusedForGood(reason: ChatClientCore.encryptionRequiredReason)])
    #expect(ChatClientCore.encryptionRequiredReason.contains("drop --plaintext, or run the relay with --allow-plaintext"))
    #expect(pair.client.isClosed)
    #expect(pair.relay.statistics.plaintextRefused == 1, "one attempt, no retry loop")
}

/// Specs/chat-protocol.md, section 4.9 (and 5.1): over TCP the relay answers a plaintext stream with ERROR
/// `encryptionRequired` and closes it; the client shows the ERROR, reports `refusedForGood` once,
/// closes, and opens no second stream.
@Test func aRefusedPlaintextTCPClientStopsAndSaysWhatToDo() {
    var pair = SealedPair(transport: .tcp, isClientSealed: false)
    pair.client.start(at: pair.now)
    pair.run(until: .milliseconds(600_000))
    #expect(pair.changes == [.refusedForGood(reason: ChatClientCore.encryptionRequiredReason)])
    #expect(pair.events.contains { if case .received(.error(.encryptionRequired, _, _)) = $0 { true } else { false } })
    #expect(pair.client.isClosed)
    #expect(pair.streamsOpened == 1)
    #expect(pair.relay.statistics.plaintextRefused == 1)
}

/// Specs/wire-format.md, section 7: a relay that is full (CLOSE `refused`, 4) is still retried: only
/// `encryptionRequired` is for good.
@Test func aFullRelayIsStillRetried() {
    #expect(ChatClientCore.describe(.peer(code: .refused)) == "the relay refused the connection (it is full)")
    #expect(CloseCode.encryptionRequired.rawValue == 5)
    #expect(CloseCode.encryptionRequired.description == "encryption required (5)")
}
