import Datagram
import LinkSimulator
import Testing

private func options(seed: UInt64 = 1, delay: Duration = .milliseconds(20)) -> SimulatedPair.Options {
    var options = SimulatedPair.Options(seed: seed)
    options.clientToServer = LinkConditions(delay: delay)
    options.serverToClient = LinkConditions(delay: delay)
    return options
}

private let far = Timestamp.milliseconds(60_000)

@Suite("SimulatedPair")
struct SimulatedPairTests {
    /// Specs/reliability.md, "Handshake with a cookie": A stateless COOKIE no larger than the HELLO; the HELLO
    /// retried on its PTO; the WELCOME repeated by the probe rule; the COOKIE never recorded; a RESET closes with
    /// `reset` and hands back what was not acknowledged.
    /// Specs/wire-format.md, section 6: The handshake: HELLO, COOKIE (no state kept), HELLO with the cookie, WELCOME.
    @Test func handshakeGoesThroughTheCookieJar() {
        var pair = SimulatedPair(options: options())
        pair.run(until: far) { $0.record(of: .client).connectedAt != nil }
        // HELLO reaches the jar at 20 ms, its COOKIE the client at 40, HELLO with cookie the server at 60,
        // WELCOME the client at 80.
        #expect(pair.cookieJarReplies == 1)
        #expect(pair.record(of: .server).connectedAt == .milliseconds(60))
        #expect(pair.record(of: .client).connectedAt == .milliseconds(80))
        #expect(pair.state(of: .client) == .established)
        #expect(pair.state(of: .server) == .established)
    }

    /// Specs/wire-format.md, section 5: Reliable channel: once, intact, in order; fragments of the next message
    /// always accepted; a fragment that cannot be buffered MUST be dropped before it is recorded.
    @Test func messagesBothWays() {
        var pair = SimulatedPair(options: options())
        pair.send(Array("hello".utf8), from: .client)
        pair.send(Array("welcome".utf8), from: .server, at: .milliseconds(200))
        pair.send([UInt8](repeating: 7, count: Limits.maximumMessageSize), from: .client, at: .milliseconds(300))
        pair.run(until: far) { $0.isSettled && $0.record(of: .client).received.count == 1 }
        #expect(pair.record(of: .server).received.map(\.bytes) == [Array("hello".utf8),
                                                                  [UInt8](repeating: 7, count: Limits.maximumMessageSize)])
        #expect(pair.record(of: .client).received.map(\.bytes) == [Array("welcome".utf8)])
        #expect(pair.record(of: .client).acknowledged.count == 2)
    }

    @Test func sameSeedSameRun() {
        func play() -> SimulatedPair {
            var options = options(seed: 77)
            let lossy = LinkConditions(loss: 0.2, delay: .milliseconds(20), jitter: .milliseconds(20), duplication: 0.1)
            options.clientToServer = lossy
            options.serverToClient = lossy
            var pair = SimulatedPair(options: options)
            for index in 0..<20 { pair.send([UInt8](repeating: UInt8(index), count: 100 * index), from: .client) }
            pair.run(until: far) { $0.isSettled && $0.record(of: .server).received.count == 20 }
            return pair
        }
        let first = play(), second = play()
        #expect(first.now == second.now)
        #expect(first.record(of: .server).received == second.record(of: .server).received)
        #expect(first.clientToServer.statistics == second.clientToServer.statistics)
        #expect(first.serverToClient.statistics == second.serverToClient.statistics)
        #expect(first.statistics(of: .client) == second.statistics(of: .client))
    }

    /// Specs/reliability.md, "Receive memory": Send-side memory bounded by `sendQueueLimit` (push-back, nothing
    /// lost).
    @Test func aFullSendQueuePushesBackAndLosesNothing() {
        var options = options()
        options.clientConfiguration.sendQueueLimit = 10_000
        var pair = SimulatedPair(options: options)
        let messages = (0..<30).map { [UInt8](repeating: UInt8($0), count: 4_000) }
        for message in messages { pair.send(message, from: .client) }
        pair.run(until: far) { $0.record(of: .server).received.count == 30 && $0.isSettled }
        let record = pair.record(of: .client)
        #expect(record.pushbacks > 0)
        #expect(record.peakQueuedBytes <= 10_000)
        #expect(record.capViolations.isEmpty)
        #expect(pair.record(of: .server).received.map(\.bytes) == messages)
    }

    /// Specs/wire-format.md, section 6: A non-HELLO for unknown state gets a stateless 32-byte RESET; a RESET is
    /// never answered; the client closes with `reset` and its application sends again what was not acknowledged.
    @Test func aServerThatForgotTheConnectionAnswersWithReset() {
        var pair = SimulatedPair(options: options())
        pair.run(until: far) { $0.record(of: .client).connectedAt != nil }
        // The server's CLOSE is lost; afterwards its datagrams reach the stateless front door again.
        pair.setConditions(LinkConditions(delay: .milliseconds(20), blackholes: [.zero..<far]), from: .server)
        pair.close(.server)
        pair.run(until: pair.now + .milliseconds(100))
        pair.setConditions(LinkConditions(delay: .milliseconds(20)), from: .server)
        pair.send(Array("anyone there?".utf8), from: .client)
        pair.run(until: far) { $0.record(of: .client).closed != nil }
        #expect(pair.record(of: .client).closed?.reason == .reset)
        #expect(pair.takeUnacknowledgedMessages(of: .client) == [Array("anyone there?".utf8)])
    }
}

