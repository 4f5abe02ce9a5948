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
    mutating func connectDatagram(session: ChatSession, at now: Timestamp) {
        guard let driver else { return }
        if isDriverConnectionFresh {
            isDriverConnectionFresh = false
        } else {
            var configuration = session.configuration
            configuration.isTracing = isTracing
            let old = driver.reconnect(id: SystemRandom.connectionID(), configuration: datagramConfiguration(configuration))
            requeue(undelivered: old)
        }
        transmitDatagram(ledger.hello(session.configuration), chatID: 0, session: session, at: now)
    }

    /// Puts the old connection's unacknowledged messages (and the backlog) before what was held.
    private mutating func requeue(undelivered: [[UInt8]]) {
        let resend = undelivered.compactMap { try? ClientMessage(decoding: $0) }.filter { !$0.isPerConnection }
        ledger.unacknowledged = []
        ledger.held = resend + backlog + ledger.held
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
        if case .connecting(let since) = ledger.phase, now - since > .seconds(3),
           ledger.lastContact.map({ $0 < since }) ?? true {
            // Nothing at all came back: the relay is probably restarting. A fresh handshake starts
            // with a fresh probe timeout instead of waiting out an exponential backoff.
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
                core.ledger.acknowledge { $0.key == id.rawValue }
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
