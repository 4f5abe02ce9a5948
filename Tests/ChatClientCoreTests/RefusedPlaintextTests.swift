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

private let crypto = LibCryptoNoise()
private let relayKey = try! crypto.keyPair(privateKey: Array(0x40...0x5F))

/// A plaintext client core and a sealed relay core without `allowsPlaintext`, wired in memory.
private struct RefusingPair {
    var client: ChatClientCore
    var relay: RelayCore
    var now = Timestamp.milliseconds(1_000)
    let endpoint: Endpoint
    var events: [ChatSessionEvent] = []
    var streamsOpened = 0

    init(transport: TransportKind) {
        var relayConfiguration = RelayConfiguration()
        relayConfiguration.connection.sealing = Sealing(crypto: crypto, staticKeyPair: relayKey)
        relay = RelayCore(configuration: relayConfiguration, cookieSecret: (1, 2),
                          senderIDs: { SenderID(deriving: $0, sha256: SHA256.hash) }, at: now)
        let configuration = ChatClientConfiguration(name: "alice", transport: transport, sessionSecret: SessionSecret(rawValue: 42))
        client = ChatClientCore(configuration: configuration, random: SplitMix64(seed: 3))
        endpoint = Endpoint(transport: transport == .udp ? .udp : .tcp, address: [127, 0, 0, 1], port: 5000)
    }

    mutating func exchange() {
        var isBusy = true
        while isBusy {
            isBusy = false
            while let action = client.pollAction() {
                isBusy = true
                switch action {
                case .sendDatagram(let bytes): relay.handleDatagram(bytes, from: endpoint, at: now)
                case .openStream:
                    streamsOpened += 1
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
                case let .sendDatagram(bytes, to) where to == endpoint:
                    isBusy = true
                    client.handleDatagram(bytes, at: now)
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

    mutating func run(until time: Timestamp) {
        exchange()
        while let next = [client.nextDeadline, relay.nextDeadline].compactMap({ $0 }).min(), next <= time {
            now = max(now, next)
            client.handleTimeout(at: now)
            relay.handleTimeout(at: now)
            exchange()
        }
        now = max(now, time)
    }

    var changes: [ConnectionChange] { events.compactMap { if case .connection(let change) = $0 { change } else { nil } } }
}

/// Specs/wire-format.md, section 10.5 (and Specs/chat-protocol.md, section 4.9): over UDP the relay closes
/// a plaintext session with CLOSE `encryptionRequired` (5); the client reports `refusedForGood` once,
/// with what to do, closes, and makes no second attempt in ten minutes.
@Test func aRefusedPlaintextUDPClientStopsAndSaysWhatToDo() {
    var pair = RefusingPair(transport: .udp)
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
    var pair = RefusingPair(transport: .tcp)
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
