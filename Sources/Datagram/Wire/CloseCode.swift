/// The one byte a CLOSE carries (Specs/wire-format.md, section 7). The named codes are the ones the
/// spec defines; any other byte a peer sends is kept as it is (`CloseCode(rawValue: 7)`), never
/// refused or rewritten.
public struct CloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The byte on the wire.
    public var rawValue: UInt8

    /// Any byte: a named code or one the spec does not define.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `0`: the application closed the connection.
    public static let normal = CloseCode(rawValue: 0)
    /// `1`: the sender gave up on the connection (idle timeout, or too many unanswered probes).
    public static let idleTimeout = CloseCode(rawValue: 1)
    /// `2`: the peer broke the protocol (reliable data that can never be delivered, section 5).
    public static let protocolError = CloseCode(rawValue: 2)
    /// `3`: the server is shutting down; trying again later is right.
    public static let shuttingDown = CloseCode(rawValue: 3)
    /// `4`: refused (for example: the server is full).
    public static let refused = CloseCode(rawValue: 4)
    /// `5`: refused for good: the server accepts sealed sessions only and this was a plaintext one.
    /// Trying again the same way cannot succeed.
    public static let encryptionRequired = CloseCode(rawValue: 5)

    /// The code's name and byte, such as `shutting down (3)`; an unknown code is `code 7`.
    public var description: String {
        switch self {
        case .normal: "normal (0)"
        case .idleTimeout: "idle timeout (1)"
        case .protocolError: "protocol error (2)"
        case .shuttingDown: "shutting down (3)"
        case .refused: "refused (4)"
        case .encryptionRequired: "encryption required (5)"
        default: "code \(rawValue)"
        }
    }
}
