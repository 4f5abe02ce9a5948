import Chat
import ChatClientCore
import Datagram
import LinkSimulator
import Testing

/// Transcripts of a chat session against a scripted relay, in scripted time (TCP frames).
@Suite struct SessionTranscripts {
    @Test func helloGoesOutOnConnectAndWhatWasTypedWaitsForWelcome() throws {
        var client = ScriptedClient()
        client.startAndConnect()
        #expect(client.opened == 1)
        #expect(client.takeSent().map(\.isHello) == [true])
        _ = try client.core.say("early", in: "#lobby", at: client.now)
        #expect(client.takeSaid().isEmpty)
        client.welcome()
        #expect(client.takeSaid() == [1])
        #expect(client.takeChanges() == [.joined(name: "alice", isReconnection: false, resent: 1)])
    }

    @Test func aRelayThatClosesGracefullyIsRejoinedAndUnacknowledgedMessagesAreResent() throws {
        var client = ScriptedClient { $0.rejoinGrace = .zero }
        client.startAndConnect()
        client.welcome()
        for text in ["one", "two", "three"] { _ = try client.core.say(text, in: "#lobby", at: client.now) }
        client.relay(.received(upTo: 1))
        _ = client.takeSent()
        _ = client.takeChanges()
        client.relay(.notice(Notice(kind: .serverShutdown, name: "", room: "", detail: "")))
        client.streamEnds()
        #expect(client.takeChanges() == [.lost(reason: "the relay closed the connection")])
        client.advance(by: .seconds(1))
        #expect(client.opened == 2)
        client.connect()
        #expect(client.takeSent().map(\.isHello) == [true])
        client.welcome()
        // The acknowledged one goes again too: a relay that stopped may not have passed it on.
        #expect(client.takeSaid() == [1, 2, 3])
        #expect(client.core.statistics.reconnections == 1)
    }

    @Test func aRelayThatGoesSilentIsGivenUpAfterTheSilenceLimit() throws {
        var client = ScriptedClient()
        client.startAndConnect()
        client.welcome(peerTimeout: .seconds(30))
        _ = client.takeChanges()
        client.advance(by: .seconds(6))
        #expect(client.takeChanges().isEmpty)
        client.advance(by: .seconds(1))
        #expect(client.takeChanges() == [.lost(reason: "nothing heard from the relay for 7.0 seconds")])
        #expect(client.core.status(at: client.now) == .quiet(silence: .seconds(7), isReconnecting: true))
    }

    /// Specs/chat-protocol.md, section 4.3 "Keepalive": the client uses the same interval as the relay.
    /// Specs/chat-protocol.md, section 5: a TCP client sends HEARTBEAT at least every keepalive interval.
    @Test func heartbeatsFollowAThirdOfTheAnnouncedPeerTimeout() throws {
        var client = ScriptedClient()
        client.startAndConnect()
        client.welcome(peerTimeout: .seconds(2))
        _ = client.takeSent()
        #expect(client.core.currentHeartbeatInterval == .seconds(2) / 3)
        var heartbeatTimes: [Timestamp] = []
        for _ in 0..<6 {
            client.advance(by: .milliseconds(334))
            if client.takeSent().contains(where: \.isHeartbeat) { heartbeatTimes.append(client.now) }
            client.relay(.heartbeatEcho(timestamp: 0))
        }
        #expect(heartbeatTimes.count == 3)
        for (earlier, later) in zip(heartbeatTimes, heartbeatTimes.dropFirst()) {
            // Sampled every 334 ms: a heartbeat every 667 ms shows as one every second sample.
            #expect(later - earlier <= .milliseconds(668))
        }
    }

    @Test func aReconnectRacingASilenceTimeoutStartsOneAttemptOnly() throws {
        var client = ScriptedClient()
        client.startAndConnect()
        client.welcome(peerTimeout: .seconds(30))
        _ = client.takeChanges()
        client.advance(by: .seconds(7))
        // The stream's end is reported after the silence limit already gave the link up.
        client.streamEnds()
        #expect(client.takeChanges() == [.lost(reason: "nothing heard from the relay for 7.0 seconds")])
        client.advance(by: .seconds(1))
        #expect(client.opened == 2)
        #expect(client.takeChanges() == [.reconnecting(attempt: 1)])
    }

    @Test func aBacklogPushedBackTwiceKeepsItsOrder() throws {
        var client = ScriptedClient { $0.streamOutputLimit = 40 }
        client.startAndConnect()
        client.welcome()
        _ = client.takeSent()
        client.core.handleStreamOutput(pendingBytes: 30, at: client.now)
        for text in ["a", "b", "c", "d"] { _ = try client.core.say(text, in: "#lobby", at: client.now) }
        client.drain()
        #expect(client.takeSaid().isEmpty)
        client.core.handleStreamOutput(pendingBytes: 15, at: client.now)
        client.drain()
        #expect(client.takeSaid() == [1])
        client.core.handleStreamOutput(pendingBytes: 20, at: client.now)
        client.drain()
        #expect(client.takeSaid().isEmpty)
        client.core.handleStreamOutput(pendingBytes: 0, at: client.now)
        client.drain()
        #expect(client.takeSaid() == [2])
        client.core.handleStreamOutput(pendingBytes: 0, at: client.now)
        client.drain()
        #expect(client.takeSaid() == [3])
        client.core.handleStreamOutput(pendingBytes: 0, at: client.now)
        client.drain()
        #expect(client.takeSaid() == [4])
    }

