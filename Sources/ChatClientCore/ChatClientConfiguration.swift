import Chat
import Datagram

/// Everything the client core needs to know, and every timing rule of a chat session as a named
/// field (like every Datagram timer in `Connection.Configuration`). Nothing here knows an address or a socket.
public struct ChatClientConfiguration: Sendable {
    /// The name asked for in HELLO.
    public var name: String
    /// UDP (a Datagram connection) or TCP (length-prefixed frames).
    public var transport: TransportKind
    /// The rooms to join first; empty means the relay's default room.
    public var rooms: [String] = []
    /// This run's session secret, kept across reconnections and sent to the relay only (Specs/chat-protocol.md, section 4.6).
    public var sessionSecret: SessionSecret
    /// HELLO's software field.
    public var software = "chat 1.0"
    /// Report every packet's fate as `.trace` events from the start (UDP only).
    public var isTracing = false
    /// The Datagram connection's parameters (UDP only); coalescing is on (wire format, section 11).
    public var datagramConfiguration = Connection.Configuration.coalescing
    /// This user's identity for end-to-end private messages (Specs/chat-protocol.md section 4.10);
    /// nil for a plaintext session, whose private messages the relay can read.
    public var identity: ClientIdentity?

    // MARK: Timing

    /// HEARTBEAT interval before WELCOME announces the relay's peer timeout (TCP; UDP relies on
    /// Datagram keepalives until then). After WELCOME: a third of the announced timeout, never more
    /// than this.
    public var heartbeatInterval: Duration = .seconds(2)
    /// A TCP connection silent this long is given up and replaced.
    public var streamSilenceLimit: Duration = .seconds(7)
    /// A TCP connect that has not completed after this long is given up.
    public var streamConnectLimit: Duration = .seconds(5)
    /// A UDP handshake nothing at all answered is restarted after this long (the relay may be
    /// restarting; a fresh handshake starts with a fresh probe timeout instead of a backed-off one).
    public var handshakeUnansweredLimit: Duration = .milliseconds(1500)
    /// A UDP handshake or join that has not completed after this long is restarted.
    public var handshakeLimit: Duration = .seconds(5)
    /// The first reconnection waits this long; each failed attempt doubles it, up to the limit.
    public var reconnectDelay: Duration = .milliseconds(250)
    /// The longest wait between reconnection attempts.
    public var reconnectDelayLimit: Duration = .seconds(1)
    /// Each wait is shortened by a random part of up to this fraction, so that clients who lost the
    /// same relay do not all come back at the same instant.
    public var reconnectJitter: Double = 0.25
    /// After a reconnection, messages wait this long before they are sent again, so that the others
    /// who lost the same relay have time to rejoin and receive them.
    public var rejoinGrace: Duration = .milliseconds(2500)
    /// After NOTICE serverShutdown, the link is given up this long later if the relay has not closed
    /// it (its CLOSE may be lost), so that reconnecting starts without waiting for a timeout.
    public var shutdownNoticeGrace: Duration = .milliseconds(2500)
    /// Acknowledged SAY/PRIVATE messages are kept this long, to be sent again after a relay restart.
    public var resendRetention: Duration = .seconds(20)
    /// Send a RECEIPT for every PRIVATE_MESSAGE shown (`/receipts on|off`).
    public var sendsReceipts = true
    /// At most this many acknowledged messages are kept for resending.
    public var resendRetentionLimit = 1024
    /// At most this many requests wait (held, backlogged or unacknowledged) before `say` pushes back.
    public var waitingLimit = 4096
    /// Before the first WELCOME, the status stays quiet this long.
    public var statusConnectingAfter: Duration = .seconds(1)
    /// After this long without contact, the status reports the silence.
    public var statusQuietAfter: Duration = .seconds(4)
    /// A reconnection starts from the previous connection's smoothed RTT, but never below this.
    public var minimumRememberedRTT: Duration = .milliseconds(10)
    /// How long `leave` waits for QUIT to be delivered when the caller names no timeout.
    public var leaveTimeout: Duration = .seconds(1)
    /// The TCP output buffer the shell keeps (`TCPStream.outputLimit`); the core never hands it more
    /// than this, so a write is never refused.
    public var streamOutputLimit = 1 << 20

    /// A configuration for `name` over `transport`; the rest has defaults.
    public init(name: String, transport: TransportKind, sessionSecret: SessionSecret) {
        self.name = name
        self.transport = transport
        self.sessionSecret = sessionSecret
    }

    /// The heartbeat interval for a relay that announced `peerTimeout` in WELCOME: a third of it
    /// (Specs/chat-protocol.md, section 5), so two may be lost before the relay gives up.
    public func heartbeatInterval(peerTimeout: Duration?) -> Duration {
        guard let peerTimeout, peerTimeout > .zero else { return heartbeatInterval }
        return min(heartbeatInterval, peerTimeout / 3)
    }
}
