import LibCrypto
import Chat
import ChatClientCore
import Datagram
import LinkSimulator
import Relay
import Testing

/// A chat client core and a real `RelayCore`, wired over UDP datagrams in memory, in scripted time.
struct ClientAndRelay {
    var client: ChatClientCore
    var relay: RelayCore
    var now = Timestamp.milliseconds(1_000)
    let endpoint = Endpoint(transport: .udp, address: [127, 0, 0, 1], port: 5000)
    var events: [ChatSessionEvent] = []
    var relayLogs: [String] = []

    init(peerTimeout: Duration, _ adjust: (inout ChatClientConfiguration) -> Void = { _ in }) {
        var relayConfiguration = RelayConfiguration()
        relayConfiguration.peerTimeout = peerTimeout
        relay = RelayCore(configuration: relayConfiguration, cookieSecret: (1, 2), senderIDs: { SenderID(deriving: $0, sha256: SHA256.hash) }, at: now)
        var configuration = ChatClientConfiguration(name: "alice", transport: .udp, sessionSecret: SessionSecret(rawValue: 42))
        adjust(&configuration)
        client = ChatClientCore(configuration: configuration, random: SplitMix64(seed: 3))
    }

    /// Passes what each side sends to the other until both are quiet.
    mutating func exchange() {
        var isBusy = true
        while isBusy {
            isBusy = false
            while let action = client.pollAction() {
                switch action {
                case .sendDatagram(let bytes):
                    relay.handleDatagram(bytes, from: endpoint, at: now)
                    isBusy = true
                case .event(let event): events.append(event)
                default: break
                }
            }
            while let action = relay.pollAction() {
                switch action {
                case let .sendDatagram(bytes, to) where to == endpoint:
                    client.handleDatagram(bytes, at: now)
                    isBusy = true
                case let .log(_, line): relayLogs.append(line)
                default: break
                }
            }
        }
    }

    /// Runs both sides' timers, in order, until `time`.
    mutating func run(until time: Timestamp) {
        exchange()
        while let next = [client.nextDeadline, relay.nextDeadline].compactMap({ $0 }).min(), next <= time {
            now = max(now, next)
            client.handleTimeout(at: now)
            relay.handleTimeout(at: now)
            exchange()
        }
        now = time
    }

    var changes: [ConnectionChange] {
        events.compactMap { if case .connection(let change) = $0 { change } else { nil } }
    }
}

/// Issue 9.2: the client derives its keepalive from the peer timeout WELCOME announces.
/// Specs/chat-protocol.md, section 4.3 "Keepalive": the client uses the same interval as the relay.
@Test func aUDPClientStaysJoinedWithARelayThatTimesPeersOutAfterTwoSeconds() {
    var pair = ClientAndRelay(peerTimeout: .seconds(2))
    pair.client.start(at: pair.now)
    pair.run(until: pair.now + .seconds(1))
    #expect(pair.changes == [.joined(name: "alice", isReconnection: false, resent: 0)])
    #expect(pair.client.currentHeartbeatInterval == .seconds(2) / 3)
    pair.run(until: pair.now + .seconds(30))
    #expect(pair.client.isJoined)
    #expect(pair.changes == [.joined(name: "alice", isReconnection: false, resent: 0)], "\(pair.relayLogs)")
}

/// A UDP join, a message said and acknowledged, then a relay that forgets everything (a restart):
/// the client reconnects on its own and says the message again after the rejoin grace.
@Test func aRelayThatRestartsIsRejoinedOverUDPAndTheMessageGoesAgain() throws {
    var pair = ClientAndRelay(peerTimeout: .seconds(10)) { $0.rejoinGrace = .milliseconds(500) }
    pair.client.start(at: pair.now)
    pair.run(until: pair.now + .seconds(1))
    _ = try pair.client.say("hello", in: "#lobby", at: pair.now)
    pair.run(until: pair.now + .milliseconds(200))
    #expect(pair.events.contains(.acknowledged(messageID: 1)))
    pair.relay = RelayCore(configuration: RelayConfiguration(), cookieSecret: (5, 6), senderIDs: { SenderID(deriving: $0, sha256: SHA256.hash) }, at: pair.now)
    pair.run(until: pair.now + .seconds(20))
    #expect(pair.client.isJoined)
    let changes = pair.changes
    #expect(changes.contains(.joined(name: "alice", isReconnection: true, resent: 1)), "\(changes)")
    #expect(pair.client.statistics.messagesResent == 1)
}