@Suite("SimulatedPair silence")
struct SilenceTests {
    /// Finding of 03:30 (see /work/notes/sim-findings.md): a client that never hears back should give up
    /// within its idle timeout, as it does once established, not after eight backed-off HELLOs (55 s).
    /// Specs/reliability.md, "Handshake with a cookie": A stateless COOKIE no larger than the HELLO; the HELLO
    /// retried on its PTO; the WELCOME repeated by the probe rule; the COOKIE never recorded; a RESET closes with
    /// `reset` and hands back what was not acknowledged.
    @Test func aClientWhoseHandshakeGoesUnansweredGivesUpWithinTheIdleTimeout() {
        var options = options()
        let dark = LinkConditions(delay: .milliseconds(20), blackholes: [.zero..<far])
        options.clientToServer = dark
        options.serverToClient = dark
        var pair = SimulatedPair(options: options)
        pair.send(Array("hello?".utf8), from: .client)
        pair.run(until: far) { $0.record(of: .client).closed != nil }
        let configuration = Connection.Configuration()
        let closed = pair.record(of: .client).closed
        #expect(closed?.reason == .idleTimeout || closed?.reason == .probeTimeout)
        #expect(closed.map { $0.time <= .zero + configuration.idleTimeout + configuration.maximumProbeTimeout } == true,
                "closed at \(closed.map { "\($0.time)" } ?? "never")")
        #expect(pair.takeUnacknowledgedMessages(of: .client) == [Array("hello?".utf8)])
    }

    /// Specs/reliability.md, "Staying alive and noticing death": Every way a connection ends is one `Event.closed`;
    /// no reliable message is lost without the application being able to take it back.
    @Test func anEstablishedPairWhoseLinksGoDarkBothTimeOutAndReturnTheirMessages() {
        var options = options()
        let dark = LinkConditions(delay: .milliseconds(20), blackholes: [.milliseconds(500)..<far])
        options.clientToServer = dark
        options.serverToClient = dark
        var pair = SimulatedPair(options: options)
        pair.send(Array("before".utf8), from: .client)
        pair.send(Array("after".utf8), from: .client, at: .milliseconds(600))
        pair.send(Array("reply".utf8), from: .server, at: .milliseconds(700))
        pair.run(until: far) { $0.isEveryoneClosed }
        let bound = Timestamp.milliseconds(500) + Connection.Configuration().idleTimeout + Connection.Configuration().maximumProbeTimeout
        for side in Side.allCases {
            let closed = pair.record(of: side).closed
            #expect(closed?.reason == .idleTimeout || closed?.reason == .probeTimeout, "\(side)")
            #expect(closed.map { $0.time <= bound } == true, "\(side) closed at \(closed.map { "\($0.time)" } ?? "never")")
        }
        #expect(pair.record(of: .server).received.map(\.bytes) == [Array("before".utf8)])
        #expect(pair.takeUnacknowledgedMessages(of: .client) == [Array("after".utf8)])
        #expect(pair.takeUnacknowledgedMessages(of: .server) == [Array("reply".utf8)])
    }
}
