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
