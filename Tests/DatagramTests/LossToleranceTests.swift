@testable import Datagram
import Testing

/// Specs/reliability.md, "Loss without a queue": a loss counts as congestion only when the path
/// shows a standing queue above `congestionQueueThreshold`, or when more than an eighth of recent
/// packets were lost. Random loss on a fast path then leaves the window alone, while a full buffer
/// and a policer are still heard.
@Suite("Loss without a queue")
struct LossToleranceTests {
    /// The client-to-server link of one scripted run: datagrams leave one per `service` through a
    /// buffer of `buffer` datagrams (nil: unbounded; a datagram that finds it full is dropped), or,
    /// as a policer, pass at once while the rate allows and are dropped when it does not. Then
    /// `propagation` on the wire, and each is lost at random with probability `loss`. The other
    /// direction has the same propagation and random loss, and no queue.
    struct Link {
        enum Kind { case queue(buffer: Int?), policer(burst: Int) }
        var kind: Kind
        var service: Duration
        var propagation: Duration = .microseconds(100)
        var loss: Double = 0
    }

    struct Outcome {
        var deliveredBytes = 0
        var statistics: Connection.Statistics
        var largestQueue = 0
        var lossFraction: Double { Double(statistics.packetsLost) / Double(max(1, statistics.packetsSent)) }
    }

    /// A small deterministic generator (xorshift64*): the run is a pure function of its arguments.
    struct Generator {
        var state: UInt64
        mutating func nextUnit() -> Double {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return Double((state &* 0x2545_F491_4F6C_DD1D) >> 11) / Double(1 << 53)
        }
    }

    /// The client keeps 1000-byte reliable messages queued for `duration` (its send queue pushes
    /// back); returns what reached the server.
    static func run(_ link: Link, threshold: Duration?, duration: Duration = .milliseconds(500), seed: UInt64 = 7) throws -> Outcome {
        var configuration = Connection.Configuration()
        configuration.coalescesPackets = true
        configuration.congestionQueueThreshold = threshold
        var (client, server) = Script.establishedPair(configuration)
        var random = Generator(state: seed | 1)
        let start = Timestamp.ms(100)
        let step = Duration.microseconds(10)
        var forward: [(leaves: Timestamp, datagram: [UInt8])] = []
        var backward: [(arrival: Timestamp, datagram: [UInt8])] = []
        var linkFreeAt = start
        var deliveredBytes = 0
        var largestQueue = 0
        var now = start
        while now < start + duration {
            while (try? client.send([UInt8](repeating: 0x5A, count: 1000), at: now)) != nil {}
            if client.nextDeadline.map({ $0 <= now }) ?? false { client.handleTimeout(at: now) }
            if server.nextDeadline.map({ $0 <= now }) ?? false { server.handleTimeout(at: now) }
            for datagram in Script.transmitAll(&client, at: now) {
                switch link.kind {
                case .queue(let buffer):
                    let waiting = forward.count { $0.leaves > now }
                    if let buffer, waiting >= buffer { continue }
                    linkFreeAt = max(linkFreeAt, now) + link.service
                    forward.append((linkFreeAt, datagram))
                case .policer(let burst):
                    // Tokens as a virtual finish time: a datagram passes while the link's virtual
                    // schedule runs at most `burst` datagrams ahead of now, and waits nowhere.
                    let finish = max(linkFreeAt, now) + link.service
                    if finish - now > link.service * burst { continue }
                    linkFreeAt = finish
                    forward.append((now, datagram))
                }
                largestQueue = max(largestQueue, forward.count { $0.leaves > now })
            }
            while let first = forward.first, first.leaves + link.propagation <= now {
                forward.removeFirst()
                if random.nextUnit() < link.loss { continue }
                server.handleDatagram(first.datagram, at: now)
            }
            for event in Script.events(&server) {
                if case let .message(bytes, _) = event { deliveredBytes += bytes.count }
            }
            for datagram in Script.transmitAll(&server, at: now) where random.nextUnit() >= link.loss {
                backward.append((now + link.propagation, datagram))
            }
            while let first = backward.first, first.arrival <= now {
                backward.removeFirst()
                client.handleDatagram(first.datagram, at: now)
            }
            Script.drainEvents(&client)
            now = now + step
        }
        return Outcome(deliveredBytes: deliveredBytes, statistics: client.statistics, largestQueue: largestQueue)
    }

