import Datagram
import LinkSimulator
import Testing

/// One row of the sweep: link conditions for both directions, and what a run under them must achieve.
struct Scenario: Sendable, CustomTestStringConvertible {
    enum Kind: Sendable {
        /// Both sides exchange messages until everything is delivered and acknowledged.
        case exchange
        /// Both directions go dark for good at `silenceStart`; both sides must give up and hand back
        /// what was never acknowledged.
        case silentPeer
        /// The client closes with code 7 at `closeTime`; the server must report it (or time out, if the one
        /// CLOSE is lost) and the client must hand back what was never acknowledged.
        case clientCloses
        /// The server loses its state at `closeTime`; the client must close with `.reset` and hand back
        /// what was never acknowledged.
        case serverCrashes
    }

    var name: String
    var kind: Kind = .exchange
    var clientToServer: LinkConditions
    var serverToClient: LinkConditions
    /// The fraction of runs in which a connection may give up (probe or idle timeout). Any lossy link
    /// loses eight probes in a row now and then, which by design ends the connection; a run that gives up
    /// is checked for losing nothing silently instead of for delivering everything, and the scenario
    /// fails if more runs give up than this.
    var giveUpBudget: Double = 0
    /// Both sides' configuration.
    var configuration = Connection.Configuration()
    /// The server's configuration, when it differs from the client's.
    var serverConfiguration: Connection.Configuration?
    /// The first packet number of both sides (near `UInt32.max` to cross the wrap).
    var firstPacketNumber: UInt32 = 0
    /// Every run must be over by this virtual time. At 50 % loss both ways a 64 KiB message after a handshake
    /// that backed off for 25 s takes minutes: the bound is generous there and tight elsewhere.
    var timeLimit: Duration = .seconds(120)

    var testDescription: String { name }

    static let silenceStart = Timestamp.milliseconds(1_500)
    static let closeTime = Timestamp.milliseconds(1_000)
    static let forever = Timestamp(sinceOrigin: .seconds(1_000_000))

    /// The same conditions both ways, on top of a 20 ms one-way delay.
    init(_ name: String, both conditions: LinkConditions, giveUpBudget: Double = 0) {
        var conditions = conditions
        conditions.delay = .milliseconds(20)
        self.name = name
        self.clientToServer = conditions
        self.serverToClient = conditions
        self.giveUpBudget = giveUpBudget
        // Workloads are planned within 2 s: a link that loses nothing leaves no excuse for taking longer than 5 s.
        let isLossless = conditions.loss == 0 && conditions.burst == nil && conditions.blackholes.isEmpty
            && conditions.corruption == 0
        self.timeLimit = giveUpBudget >= 1 ? .seconds(900) : isLossless ? .seconds(5) : .seconds(120)
    }

    init(_ name: String, clientToServer: LinkConditions, serverToClient: LinkConditions, giveUpBudget: Double) {
        self.name = name
        self.giveUpBudget = giveUpBudget
        self.clientToServer = clientToServer
        self.serverToClient = serverToClient
    }

    /// Bad spells that let one datagram in five through: with the chain moving per datagram, a bad spell that
    /// lost everything would outlast a backed-off sender's probes and look like a dead link.
    static let lightBursts = BurstLoss(goodToBad: 0.02, badToGood: 0.3, lossInBad: 0.8)  // 5.1 % on average
    static let heavyBursts = BurstLoss(goodToBad: 0.05, badToGood: 0.2)

