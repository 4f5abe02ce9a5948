/// What a MODERATE request asks the relay to do (Specs/chat-protocol.md, section 4.8).
public enum ModerationAction: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `/op NAME`: make a member of the room an operator.
    case op = 1
    /// `/deop NAME`: take operator rights away.
    case deop = 2
    /// `/voice NAME`: let a member speak in a moderated room.
    case voice = 3
    /// `/devoice NAME`.
    case devoice = 4
    /// `/mute NAME`: a member's SAY in the room is refused (`cannotSpeak`).
    case mute = 5
    /// `/unmute NAME`.
    case unmute = 6
    /// `/kick NAME [reason]`: take a member out of the room.
    case kick = 7
    /// `/ban NAME|ADDRESS [duration] [reason]`: keep a session (by sender id) or an address prefix out
    /// of the room, or of the relay when the room is empty (administrators only).
    case ban = 8
    /// `/unban MASK`: lift a ban (the mask as `BAN_LIST` shows it, or the name or address banned).
    case unban = 9
    /// `/bans`: ask for BAN_LIST.
    case bans = 10
    /// `/topic text`: set the room's topic.
    case topic = 11
    /// `/mode +m|-m|+i|-i|+k KEY|-k`: target is the mode (`+m`), text the key.
    case mode = 12
    /// `/invite NAME`: let a user into an invite-only room.
    case invite = 13
    /// `/kill NAME [reason]` (administrators only): disconnect a user from the relay.
    case kill = 14
    /// `/oper TOKEN`: become the relay administrator one's name was given for (`relay --admin NAME`),
    /// by presenting the token the relay printed at start; text is the token.
    case oper = 15

    /// The command's name, as typed without its slash.
    public var description: String {
        switch self {
        case .op: "op"
        case .deop: "deop"
        case .voice: "voice"
        case .devoice: "devoice"
        case .mute: "mute"
        case .unmute: "unmute"
        case .kick: "kick"
        case .ban: "ban"
        case .unban: "unban"
        case .bans: "bans"
        case .topic: "topic"
        case .mode: "mode"
        case .invite: "invite"
        case .kill: "kill"
        case .oper: "oper"
        }
    }
}

/// A MODERATE request's fields (Specs/chat-protocol.md, section 4.1).
public struct Moderation: Hashable, Sendable {
    /// What to do.
    public var action: ModerationAction
    /// The room it applies to; empty for relay-wide actions (`kill`, and `ban`, `unban`, `bans` of the relay).
    public var room: String
    /// The user name, ban mask or address, or the mode (`+m`); empty when the action takes none.
    public var target: String
    /// `ban`: how long, in whole seconds; 0 is until lifted. 0 for every other action.
    public var durationSeconds: UInt32
    /// The reason (kick, ban, kill), the topic, or the key of `+k`; may be empty.
    public var text: String

    /// Creates a request; unused fields default to empty.
    public init(_ action: ModerationAction, room: String = "", target: String = "", durationSeconds: UInt32 = 0,
                text: String = "") {
        self.action = action
        self.room = room
        self.target = target
        self.durationSeconds = durationSeconds
        self.text = text
    }
}

/// One row of BAN_LIST.
public struct BanEntry: Hashable, Sendable {
    /// What is banned: `id:` and a sender id in 16 hex digits, or an address prefix (`10.1.2.0/24`,
    /// `[2001:db8::]/48`).
    public var mask: String
    /// Who set it.
    public var setBy: String
    /// Seconds until it expires, rounded up; 0: it never does.
    public var secondsLeft: UInt32
    /// Why, as given (may be empty).
    public var reason: String

    /// Creates a row.
    public init(mask: String, setBy: String, secondsLeft: UInt32, reason: String) {
        self.mask = mask
        self.setBy = setBy
        self.secondsLeft = secondsLeft
        self.reason = reason
    }
}

/// An IP address prefix a ban names: `10.1.2.3` (one IPv4 address), `10.1.0.0/16`, `::1`,
/// `2001:db8::/32` or `[2001:db8::]/32`. An IPv4-mapped IPv6 address matches as its IPv4 address.
public struct AddressPrefix: Hashable, Sendable, CustomStringConvertible {
    /// 4 or 16 bytes, the bits past `length` zero.
    public let address: [UInt8]
    /// How many leading bits count.
    public let length: Int

    /// Parses `text`; nil if it is not an address with an optional `/length`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        var host = Substring(parts[0])
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard let bytes = Self.parseIPv4(host) ?? Self.parseIPv6(host) else { return nil }
        var length = bytes.count * 8
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...bytes.count * 8).contains(value), parts[1].count <= 3 else { return nil }
            length = value
        }
        self.address = Self.masked(bytes, length: length)
        self.length = length
    }

    /// Whether `ip` (4 or 16 bytes, as a peer's endpoint carries it) lies in this prefix.
    public func contains(_ ip: [UInt8]) -> Bool {
        let candidate = Self.unmapped(ip)
        guard candidate.count == address.count else { return false }
        return Self.masked(candidate, length: length) == address
    }

    /// `10.1.0.0/16`, `2001:db8::/32`; a whole address without its length.
    public var description: String {
        let text = address.count == 4 ? address.map(String.init).joined(separator: ".") : EndpointText.ipv6(address)
        return length == address.count * 8 ? text : "\(text)/\(length)"
    }

    static func unmapped(_ ip: [UInt8]) -> [UInt8] {
        if ip.count == 16, ip[0..<10].allSatisfy({ $0 == 0 }), ip[10] == 0xFF, ip[11] == 0xFF { return Array(ip[12...]) }
        return ip
    }

    private static func masked(_ bytes: [UInt8], length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = length - index * 8
            if bits >= 8 { return byte }
            if bits <= 0 { return 0 }
            return byte & UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }

    private static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    private static func parseIPv6(_ text: Substring) -> [UInt8]? {
        guard text.contains(":"), text.count <= 45 else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: Substring) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !group.isEmpty, group.count <= 4, let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}

extension Substring {
    /// Splits on a separator string (no Foundation).
    fileprivate func components(separatedBy separator: String) -> [Substring] {
        var parts: [Substring] = []
        var rest = self[...]
        while let range = rest.firstRange(of: separator) {
            parts.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}
