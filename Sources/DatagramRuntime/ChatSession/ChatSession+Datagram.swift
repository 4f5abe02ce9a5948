import Chat
import Datagram

extension SessionCore {
    /// Opens the UDP socket and the driver once; every connection of the session reuses them.
    mutating func openDatagram(_ session: ChatSession, at now: Timestamp) throws(SystemError) {
        let configuration = session.configuration
        let socket = try UDPSocket(bindingTo: .any(configuration.relay.family, port: 0))
        let connection = Connection(role: .client, id: SystemRandom.connectionID(),
                                    configuration: datagramConfiguration(configuration), now: now)
        let driver = ConnectionDriver(connection: connection, socket: socket, peer: configuration.relay,
                                      clock: session.clock, linkSeed: configuration.linkSeed,
                                      queueLabel: "chat.datagram")
        linkConditions = configuration.linkConditions
        isTracing = configuration.isTracing
        if let conditions = linkConditions {
            driver.setLinkConditions(outgoing: conditions, incoming: conditions)
        }
        self.driver = driver
        isDriverConnectionFresh = true
        driver.start { [weak session] event in session?.handleDatagramEvent(event) }
    }

    /// The Datagram configuration for the next connection, with tracing as currently switched.
    func datagramConfiguration(_ configuration: ChatSessionConfiguration) -> Configuration {
        var datagram = configuration.datagramConfiguration
        datagram.isTracing = isTracing || configuration.isTracing
        return datagram
    }

    /// Starts a handshake (a fresh connection on the same socket, after the first) and queues HELLO,
    /// which a Datagram connection accepts before its handshake finishes.
    ///
    /// A reconnection starts from the previous connection's smoothed RTT (RFC 9002, section 6.2.2:
    /// a resumed connection over the same path may reuse it), kept within 10-333 ms, so its probe
    /// timeouts suit the path instead of the 333 ms guess for an unknown one.
    mutating func connectDatagram(session: ChatSession, at now: Timestamp) {
        guard let driver else { return }
        if isDriverConnectionFresh {
            isDriverConnectionFresh = false
        } else {
            var datagram = datagramConfiguration(session.configuration)
            let previous = driver.connectionStatistics.smoothedRTT
            if previous > .zero {
                rememberedRoundTripTime = min(max(previous, .milliseconds(10)), datagram.initialRTT)
            }
            if let remembered = rememberedRoundTripTime { datagram.initialRTT = remembered }
            let old = driver.reconnect(id: SystemRandom.connectionID(), configuration: datagram)
            requeue(undelivered: old)
        }
        transmitDatagram(ledger.hello(session.configuration), chatID: 0, session: session, at: now)
    }

    /// Puts the old connection's unacknowledged messages (and the recently acknowledged ones, and
    /// the backlog) before what was held.
    private mutating func requeue(undelivered: [[UInt8]]) {
        let messages = undelivered.compactMap { try? ClientMessage(decoding: $0) }
        ledger.requeue(undelivered: messages, backlog: backlog)
        backlog = []
    }

    /// Queues `request` on the Datagram connection.
    mutating func transmitDatagram(_ request: ClientMessage, chatID: UInt64, session: ChatSession, at now: Timestamp) {
        guard let driver else { return }
        do throws(SendError) {
            let id = try driver.send(request.encoded())
            ledger.unacknowledged.append(SentMessage(key: id.rawValue, chatID: chatID, message: request))
        } catch .sendQueueFull {
            backlog.append(request)
        } catch .connectionClosed {
            if !request.isPerConnection { ledger.held.append(request) }
        } catch {
            ledger.events.append(.warning("not sent: \(error)"))
        }
    }

    /// Notes contact from datagram counts, and restarts a handshake nobody answers.
    mutating func datagramHousekeeping(session: ChatSession, at now: Timestamp) {
        guard let driver else { return }
        let seen = driver.statistics.datagramsReceived
        if seen != datagramsSeen {
            datagramsSeen = seen
            ledger.lastContact = now
        }
        guard case .connecting(let since) = ledger.phase else { return }
        let isUnanswered = ledger.lastContact.map { $0 < since } ?? true
        if (isUnanswered && now - since > .milliseconds(1500)) || now - since > .seconds(5) {
            // The relay is probably restarting, or the handshake lost packets and backed off. A
            // fresh handshake starts with a fresh probe timeout instead of waiting out the backoff.
            ledger.phase = .waitingToReconnect(at: now)
        }
    }
}

extension ChatSession {
    /// Handles one event of the Datagram connection (on the driver's queue).
    func handleDatagramEvent(_ event: Datagram.Event) {
        let now = clock.now()
        state.withLock { core in
            switch event {
            case .connected:
                core.ledger.lastContact = now
            case .message(let bytes, _):
                core.handleRelayBytes(bytes, session: self, at: now)
            case .acknowledged(let id):
                core.ledger.acknowledge(key: id.rawValue, at: now)
                core.retryBacklog(session: self, at: now)
            case .closed(.local):
                break
            case .closed(let reason):
                core.linkLost(Self.describe(reason), session: self, at: now)
            case .trace(let fate):
                if core.isTracing { core.ledger.events.append(.trace(PacketTrace.describe(fate))) }
            }
        }
        deliverEvents()
    }

    static func describe(_ reason: CloseReason) -> String {
        switch reason {
        case .local: "closed"
        case .peer(code: 3): "the relay is shutting down"
        case .peer(code: 4): "the relay refused the connection (full)"
        case .peer(let code): "the relay closed the connection (code \(code))"
        case .reset: "the relay does not know this connection (it restarted?)"
        case .idleTimeout: "nothing heard from the relay (idle timeout)"
        case .probeTimeout: "the relay stopped answering (probe timeout)"
        }
    }
}