    @Test func resentMessagesFromOthersAreShownOnce() throws {
        var client = ScriptedClient()
        client.startAndConnect()
        client.welcome()
        client.events = []
        let bob = SenderID(rawValue: 7)
        for id: UInt64 in [1, 2, 1, 2, 3] {
            client.relay(.message(room: "#lobby", from: "bob", sender: bob, messageID: id, flags: [], text: "m\(id)"))
        }
        let shown = client.events.compactMap { if case .received(.message(_, _, _, let id, _, _)) = $0 { id } else { nil } }
        #expect(shown == [1, 2, 3])
        #expect(client.core.statistics.duplicatesSuppressed == 2)
    }

    @Test func aNameTakenOnRejoinIsReportedAndANewNickIsAskedFor() throws {
        var client = ScriptedClient()
        client.startAndConnect()
        client.welcome()
        client.streamEnds()
        client.advance(by: .seconds(1))
        client.connect()
        _ = client.takeSent()
        _ = client.takeChanges()
        client.relay(.error(code: .nameTaken, messageID: 0, text: "alice is taken"))
        #expect(client.takeChanges() == [.refused(reason: "alice is taken")])
        client.core.send(.nick("alice2"), at: client.now)
        client.drain()
        let hello = client.takeSent()
        #expect(hello.count == 1 && hello[0].isHello)
        client.welcome()
        #expect(client.core.name == "alice2")
        #expect(client.takeChanges() == [.joined(name: "alice2", isReconnection: true, resent: 0)])
    }

    /// A name held by another identity key (section 4.10) is a refusal like a taken name: reported
    /// once, not retried (it was retried every few seconds, and a line-mode client never ended).
    @Test func aNameHeldByAnotherKeyIsARefusalNotRetried() throws {
        var client = ScriptedClient()
        client.startAndConnect()
        _ = client.takeSent()
        _ = client.takeChanges()
        client.relay(.error(code: .nameKeyMismatch, messageID: 0, text: "held by another identity key"))
        #expect(client.takeChanges() == [.refused(reason: "held by another identity key")])
        client.advance(by: .seconds(30))
        #expect(client.takeSent().filter(\.isHello).isEmpty)
    }

    @Test func reconnectionDelaysDoubleUpToTheLimitAndJitterOnlyShortensThem() {
        var configuration = ChatClientConfiguration(name: "a", transport: .udp, sessionSecret: SessionSecret(rawValue: 1))
        configuration.reconnectDelay = .milliseconds(250)
        configuration.reconnectDelayLimit = .seconds(1)
        configuration.reconnectJitter = 0.25
        var random = SplitMix64(seed: 9)
        for attempt in 0..<40 {
            let full: Duration = min(.milliseconds(250 << min(attempt, 3)), .seconds(1))
            for _ in 0..<50 {
                let delay = ChatClientCore.reconnectDelay(attempt: attempt, configuration: configuration, random: &random)
                #expect(delay <= full)
                #expect(delay >= full * 0.75)
            }
        }
    }

    @Test func leaveSendsQuitAndFinishesOnceTheStreamIsFlushed() throws {
        var client = ScriptedClient()
        client.startAndConnect()
        client.welcome()
        _ = client.takeSent()
        client.core.leave(reason: "bye", timeout: .seconds(1), at: client.now)
        client.drain()
        #expect(client.takeSent() == [.quit(reason: "bye")])
        #expect(client.left == 0)
        client.core.handleStreamOutput(pendingBytes: 0, at: client.now)
        client.drain()
        #expect(client.left == 1)
        #expect(client.core.isClosed)
    }
}

/// Every deadline the core names is one its timeout handling moves past: a shell that re-arms its
/// timer to `nextDeadline` after each `handleTimeout` never spins.
@Test func nextDeadlineAlwaysMovesForwardAfterHandleTimeout() throws {
    var pair = ClientAndRelay(peerTimeout: .seconds(10))
    pair.client.start(at: pair.now)
    var steps = 0
    let end = pair.now + .seconds(30)
    while let deadline = pair.client.nextDeadline, deadline <= end {
        pair.now = max(pair.now, deadline)
        pair.client.handleTimeout(at: pair.now)
        pair.relay.handleTimeout(at: pair.now)
        pair.exchange()
        if let next = pair.client.nextDeadline { #expect(next > pair.now, "deadline \(next) not after \(pair.now)") }
        steps += 1
        if steps > 10_000 { break }
    }
    #expect(steps < 10_000)
    #expect(pair.client.isJoined)
}

/// The same with no relay at all: handshakes restart, and no deadline is left in the past.
@Test func withNoRelayTheCoreRetriesWithoutSpinning() {
    var client = ChatClientCore(configuration: ChatClientConfiguration(name: "a", transport: .udp, sessionSecret: SessionSecret(rawValue: 1)),
                                random: SplitMix64(seed: 4))
    var now = Timestamp.zero
    client.start(at: now)
    var steps = 0
    while let deadline = client.nextDeadline, deadline <= .milliseconds(30_000), steps < 10_000 {
        now = max(now, deadline)
        client.handleTimeout(at: now)
        while client.pollAction() != nil {}
        if let next = client.nextDeadline { #expect(next > now) }
        steps += 1
    }
    #expect(steps < 10_000)
    #expect(client.status(at: now) == .connecting(heardFromRelay: false))
}
