import Datagram

/// A client's random 64-bit session secret, drawn once per run of the chat program.
///
/// It goes only to the relay, in HELLO, and the relay never sends it to anyone nor logs it: whoever
/// presents it resumes the session (its name and rooms, after a relay restart or a new address). What
/// other users see instead is the `SenderID` the relay derives from it.
public struct SessionSecret: RawRepresentable, Hashable, Sendable {
    /// The 64 bits as sent on the wire.
    public var rawValue: UInt64
    /// Wraps a raw 64-bit session secret.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The 8 bytes as sent in HELLO (big-endian).
    public var bytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: rawValue >> (56 - 8 * $0)) } }
}

/// Who said a MESSAGE or PRIVATE_MESSAGE, as the relay names the sender's session to others.
///
/// Only the relay assigns it: the first 8 bytes of SHA-256 over `SenderID.label` and the session
/// secret (Specs/chat-protocol.md, section 4.6). It is the same across relay restarts, so receivers can
/// hide the doubles a client resends (`DuplicateFilter`), but it cannot be turned back into a secret
/// that claims the session.
public struct SenderID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 64 bits as sent on the wire.
    public var rawValue: UInt64
    /// Wraps a raw 64-bit sender id.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The domain-separation label hashed before the secret: the 26 ASCII bytes
    /// `datagram-chat sender id v1` followed by one zero byte.
    public static let label: [UInt8] = Array("datagram-chat sender id v1".utf8) + [0]

    /// The bytes SHA-256 runs over: `label`, then the secret's 8 bytes, big-endian (35 bytes).
    public static func derivationInput(_ secret: SessionSecret) -> [UInt8] { label + secret.bytes }

    /// The sender id of `secret`: the first 8 bytes of `sha256(derivationInput(secret))`, big-endian.
    /// `sha256` must return a 32-byte SHA-256 digest (the relay passes libcrypto's).
    public init(deriving secret: SessionSecret, sha256: ([UInt8]) -> [UInt8]) {
        let digest = sha256(Self.derivationInput(secret))
        precondition(digest.count >= 8, "a SHA-256 digest has 32 bytes")
        rawValue = digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Sixteen lower-case hex digits.
    public var description: String {
        let hex = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// The flags byte of SAY, PRIVATE, MESSAGE and PRIVATE_MESSAGE.
public struct MessageFlags: OptionSet, Hashable, Sendable {
    /// The raw byte; undefined bits are sent as 0 and ignored on receipt.
    public var rawValue: UInt8
    /// Wraps a raw flags byte.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Bit 0: an action (`/me waves`), shown as ` * alice waves`.
    public static let action = MessageFlags(rawValue: 1 << 0)
    /// The flags this version defines; `decode` keeps only these.
    static let defined: MessageFlags = [.action]
}

/// The first message a client sends on every new connection: who it is and where it wants to be.
public struct Hello: Hashable, Sendable {
    /// `ChatLimits.protocolVersion`; the relay answers any other with ERROR `unsupportedVersion`.
    public var protocolVersion: UInt8
    /// The client's session secret, the same on every reconnection of one run. Sent to the relay only.
    public var sessionSecret: SessionSecret
    /// The name asked for.
    public var name: String
    /// Rooms to join (or rejoin after a reconnect); empty means the default room.
    public var rooms: [String]
    /// Free-form client software and version, for the relay's log (`chat 1.0`).
    public var software: String

    /// Creates a HELLO; `protocolVersion` defaults to this build's version.
    public init(sessionSecret: SessionSecret, name: String, rooms: [String] = [], software: String = "",
                protocolVersion: UInt8 = ChatLimits.protocolVersion) {
        self.protocolVersion = protocolVersion
        self.sessionSecret = sessionSecret
        self.name = name
        self.rooms = rooms
        self.software = software
    }
}

/// Everything a client sends to the relay. One value is one Datagram message or one TCP frame.
public enum ClientMessage: Hashable, Sendable {
    /// Type 0x01: identify and join; the relay answers WELCOME (or ERROR, and the client may retry).
    case hello(Hello)
    /// Type 0x02: say `text` in `room`. `messageID` increases by one per SAY or PRIVATE of a session.
    case say(room: String, messageID: UInt64, flags: MessageFlags, text: String)
    /// Type 0x03: say `text` to the user named `to` only.
    case privateMessage(to: String, messageID: UInt64, flags: MessageFlags, text: String)
    /// Type 0x04: join a room (created on first join).
    case joinRoom(String)
    /// Type 0x05: leave a room.
    case partRoom(String)
    /// Type 0x06: ask for ROOM_LIST.
    case listRooms
    /// Type 0x07: ask for WHO_LIST of one room, or of everyone when `room` is empty.
    case who(room: String)
    /// Type 0x08: change name.
    case nick(String)
    /// Type 0x09: leave the relay; the others see `has quit [reason]`.
    case quit(reason: String)
    /// Type 0x0A (TCP only): keepalive carrying the client's clock in microseconds, echoed back so the
    /// client can measure its RTT, and the RTT it measured last (nil: none yet) for the relay's WHO.
    case heartbeat(timestamp: UInt64, roundTripTime: Duration?)
    /// Type 0x0B: an operator's or administrator's request (kick, ban, mode, topic, ...); the relay
    /// checks the right and announces or refuses it (Specs/chat-protocol.md, section 4.8).
    case moderate(Moderation)
    /// Type 0x0C: join a room that has a key (`/mode +k`); otherwise as JOIN_ROOM.
    case joinRoomWithKey(room: String, key: String)
    /// Type 0x0E: ask the relay for the identity key of the user named `name` (answered by WHOIS_REPLY,
    /// Specs/chat-protocol.md section 4.10).
    case whois(name: String)
    /// Type 0x0F: an end-to-end sealed private message for `to`: `sealed` is one
    /// `Noise_X_25519_ChaChaPoly_SHA256` message (Specs/noise.md section 6.1) the relay forwards as it is.
    /// `messageID` numbers it among the session's SAY and PRIVATE messages.
    case sealedPrivate(to: String, messageID: UInt64, sealed: [UInt8])
    /// Type 0x18: offer a file to a user or a room (section 4.12).
    case fileOffer(FileOffer)
    /// Type 0x19: accept transfer `transfer`, having `offset` bytes of it already (0: from the start).
    case fileAccept(transfer: UInt64, offset: UInt64)
    /// Type 0x1A: reject or cancel: a recipient names its transfer, a sender its offer id.
    case fileCancel(id: UInt64, reason: FileCancelReason, text: String)
    /// Type 0x1B: the sender's bytes `offset..<offset+bytes.count` of a transfer.
    case fileChunk(transfer: UInt64, offset: UInt64, bytes: [UInt8])
    /// Type 0x1C: the recipient has written every byte before `offset`.
    case fileConfirm(transfer: UInt64, offset: UInt64)
    /// Type 0x1D: the recipient checked the whole file.
    case fileDone(transfer: UInt64, result: FileResult)
    /// Type 0x11: ask for the last `count` lines of `room`'s history (1 to 1000), only those said at
    /// or after `since` (milliseconds since the epoch; 0: no limit). Answered by HISTORY lines, oldest
    /// first (Specs/chat-protocol.md, section 4.11).
    case history(room: String, count: UInt16, since: UInt64)
    /// Type 0x12: the PRIVATE_MESSAGE `messageID` from the session `sender` was shown here; the relay
    /// tells its sender (DELIVERED). Sent only while receipts are on (`/receipts`).
    case receipt(sender: SenderID, messageID: UInt64)
    /// Type 0x13: register, identify, unregister, change a password, or (administrators) drop an
    /// account (Specs/chat-protocol.md, section 4.11.5).
    case account(AccountRequest)
}

/// The type bytes of client messages (Specs/chat-protocol.md, section 3).
enum ClientMessageType: UInt8 {
    case hello = 0x01, say = 0x02, privateMessage = 0x03, joinRoom = 0x04, partRoom = 0x05
    case listRooms = 0x06, who = 0x07, nick = 0x08, quit = 0x09, heartbeat = 0x0A, moderate = 0x0B
    case joinRoomWithKey = 0x0C, history = 0x11, receipt = 0x12, account = 0x13
    case whois = 0x0E, sealedPrivate = 0x0F
}

extension ClientMessage {
    /// The message as bytes: a type byte, then the fields, big-endian, strings length-prefixed.
    public func encoded() -> [UInt8] {
        if let file = encodedFileMessage() { return file }
        switch self {
        case let .hello(hello):
            var writer = ByteWriter(type: ClientMessageType.hello.rawValue)
            writer.write(hello.protocolVersion)
            writer.write(hello.sessionSecret.rawValue)
            writer.write(hello.name)
            writer.write(hello.rooms)
            writer.write(hello.software)
            return writer.bytes
        case let .say(room, messageID, flags, text):
            return Self.encodeText(.say, target: room, messageID: messageID, flags: flags, text: text)
        case let .privateMessage(to, messageID, flags, text):
            return Self.encodeText(.privateMessage, target: to, messageID: messageID, flags: flags, text: text)
        case let .joinRoom(room): return Self.encodeString(.joinRoom, room)
        case let .partRoom(room): return Self.encodeString(.partRoom, room)
        case .listRooms: return [ClientMessageType.listRooms.rawValue]
        case let .who(room): return Self.encodeString(.who, room)
        case let .nick(name): return Self.encodeString(.nick, name)
        case let .quit(reason): return Self.encodeString(.quit, reason)
        case let .heartbeat(timestamp, roundTripTime):
            var writer = ByteWriter(type: ClientMessageType.heartbeat.rawValue)
            writer.write(timestamp)
            writer.writeRoundTripTime(roundTripTime)
            return writer.bytes
        case let .moderate(request):
            var writer = ByteWriter(type: ClientMessageType.moderate.rawValue)
            writer.write(request.action.rawValue)
            writer.write(request.room)
            writer.write(request.target)
            writer.write(request.durationSeconds)
            writer.write(request.text)
            return writer.bytes
        case let .joinRoomWithKey(room, key):
            var writer = ByteWriter(type: ClientMessageType.joinRoomWithKey.rawValue)
            writer.write(room)
            writer.write(key)
            return writer.bytes
        case let .whois(name): return Self.encodeString(.whois, name)
        case let .sealedPrivate(to, messageID, sealed):
            var writer = ByteWriter(type: ClientMessageType.sealedPrivate.rawValue)
            writer.write(to)
            writer.write(messageID)
            writer.writeBytes(sealed)
            return writer.bytes
        case .fileOffer, .fileAccept, .fileCancel, .fileChunk, .fileConfirm, .fileDone:
            return encodedFileMessage() ?? []
        case let .history(room, count, since):
            var writer = ByteWriter(type: ClientMessageType.history.rawValue)
            writer.write(room)
            writer.write(count)
            writer.write(since)
            return writer.bytes
        case let .receipt(sender, messageID):
            var writer = ByteWriter(type: ClientMessageType.receipt.rawValue)
            writer.write(sender.rawValue)
            writer.write(messageID)
            return writer.bytes
        case let .account(request):
            var writer = ByteWriter(type: ClientMessageType.account.rawValue)
            writer.write(request.action.rawValue)
            writer.write(request.name)
            writer.write(request.password)
            writer.write(request.newPassword)
            return writer.bytes
        }
    }

    /// Decodes one whole message; every byte must belong to it.
    public init(decoding bytes: [UInt8]) throws(ChatDecodingError) {
        guard let typeByte = bytes.first else { throw .empty }
        var reader = ByteReader(bytes, from: 1)
        if FileMessageType.clientTypes.contains(typeByte) {
            self = try Self.decodeFileMessage(typeByte, &reader)
            try reader.finish()
            return
        }
        guard let type = ClientMessageType(rawValue: typeByte) else { throw .unknownType(typeByte) }
        switch type {
        case .hello:
            let version = try reader.readUInt8("protocol version")
            let secret = SessionSecret(rawValue: try reader.readUInt64("session secret"))
            let name = try reader.readString("name")
            let rooms = try reader.readStrings("rooms")
            let software = try reader.readString("software")
            self = .hello(Hello(sessionSecret: secret, name: name, rooms: rooms, software: software,
                                protocolVersion: version))
        case .say, .privateMessage:
            let target = try reader.readString(type == .say ? "room" : "to")
            let messageID = try reader.readUInt64("message id")
            let flags = MessageFlags(rawValue: try reader.readUInt8("flags")).intersection(.defined)
            let text = try reader.readString("text")
            self = type == .say ? .say(room: target, messageID: messageID, flags: flags, text: text)
                : .privateMessage(to: target, messageID: messageID, flags: flags, text: text)
        case .joinRoom: self = .joinRoom(try reader.readString("room"))
        case .partRoom: self = .partRoom(try reader.readString("room"))
        case .listRooms: self = .listRooms
        case .who: self = .who(room: try reader.readString("room"))
        case .nick: self = .nick(try reader.readString("name"))
        case .quit: self = .quit(reason: try reader.readString("reason"))
        case .heartbeat:
            let timestamp = try reader.readUInt64("timestamp")
            self = .heartbeat(timestamp: timestamp, roundTripTime: try reader.readRoundTripTime())
        case .moderate:
            let raw = try reader.readUInt8("action")
            guard let action = ModerationAction(rawValue: raw) else { throw .unknownCode(field: "action", value: raw) }
            let room = try reader.readString("room")
            let target = try reader.readString("target")
            let duration = try reader.readUInt32("duration")
            self = .moderate(Moderation(action, room: room, target: target, durationSeconds: duration,
                                        text: try reader.readString("text")))
        case .joinRoomWithKey:
            let room = try reader.readString("room")
            self = .joinRoomWithKey(room: room, key: try reader.readString("key"))
        case .whois: self = .whois(name: try reader.readString("name"))
        case .sealedPrivate:
            let to = try reader.readString("to")
            let messageID = try reader.readUInt64("message id")
            self = .sealedPrivate(to: to, messageID: messageID, sealed: try reader.readBytes("sealed"))
        case .history:
            let room = try reader.readString("room")
            let count = try reader.readUInt16("count")
            self = .history(room: room, count: count, since: try reader.readUInt64("since"))
        case .receipt:
            let sender = SenderID(rawValue: try reader.readUInt64("sender id"))
            self = .receipt(sender: sender, messageID: try reader.readUInt64("message id"))
        case .account:
            let raw = try reader.readUInt8("action")
            guard let action = AccountAction(rawValue: raw) else { throw .unknownCode(field: "action", value: raw) }
            let name = try reader.readString("name")
            let password = try reader.readString("password")
            self = .account(AccountRequest(action, name: name, password: password, newPassword: try reader.readString("new password")))
        }
        try reader.finish()
    }

    private static func encodeString(_ type: ClientMessageType, _ string: String) -> [UInt8] {
        var writer = ByteWriter(type: type.rawValue)
        writer.write(string)
        return writer.bytes
    }

    private static func encodeText(_ type: ClientMessageType, target: String, messageID: UInt64,
                                   flags: MessageFlags, text: String) -> [UInt8] {
        var writer = ByteWriter(type: type.rawValue)
        writer.write(target)
        writer.write(messageID)
        writer.write(flags.rawValue)
        writer.write(text)
        return writer.bytes
    }
}
