import Chat
import ChatClientCore
import Datagram
import LibCrypto
import LinkSimulator
import Noise
import Relay
import Testing

// Issue 10: the client's side of a sealed session, against a real sealed RelayCore, over UDP
// datagrams and over a TCP stream, in scripted time (Specs/chat-protocol.md sections 4.9 and 5.1).

private let crypto = LibCryptoNoise()
private let relayKey = try! crypto.keyPair(privateKey: Array(0x40...0x5F))
private let clientKey = try! crypto.keyPair(privateKey: Array(0x00...0x1F))

/// A client core and a sealed relay core, wired over UDP or TCP in memory.
struct SealedPair {
    var client: ChatClientCore
    var relay: RelayCore
    var now = Timestamp.milliseconds(1_000)
    let endpoint: Endpoint
    var events: [ChatSessionEvent] = []
    var streamsOpened = 0

    /// `isClientSealed: false`: a plaintext client (`chat --plaintext`) at this encrypted-only relay.
    /// `streamOutputLimit`: the client's TCP output budget, small to make it push back.
    init(transport: TransportKind, isClientSealed: Bool = true, streamOutputLimit: Int? = nil,
         check: (@Sendable ([UInt8]) -> PeerKeyDecision)? = nil) {
        var relayConfiguration = RelayConfiguration()
        relayConfiguration.connection.sealing = Sealing(crypto: crypto, staticKeyPair: relayKey)
        relay = RelayCore(configuration: relayConfiguration, cookieSecret: (1, 2),
                          senderIDs: { SenderID(deriving: $0, sha256: SHA256.hash) }, at: now)
        var configuration = ChatClientConfiguration(name: "alice", transport: transport, sessionSecret: SessionSecret(rawValue: 42))
        if isClientSealed {
            configuration.datagramConfiguration.sealing = Sealing(crypto: crypto, staticKeyPair: clientKey, checkPeerKey: check)
        }
        if let streamOutputLimit { configuration.streamOutputLimit = streamOutputLimit }
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

    var joined: Bool { events.contains { if case .connection(.joined) = $0 { true } else { false } } }
    var changes: [ConnectionChange] { events.compactMap { if case .connection(let change) = $0 { change } else { nil } } }
    var handshakeFailures: [String] {
        events.compactMap { if case .connection(.handshakeFailed(let reason)) = $0 { reason } else { nil } }
    }
}

/// Specs/chat-protocol.md, section 4.9: a sealed UDP session joins, and the relay knows the client's key.
@Test func aSealedUDPSessionJoins() {
    var pair = SealedPair(transport: .udp)
    pair.client.start(at: pair.now)
    pair.run(until: .milliseconds(3_000))
    #expect(pair.joined)
    #expect(pair.relay.statistics.handshakesCompleted == 1)
}

/// Specs/chat-protocol.md, section 4.9: a rejected relay key ends the session with the check's
/// message, once, and the client does not reconnect.
@Test func aRejectedRelayKeyEndsAUDPSessionWithoutReconnecting() {
    var pair = SealedPair(transport: .udp, check: { _ in .reject("the relay's key changed") })
    pair.client.start(at: pair.now)
    pair.run(until: .milliseconds(20_000))
    #expect(pair.handshakeFailures == ["the relay's key changed"])
    #expect(!pair.joined)
    #expect(pair.client.isClosed)
    #expect(pair.relay.statistics.cookiesIssued == 1, "one handshake, no reconnection loop")
}

/// Specs/chat-protocol.md, section 5.1: a sealed TCP session joins and chats; the relay knows the key.
@Test func aSealedTCPSessionJoins() {
    var pair = SealedPair(transport: .tcp)
    pair.client.start(at: pair.now)
    pair.run(until: .milliseconds(3_000))
    #expect(pair.joined)
    #expect(pair.relay.statistics.handshakesCompleted == 1)
}

/// Specs/chat-protocol.md, section 5.1: over TCP too, a rejected relay key ends the session without
/// reconnecting.
@Test func aRejectedRelayKeyEndsATCPSessionWithoutReconnecting() {
    var pair = SealedPair(transport: .tcp, check: { _ in .reject("the relay's key changed") })
    pair.client.start(at: pair.now)
    pair.run(until: .milliseconds(20_000))
    #expect(pair.handshakeFailures == ["the relay's key changed"])
    #expect(!pair.joined)
    #expect(pair.client.isClosed)
    #expect(pair.streamsOpened == 1)
}
