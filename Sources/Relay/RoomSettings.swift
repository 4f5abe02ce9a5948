import Chat
import Datagram

/// What a ban matches: a session (by its sender id, which only its secret produces) or an address prefix.
public enum BanMask: Hashable, Sendable, CustomStringConvertible {
    /// The session whose secret derives this sender id, under whatever name.
    case session(SenderID)
    /// Every connection from an address in this prefix.
    case address(AddressPrefix)

    /// `id:c99d5b12a20b0827` or `10.1.0.0/16`, as BAN_LIST shows it and `/unban` takes it.
    public var description: String {
        switch self {
        case let .session(id): "id:\(id)"
        case let .address(prefix): prefix.description
        }
    }

    /// Parses a mask as BAN_LIST shows it, or an address with an optional prefix length.
    public init?(_ text: String) {
        if text.hasPrefix("id:") {
            let hex = text.dropFirst(3)
            guard hex.count == 16, let value = UInt64(hex, radix: 16) else { return nil }
            self = .session(SenderID(rawValue: value))
        } else if let prefix = AddressPrefix(text) {
            self = .address(prefix)
        } else {
            return nil
        }
    }

    func matches(senderID: SenderID, address: [UInt8]) -> Bool {
        switch self {
        case let .session(id): id == senderID
        case let .address(prefix): prefix.contains(address)
        }
    }
}

/// One ban of a room or of the relay. Plain values only, so that a store (issue 11's data directory)
/// can save and load it; `expires` is on the relay's clock and would be saved as time left.
public struct Ban: Hashable, Sendable {
    /// What it matches.
    public var mask: BanMask
    /// The name of who set it.
    public var setBy: String
    /// Why (may be empty; at most 256 bytes).
    public var reason: String
    /// When it lapses; nil: never.
    public var expires: Timestamp?

    public init(mask: BanMask, setBy: String, reason: String, expires: Timestamp?) {
        self.mask = mask
        self.setBy = setBy
        self.reason = reason
        self.expires = expires
    }
}

/// A room's moderation state: who may do what, and its modes. Kept apart from the membership in
/// `Room`, and kept after the room empties when there is something to keep (bans, modes, topic), so
/// that a ban outlives the room's last member. Plain values only: a store can save it as it is, once
/// the relay has a data directory (issue 11); until then it lasts as long as the relay runs.
public struct RoomSettings: Hashable, Sendable {
    /// Operators, by session (so a rename or a resumed session keeps the right).
    public var operators: Set<SenderID> = []
    /// Voiced users: may speak while the room is moderated.
    public var voiced: Set<SenderID> = []
    /// Muted users: may not speak at all.
    public var muted: Set<SenderID> = []
    /// Invited sessions (for `+i`).
    public var invited: Set<SenderID> = []
    /// Sessions that have been in the room (and were not kicked or banned since): they rejoin past
    /// `+i` and `+k`, as a reconnecting client's HELLO does, without a key or a new invitation.
    public var admitted: Set<SenderID> = []
    /// The bans, in the order set.
    public var bans: [Ban] = []
    /// `+m`: only operators and voiced users speak.
    public var isModerated = false
    /// `+i`: only operators and invited users join.
    public var isInviteOnly = false
    /// `+k`: JOIN must carry this key.
    public var key: String?
    /// The topic, and who set it.
    public var topic = ""
    public var topicSetBy = ""

    /// No operators, no bans, no modes.
    public init() {}

    /// Whether the settings say anything once nobody is left in the room.
    var isWorthKeeping: Bool {
        !bans.isEmpty || isModerated || isInviteOnly || key != nil || !topic.isEmpty
    }

    /// Drops the bans that lapsed by `now`.
    mutating func pruneBans(at now: Timestamp) {
        bans.removeAll { ban in ban.expires.map { $0 <= now } ?? false }
    }
}
