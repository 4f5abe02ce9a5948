// PUBLIC API SKETCH (see ConnectionAPI.swift): the server side's stateless front door.

/// What a server does with a datagram from an endpoint it keeps no connection for.
public enum StatelessResponse: Sendable, Hashable {
    /// Send these bytes back (a COOKIE or a RESET, never larger than the datagram received) and forget it.
    case reply([UInt8])
    /// A HELLO with a valid cookie: create `Connection(role: .server, id:)` and feed it this datagram.
    case accept(ConnectionID)
    /// Nothing to answer (garbage, a RESET, a stale cookie ...); count it and drop it.
    case drop(reason: String)
}

/// Issues and checks handshake cookies without keeping any state per client (wire format, section 6).
///
/// The secret comes from the caller (the relay draws it from the system's random source at start);
/// `address` is the client's IP address bytes followed by its port, as the server sees them.
public struct CookieJar: Sendable {
    public init(secret: (UInt64, UInt64), lifetime: Duration = .seconds(10)) {
        fatalError("stub")
    }

    /// Decides what to do with `datagram`, which came from `address` for which there is no connection.
    public func respond(to datagram: [UInt8], from address: [UInt8], at now: Timestamp) -> StatelessResponse {
        fatalError("stub")
    }
}

/// Protocol-wide constants (wire format, section 8).
public enum Limits {
    public static let maximumDatagramSize = 1200
    public static let headerSize = 32
    public static let maximumFragmentPayload = 1158
    public static let maximumFragmentCount = 57
    public static let maximumMessageSize = 65_536
}
