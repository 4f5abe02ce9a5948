@testable import Datagram
import Testing

/// Specs/reliability.md, "The bulk channel yields to queues": a file on the bulk channel fills the
/// queue of a slow link only up to the queueing target, so a chat message sent in the middle of it
/// waits behind little file data, and the file still moves at the link's rate.
@Suite("The bulk channel yields to queues")
struct BulkYieldTests {
    /// One run over a scripted bottleneck: client-to-server datagrams leave one per `service` (a link
    /// of 1200 B per 100 µs, 12 MB/s, with an unbounded queue); the other direction is 50 µs with no
    /// queue. The client keeps the bulk channel full of 4 KB messages for `duration`; a chat message
    /// of one byte goes at `chatAt`.
    struct Outcome {
        var chatDelay: Duration?
        var bulkBytesDelivered = 0
        var largestQueue = 0
    }

    static func run(target: Duration?, duration: Duration = .milliseconds(1500),
                    chatAt: Duration = .milliseconds(1200)) throws -> Outcome {
        var configuration = Connection.Configuration()
        configuration.coalescesPackets = true
        configuration.bulkQueueingTarget = target
        var (client, server) = Script.establishedPair(configuration)
        let start = Timestamp.ms(100)
        let service = Duration.microseconds(100)
        let returnDelay = Duration.microseconds(50)
        let step = Duration.microseconds(25)
        var forward: [(arrival: Timestamp, datagram: [UInt8])] = []
        var backward: [(arrival: Timestamp, datagram: [UInt8])] = []
        var linkFreeAt = start
        var outcome = Outcome()
        var chatSentAt: Timestamp?
        var now = start
        while now < start + duration {
            // Keep the bulk queue full (it pushes back when 256 KB wait) and send the chat message once.
            while (try? client.send([UInt8](repeating: 0xB1, count: 4096), on: .bulk, at: now)) != nil {}
            if chatSentAt == nil, now >= start + chatAt {
                try client.send([0xC4], on: .reliableOrdered, at: now)
                chatSentAt = now
            }
            if client.nextDeadline.map({ $0 <= now }) ?? false { client.handleTimeout(at: now) }
            if server.nextDeadline.map({ $0 <= now }) ?? false { server.handleTimeout(at: now) }
            for datagram in Script.transmitAll(&client, at: now) {
                linkFreeAt = max(linkFreeAt, now) + service
                forward.append((linkFreeAt, datagram))
            }
            outcome.largestQueue = max(outcome.largestQueue, forward.count)
            while let first = forward.first, first.arrival <= now {
                forward.removeFirst()
                server.handleDatagram(first.datagram, at: now)
            }
            for event in Script.events(&server) {
                guard case let .message(bytes, channel) = event else { continue }
                if channel == .bulk { outcome.bulkBytesDelivered += bytes.count }
                if channel == .reliableOrdered, bytes == [0xC4], let sent = chatSentAt { outcome.chatDelay = now - sent }
            }
            for datagram in Script.transmitAll(&server, at: now) { backward.append((now + returnDelay, datagram)) }
            while let first = backward.first, first.arrival <= now {
                backward.removeFirst()
                client.handleDatagram(first.datagram, at: now)
            }
            Script.drainEvents(&client)
            now = now + step
        }
        return outcome
    }

    /// Specs/reliability.md, "The bulk channel yields to queues": with the target a chat message
    /// waits behind little file data, and the file keeps the link busy.
    @Test func aChatMessageWaitsBehindLittleFileDataAndTheFileKeepsTheLinksRate() throws {
        let yielding = try Self.run(target: .microseconds(200))
        let greedy = try Self.run(target: nil)
        let yieldingDelay = try #require(yielding.chatDelay)
        let greedyDelay = try #require(greedy.chatDelay)
        // Without the target the window fills the link's queue (tens of milliseconds of file data);
        // with it the chat message waits about the target plus the link's own time.
        #expect(greedyDelay > .milliseconds(10), "greedy: \(greedyDelay)")
        #expect(yieldingDelay < .milliseconds(2), "yielding: \(yieldingDelay)")
        #expect(yielding.largestQueue < greedy.largestQueue)
        // The link carries 12 MB/s; yielding must not leave it idle: at least 90 % of the greedy bytes.
        #expect(yielding.bulkBytesDelivered * 10 >= greedy.bulkBytesDelivered * 9,
                "yielding \(yielding.bulkBytesDelivered) B, greedy \(greedy.bulkBytesDelivered) B")
    }

    /// Specs/reliability.md, "The bulk channel yields to queues": the base delay is the smallest
    /// sample of the last 10 to 20 s.
    @Test func theBaseDelayForgetsAShorterPathAfterTwoSpans() {
        var minimum = RecentMinimum()
        minimum.add(.milliseconds(1), at: .ms(0))
        minimum.add(.milliseconds(40), at: .ms(5_000))
        #expect(minimum.value == .milliseconds(1))
        // A move to a 40 ms path: the 1 ms sample is forgotten once two spans have passed.
        minimum.add(.milliseconds(40), at: .ms(10_000))
        #expect(minimum.value == .milliseconds(1))
        minimum.add(.milliseconds(41), at: .ms(20_000))
        #expect(minimum.value == .milliseconds(40))
    }
}
