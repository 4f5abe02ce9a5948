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

private let crypto = LibCryptoNoise()
private let relayKey = try! crypto.keyPair(privateKey: Array(0x40...0x5F))
private let clientKey = try! crypto.keyPair(privateKey: Array(0x00...0x1F))

/// A sealed client core over TCP and a sealed relay core, wired in memory; the client's output
/// budget is small so that it pushes back.
private struct SealedStreamPair {
    var client: ChatClientCore
    var relay: RelayCore
    var now = Timestamp.milliseconds(1_000)
    let endpoint = Endpoint(transport: .tcp, address: [127, 0, 0, 1], port: 5000)
    var events: [ChatSessionEvent] = []

    init(streamOutputLimit: Int) {
        var relayConfiguration = RelayConfiguration()
        relayConfiguration.connection.sealing = Sealing(crypto: crypto, staticKeyPair: relayKey)
        relay = RelayCore(configuration: relayConfiguration, cookieSecret: (1, 2),
                          senderIDs: { SenderID(deriving: $0, sha256: SHA256.hash) }, at: now)
        var configuration = ChatClientConfiguration(name: "alice", transport: .tcp, sessionSecret: SessionSecret(rawValue: 42))
        configuration.datagramConfiguration.sealing = Sealing(crypto: crypto, staticKeyPair: clientKey)
        configuration.streamOutputLimit = streamOutputLimit
        client = ChatClientCore(configuration: configuration, random: SplitMix64(seed: 3))
    }

    /// Every frame the client queues reaches the relay at once, and the other way round.
    mutating func exchange() {
        var isBusy = true
        while isBusy {
            isBusy = false
            while let action = client.pollAction() {
                isBusy = true
                switch action {
                case .openStream:
                    relay.handleStreamOpened(endpoint, at: now)
                    client.handleStreamConnected(at: now)
                case .sendFrame(let bytes): relay.handleStreamBytes(bytes, from: endpoint, at: now)
                case .closeStream, .finishStream: relay.handleStreamClosed(endpoint, at: now)
                case .event(let event): events.append(event)
                default: break
                }
            }
            while let action = relay.pollAction() {
                switch action {
                case let .sendStream(bytes, to) where to == endpoint:
                    isBusy = true
                    client.handleStreamBytes(bytes, at: now)
                case let .closeStream(to) where to == endpoint:
                    isBusy = true
                    client.handleStreamEnded(reason: "closed by the relay", at: now)
                default: break
                }
            }
        }
    }

    var changes: [ConnectionChange] {
        events.compactMap { if case .connection(let change) = $0 { change } else { nil } }
    }
}

@Test func aSealedMessageThePushedBackBudgetHoldsIsSealedOnlyWhenItGoesOut() throws {
    var pair = SealedStreamPair(streamOutputLimit: 4_000)
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