    /// Specs/reliability.md, "Loss without a queue": random loss on a path without a standing queue
    /// leaves the window alone.
    @Test func randomLossOnAFastPathLeavesTheWindowAlone() throws {
        // 120 MB/s, 200 µs round trip, 5 % random loss each way and no buffer limit.
        let link = Link(kind: .queue(buffer: nil), service: .microseconds(10), loss: 0.05)
        let tolerant = try Self.run(link, threshold: .milliseconds(1))
        let strict = try Self.run(link, threshold: nil)
        #expect(tolerant.statistics.lossesTakenAsNoise > 0)
        #expect(strict.statistics.lossesTakenAsNoise == 0)
        // NewReno halves for every loss event: a few packets per round trip. Taking the loss as noise
        // moves several times as much over the same path.
        #expect(tolerant.deliveredBytes >= 3 * strict.deliveredBytes,
                "tolerant \(tolerant.deliveredBytes) B, strict \(strict.deliveredBytes) B")
        // Without the halving the window still stops growing once a standing queue of about the
        // threshold builds: the path holds 24 KB (200 µs at 120 MB/s) and 1 ms of queue 120 KB more,
        // far from what the unbounded buffer would take.
        #expect(tolerant.statistics.congestionWindow < 200_000, "window \(tolerant.statistics.congestionWindow) B")
    }

    /// Specs/reliability.md, "Loss without a queue": a buffer that overflows halves the window as
    /// NewReno does.
    @Test func aFullBufferIsStillCongestion() throws {
        // 12 MB/s through a drop-tail buffer of 40 datagrams (4 ms), no random loss: every loss is
        // the buffer overflowing, and the sender must back off as NewReno does.
        let link = Link(kind: .queue(buffer: 40), service: .microseconds(100))
        let tolerant = try Self.run(link, threshold: .milliseconds(1))
        let strict = try Self.run(link, threshold: nil)
        #expect(tolerant.statistics.packetsLost > 0)
        #expect(tolerant.lossFraction <= max(0.02, 2 * strict.lossFraction),
                "tolerant \(tolerant.lossFraction), strict \(strict.lossFraction)")
        // The link stays busy all the same.
        #expect(tolerant.deliveredBytes * 10 >= strict.deliveredBytes * 9)
    }

    /// Specs/reliability.md, "Loss without a queue": more than an eighth of recent packets lost counts
    /// as congestion without any queue.
    @Test func aPolicerIsHeardThroughTheLossRate() throws {
        // 12 MB/s enforced by dropping, with a burst allowance of 4 datagrams and no queue: the delay
        // never rises, so only the share of packets lost (more than an eighth) tells the sender it
        // is too fast.
        let link = Link(kind: .policer(burst: 4), service: .microseconds(100))
        let tolerant = try Self.run(link, threshold: .milliseconds(1))
        #expect(tolerant.statistics.packetsLost > 0)
        let strict = try Self.run(link, threshold: nil)
        // Unpaced windows meet a small burst allowance badly either way (about 15 % lost here with
        // NewReno alone); taking loss as noise must not make it worse than that by much.
        #expect(tolerant.lossFraction <= strict.lossFraction + 0.03,
                "tolerant \(tolerant.lossFraction), strict \(strict.lossFraction)")
        #expect(tolerant.lossFraction < 0.2, "lost \(tolerant.statistics.packetsLost) of \(tolerant.statistics.packetsSent)")
    }

    /// Specs/reliability.md, "Loss without a queue": the standing queue is the smallest queueing delay
    /// of the current span and the one before.
    @Test func theStandingQueueForgetsABurstAfterTwoSpans() {
        var minimum = RecentMinimum()
        minimum.add(.microseconds(50), at: .ms(0), span: .milliseconds(1))
        minimum.add(.milliseconds(3), at: .ms(0.5), span: .milliseconds(1))
        #expect(minimum.value == .microseconds(50))
        minimum.add(.milliseconds(3), at: .ms(1.0), span: .milliseconds(1))
        minimum.add(.milliseconds(3), at: .ms(2.0), span: .milliseconds(1))
        #expect(minimum.value == .milliseconds(3))
    }
}
