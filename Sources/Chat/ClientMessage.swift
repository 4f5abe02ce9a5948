import Datagram

/// A client's random 64-bit identity for one run of the chat program.
///
/// It survives reconnections (a relay restart, a timeout), so the relay can recognise a returning
/// user and receivers can suppress messages resent under it (`DuplicateFilter`).
public struct SessionID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 64 bits as sent on the wire.
    public var rawValue: UInt64
    /// Wraps a raw 64-bit session id.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
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
    /// The client's session id, the same on every reconnection of one run.
    public var sessionID: SessionID
    /// The name asked for.
    public var name: String
    /// Rooms to join (or rejoin after a reconnect); empty means the default room.
    public var rooms: [String]
    /// Free-form client software and version, for the relay's log (`chat 1.0`).
    public var software: String

    /// Creates a HELLO; `protocolVersion` defaults to this build's version.
    public init(sessionID: SessionID, name: String, rooms: [String] = [], software: String = "",
                protocolVersion: UInt8 = ChatLimits.protocolVersion) {
        self.protocolVersion = protocolVersion
        self.sessionID = sessionID
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
}

/// The type bytes of client messages (Specs/chat-protocol.md, section 3).
enum ClientMessageType: UInt8 {
    case hello = 0x01, say = 0x02, privateMessage = 0x03, joinRoom = 0x04, partRoom = 0x05
    case listRooms = 0x06, who = 0x07, nick = 0x08, quit = 0x09, heartbeat = 0x0A
}

extension ClientMessage {
    /// The message as bytes: a type byte, then the fields, big-endian, strings length-prefixed.
    public func encoded() -> [UInt8] {
        switch self {
        case let .hello(hello):
            var writer = ByteWriter(type: ClientMessageType.hello.rawValue)
            writer.write(hello.protocolVersion)
            writer.write(hello.sessionID.rawValue)
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
        }
    }

    /// Decodes one whole message; every byte must belong to it.
    public init(decoding bytes: [UInt8]) throws(ChatDecodingError) {
        guard let typeByte = bytes.first else { throw .empty }
        guard let type = ClientMessageType(rawValue: typeByte) else { throw .unknownType(typeByte) }
        var reader = ByteReader(bytes, from: 1)
        switch type {
        case .hello:
            let version = try reader.readUInt8("protocol version")
            let session = SessionID(rawValue: try reader.readUInt64("session id"))
            let name = try reader.readString("name")
            let rooms = try reader.readStrings("rooms")
            let software = try reader.readString("software")
            self = .hello(Hello(sessionID: session, name: name, rooms: rooms, software: software,
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
