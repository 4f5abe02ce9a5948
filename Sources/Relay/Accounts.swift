import Chat
import Datagram

/// The cost parameters of a password hash (scrypt's N, r and p), saved with each hash so that a
/// relay with other defaults still checks old ones.
public struct PasswordCost: Sendable, Hashable {
    public var n: UInt64
    public var r: UInt64
    public var p: UInt64

    public init(n: UInt64, r: UInt64, p: UInt64) {
        self.n = n
        self.r = r
        self.p = p
    }

    /// N = 2^14, r = 8, p = 1 (16 MiB of memory per hash).
    public static let relayDefault = PasswordCost(n: 1 << 14, r: 8, p: 1)
}

/// A saved password: never the password, only scrypt over it with a random salt.
public struct PasswordHash: Sendable, Hashable {
    public var cost: PasswordCost
    public var salt: [UInt8]
    public var hash: [UInt8]

    public init(cost: PasswordCost, salt: [UInt8], hash: [UInt8]) {
        self.cost = cost
        self.salt = salt
        self.hash = hash
    }
}

/// How the pure core hashes passwords: the relay's host passes libcrypto's scrypt and its random
/// source; tests pass a cheap deterministic function.
public struct PasswordHashing: Sendable {
    /// The cost new hashes are made with.
    public var cost: PasswordCost
    /// The key derived from (password, salt, cost), 32 bytes; nil when the derivation failed.
    public var derive: @Sendable (_ password: [UInt8], _ salt: [UInt8], _ cost: PasswordCost) -> [UInt8]?
    /// 16 fresh random bytes.
    public var salt: @Sendable () -> [UInt8]

    public init(cost: PasswordCost = .relayDefault,
                derive: @escaping @Sendable ([UInt8], [UInt8], PasswordCost) -> [UInt8]?,
                salt: @escaping @Sendable () -> [UInt8]) {
        self.cost = cost
        self.derive = derive
        self.salt = salt
    }

    /// A new hash of `password`, or nil when the derivation failed.
    func hash(_ password: String) -> PasswordHash? {
        let salt = salt()
        guard !salt.isEmpty, let hash = derive(Array(password.utf8), salt, cost), !hash.isEmpty else { return nil }
        return PasswordHash(cost: cost, salt: salt, hash: hash)
    }

    /// Whether `password` matches `saved`, compared in constant time.
    func verify(_ password: String, against saved: PasswordHash) -> Bool {
        guard let derived = derive(Array(password.utf8), saved.salt, saved.cost), derived.count == saved.hash.count else { return false }
        var difference: UInt8 = 0
        for index in derived.indices { difference |= derived[index] ^ saved.hash[index] }
        return difference == 0
    }
}

/// A registered name (Specs/chat-protocol.md, section 4.11.5): the name as registered, the identity
/// keys that log in under it without a password, and the password hash (nil: keys only).
public struct Account: Sendable, Hashable {
    public var name: String
    public var keys: [IdentityKey]
    public var password: PasswordHash?

    public init(name: String, keys: [IdentityKey] = [], password: PasswordHash? = nil) {
        self.name = name
        self.keys = keys
        self.password = password
    }

    /// Keys one account may have.
    public static let maximumKeys = 16
}

/// A private message stored for a registered user who was not connected.
public struct OfflineMessage: Sendable, Hashable {
    public var from: String
    public var sender: SenderID
    public var messageID: UInt64
    public var flags: MessageFlags
    public var text: String
    /// A SEALED_PRIVATE's bytes, kept as they came (nil: a plain PRIVATE, in `text`).
    public var sealed: [UInt8]?
    /// When the relay took it in, milliseconds since the epoch (filled in by the store from the
    /// batch's clock when zero).
    public var unixMilliseconds: Int64

    public init(from: String, sender: SenderID, messageID: UInt64, flags: MessageFlags, text: String, sealed: [UInt8]? = nil,
                unixMilliseconds: Int64 = 0) {
        self.from = from
        self.sender = sender
        self.messageID = messageID
        self.flags = flags
        self.text = text
        self.sealed = sealed
        self.unixMilliseconds = unixMilliseconds
    }

    /// What it counts against its recipient's mailbox.
    var cost: Int { from.utf8.count + text.utf8.count + (sealed?.count ?? 0) + 32 }
}

/// Failed password attempts per name and per address, in fixed windows on the relay's clock.
struct AttemptLimiter: Sendable {
    struct Window: Sendable {
        var start: Timestamp
        var failures: Int
    }

    var windows: [String: Window] = [:]
    /// Failures allowed per window.
    static let maximumFailures = 5
    static let window: Duration = .seconds(60)
    /// Windows remembered at most (the oldest are forgotten first).
    static let maximumWindows = 20_000

    /// When `key` may try again, or nil when it may now.
    func blockedUntil(_ key: String, at now: Timestamp) -> Timestamp? {
        guard let window = windows[key], window.failures >= Self.maximumFailures, now < window.start + Self.window else { return nil }
        return window.start + Self.window
    }

    mutating func recordFailure(_ key: String, at now: Timestamp) {
        if var window = windows[key], now < window.start + Self.window {
            window.failures += 1
            windows[key] = window
            return
        }
        if windows.count >= Self.maximumWindows {
            windows = windows.filter { now < $0.value.start + Self.window }
            if windows.count >= Self.maximumWindows, let oldest = windows.min(by: { $0.value.start < $1.value.start })?.key {
                windows[oldest] = nil
            }
        }
        windows[key] = Window(start: now, failures: 1)
    }

    mutating func clear(_ key: String) { windows[key] = nil }
}
