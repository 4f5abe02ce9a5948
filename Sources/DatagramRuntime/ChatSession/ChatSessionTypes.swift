import Chat
import ChatClientCore
import Datagram
import Noise
import LinkSimulator
import Transport

/// What a `ChatSession` needs to know before it starts: the core's configuration (name, rooms,
/// every timing rule) and what only the shell knows (the relay's address, the simulated link).
public struct ChatSessionConfiguration: Sendable {
    /// The client core's configuration: name, rooms, session secret, timing.
    public var client: ChatClientConfiguration
    /// The relay's UDP and TCP address.
    public var relay: SocketAddress
    /// Simulated conditions applied to both directions (UDP only); nil for a perfect path.
    public var linkConditions: LinkConditions?
    /// The seed of the simulated link.
    public var linkSeed: UInt64 = SystemRandom.seed()
    /// Speak the plaintext protocol (`chat --plaintext`; the relay must allow it). Off by default:
    /// every session, UDP or TCP, is sealed (Noise XX, Specs/noise.md).
    public var isPlaintext = false
    /// The client's static key pair for the sealed handshake; nil: an ephemeral one per run (the
    /// identity work passes the key file's pair here).
    public var staticKeyPair: NoiseKeyPair?
    /// Called with the relay's address and static key after Noise message 2 and before message 3;
    /// `.reject(message)` stops the session with that message, without reconnecting. Nil accepts
    /// every key. `chat` passes its `known_relays` check (`PinFile.relayPinCheck`, Specs/noise.md 4.2).
    public var pinCheck: (@Sendable (_ relay: String, _ key: IdentityKey) -> PeerKeyDecision)?

    /// A configuration for `name` at `relay` over `transport`, with a random session secret.
    public init(name: String, relay: SocketAddress, transport: TransportKind) {
        self.client = ChatClientConfiguration(name: name, transport: transport,
                                              sessionSecret: SessionSecret(rawValue: SystemRandom.uint64()))
        self.relay = relay
    }

    /// The name asked for in HELLO.
    public var name: String { get { client.name } set { client.name = newValue } }
    /// UDP or TCP.
    public var transport: TransportKind { get { client.transport } set { client.transport = newValue } }
    /// The rooms to join first.
    public var rooms: [String] { get { client.rooms } set { client.rooms = newValue } }
    /// This run's session secret, kept across reconnections (never shown; it resumes the session).
    public var sessionSecret: SessionSecret { get { client.sessionSecret } set { client.sessionSecret = newValue } }
    /// Report every packet's fate as `.trace` events from the start (UDP only).
    public var isTracing: Bool { get { client.isTracing } set { client.isTracing = newValue } }
    /// The Datagram connection's parameters (UDP only).
    public var datagramConfiguration: Connection.Configuration {
        get { client.datagramConfiguration } set { client.datagramConfiguration = newValue }
    }
    /// HELLO's software field.
    public var software: String { get { client.software } set { client.software = newValue } }
    /// How often a TCP client sends HEARTBEAT (until WELCOME announces the relay's timeout).
    public var heartbeatInterval: Duration { get { client.heartbeatInterval } set { client.heartbeatInterval = newValue } }
    /// A TCP connection silent this long is given up and replaced.
    public var streamSilenceLimit: Duration { get { client.streamSilenceLimit } set { client.streamSilenceLimit = newValue } }
    /// After a reconnection, messages wait this long before they are sent again.
    public var rejoinGrace: Duration { get { client.rejoinGrace } set { client.rejoinGrace = newValue } }
    /// After NOTICE serverShutdown, the link is given up this long later.
    public var shutdownNoticeGrace: Duration { get { client.shutdownNoticeGrace } set { client.shutdownNoticeGrace = newValue } }
}

/// The socket-level counters of a session, beside the core's `ChatSessionStatistics`.
public struct ChatSessionTransportStatistics: Sendable {
    /// The UDP socket's counters (UDP only).
    public var driver: DriverStatistics?
    /// The simulated outgoing link's counters (UDP only, when simulated).
    public var outgoingLink: LinkStatistics?
    /// The simulated incoming link's counters.
    public var incomingLink: LinkStatistics?
}