    static let all: [Scenario] = [
        Scenario("clean", both: LinkConditions()),
        Scenario("loss 1%", both: LinkConditions(loss: 0.01), giveUpBudget: 0.01),
        Scenario("loss 5%", both: LinkConditions(loss: 0.05), giveUpBudget: 0.01),
        Scenario("loss 10%", both: LinkConditions(loss: 0.10), giveUpBudget: 0.02),
        Scenario("loss 20%", both: LinkConditions(loss: 0.20), giveUpBudget: 0.05),
        Scenario("loss 30%", both: LinkConditions(loss: 0.30), giveUpBudget: 1),
        Scenario("loss 50%", both: LinkConditions(loss: 0.50), giveUpBudget: 1),
        Scenario("loss 50% one way", clientToServer: LinkConditions(loss: 0.5, delay: .milliseconds(20)),
                 serverToClient: LinkConditions(delay: .milliseconds(20)), giveUpBudget: 0.1),
        Scenario("bursts 5%", both: LinkConditions(burst: lightBursts), giveUpBudget: 0.02),
        Scenario("bursts 20%", both: LinkConditions(burst: heavyBursts), giveUpBudget: 1),
        Scenario("duplication 20%", both: LinkConditions(duplication: 0.2)),
        Scenario("jitter 50ms", both: LinkConditions(loss: 0.05, jitter: .milliseconds(50)), giveUpBudget: 0.01),
        Scenario("corruption 10%", both: LinkConditions(loss: 0.02, corruption: 0.10), giveUpBudget: 0.02),
        Scenario("blackhole 3s", both: LinkConditions(blackholes: [Timestamp.milliseconds(1_000)..<Timestamp.milliseconds(4_000)])),
        Scenario("everything", both: LinkConditions(loss: 0.05, burst: lightBursts, jitter: .milliseconds(30),
                                                   duplication: 0.05, corruption: 0.05,
                                                   blackholes: [Timestamp.milliseconds(800)..<Timestamp.milliseconds(1_300)]),
                 giveUpBudget: 0.05),
        wraparound,
        configured("small send queue", loss: 0.05) { $0.sendQueueLimit = 8_000 },
        configured("reorder buffer 8", loss: 0.1, jitter: .milliseconds(40)) { $0.reorderBufferLimit = 8 },
        configured("no congestion control", loss: 0.1) { $0.congestionControl = .disabled },
        receiverBufferSmallerThanSenderWindow,
        silentPeer,
        clientCloses,
        serverCrashes,
    ]

    static var wraparound: Scenario {
        var scenario = Scenario("wraparound 10%", both: LinkConditions(loss: 0.1, jitter: .milliseconds(10)),
                                giveUpBudget: 0.02)
        scenario.firstPacketNumber = UInt32.max - 10
        return scenario
    }

    static func configured(_ name: String, loss: Double, jitter: Duration = .zero,
                           _ configure: (inout Connection.Configuration) -> Void) -> Scenario {
        var scenario = Scenario(name, both: LinkConditions(loss: loss, jitter: jitter), giveUpBudget: 0.02)
        configure(&scenario.configuration)
        return scenario
    }

    /// The client may send 2,048 fragments ahead while the server holds 2: the server drops what does not
    /// fit and retransmission recovers it.
    static var receiverBufferSmallerThanSenderWindow: Scenario {
        var scenario = Scenario("receiver buffer 2", both: LinkConditions(loss: 0.05, jitter: .milliseconds(20)),
                                giveUpBudget: 0.02)
        var server = Connection.Configuration()
        server.reorderBufferLimit = 2
        scenario.serverConfiguration = server
        return scenario
    }

    static var clientCloses: Scenario {
        var scenario = Scenario("client closes", both: LinkConditions(loss: 0.1))
        scenario.kind = .clientCloses
        scenario.timeLimit = .seconds(60)
        return scenario
    }

    static var serverCrashes: Scenario {
        var scenario = Scenario("server crashes", both: LinkConditions(loss: 0.1))
        scenario.kind = .serverCrashes
        scenario.timeLimit = .seconds(60)
        return scenario
    }

    static var silentPeer: Scenario {
        var scenario = Scenario("silent peer", both: LinkConditions(loss: 0.05, blackholes: [silenceStart..<forever]))
        scenario.kind = .silentPeer
        scenario.timeLimit = .seconds(60)
        return scenario
    }
}
