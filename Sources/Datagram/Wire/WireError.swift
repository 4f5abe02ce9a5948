/// Why a datagram could not be read as a packet (wire format, sections 2-5).
public enum WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Shorter than its header or its type's body requires.
    case truncated
    /// The first two bytes are not `0xDA 0x7A`: not our protocol.
    case badMagic
    /// A version other than 1.
    case unsupportedVersion(UInt8)
    /// A type byte not listed in section 3.
    case unknownType(UInt8)
    /// The CRC-32C does not match: corrupted on the way.
    case checksumMismatch
    /// A field holds a value the format forbids; the associated value names the field.
    case invalidField(String)

    /// A short phrase for counters and traces.
    public var description: String {
        switch self {
        case .truncated: "truncated"
        case .badMagic: "bad magic"
        case .unsupportedVersion(let version): "unsupported version \(version)"
        case .unknownType(let type): "unknown type 0x\(String(type, radix: 16))"
        case .checksumMismatch: "checksum mismatch"
        case .invalidField(let field): "invalid \(field)"
        }
    }
}

/// The packet types of wire format section 3.
public enum PacketType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// DATA: a message fragment.
    case data = 0x01
    /// ACK: acknowledgement fields only.
    case ack = 0x02
    /// PING: ack-eliciting, empty.
    case ping = 0x03
    /// CLOSE: one reason byte.
    case close = 0x04
    /// RESET: stateless "no such connection".
    case reset = 0x05
    /// HELLO: the client's handshake packet.
    case hello = 0x10
    /// COOKIE: the server's stateless challenge.
    case cookie = 0x11
    /// WELCOME: the handshake's end.
    case welcome = 0x12
    /// FINISH: Noise message 3, client to server (sealed sessions only; wire format, section 9).
    case finish = 0x13
    /// PATH_CHALLENGE: 8 random bytes the peer must echo from the new address (sealed; section 10.8).
    case pathChallenge = 0x14
    /// PATH_RESPONSE: the 8 bytes of a PATH_CHALLENGE, echoed (sealed).
    case pathResponse = 0x15

    /// True when the receiver must acknowledge a packet of this type.
    public var isAckEliciting: Bool {
        switch self {
        case .data, .ping, .hello, .welcome, .finish: true
        case .ack, .close, .reset, .cookie, .pathChallenge, .pathResponse: false
        }
    }

    /// The upper-case name used in the wire format and in traces (`DATA`, `PING`, ...).
    public var description: String {
        switch self {
        case .data: "DATA"
        case .ack: "ACK"
        case .ping: "PING"
        case .close: "CLOSE"
        case .reset: "RESET"
        case .hello: "HELLO"
        case .cookie: "COOKIE"
        case .welcome: "WELCOME"
        case .finish: "FINISH"
        case .pathChallenge: "PATH_CHALLENGE"
        case .pathResponse: "PATH_RESPONSE"
        }
    }
}
