/// What an ACCOUNT request asks (Specs/chat-protocol.md, section 4.11.5).
public enum AccountAction: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `/register [PASSWORD]`: the name the session holds becomes this identity key's (and the
    /// password's, if given). `name` is empty.
    case register = 1
    /// `/identify NAME PASSWORD`: proves the password of account `name`; the session's identity key
    /// (if any) is added to the account and the session takes the name.
    case identify = 2
    /// `/unregister [PASSWORD]`: drops the account of the name the session holds.
    case unregister = 3
    /// `/password NEW` (or `/password OLD NEW` without a registered key): `password` is the old
    /// password (may be empty when the session's key is the account's), `newPassword` the new one.
    case password = 4
    /// `/dropaccount NAME`: a relay administrator drops account `name`.
    case drop = 5

    /// The command's name, for reports and logs.
    public var description: String {
        switch self {
        case .register: "register"
        case .identify: "identify"
        case .unregister: "unregister"
        case .password: "password"
        case .drop: "drop"
        }
    }
}

/// An ACCOUNT request (client type 0x13). The passwords go only to the relay, which hashes them and
/// never stores, sends or logs them in clear.
public struct AccountRequest: Hashable, Sendable {
    public var action: AccountAction
    /// The account's name, for `identify` and `drop`; empty otherwise.
    public var name: String
    /// The password (`register`, `identify`, `unregister`) or the old password (`password`).
    public var password: String
    /// The new password (`password` only; empty otherwise).
    public var newPassword: String

    public init(_ action: AccountAction, name: String = "", password: String = "", newPassword: String = "") {
        self.action = action
        self.name = name
        self.password = password
        self.newPassword = newPassword
    }

    /// Longest password accepted, in UTF-8 bytes.
    public static let maximumPasswordLength = 256
    /// Shortest non-empty password accepted, in UTF-8 bytes.
    public static let minimumPasswordLength = 6
}
