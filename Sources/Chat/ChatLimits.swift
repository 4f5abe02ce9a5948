/// The chat protocol's limits (Specs/chat-protocol.md, section 6) and the rules for names and rooms.
public enum ChatLimits {
    /// The protocol version a client announces in HELLO; the relay refuses any other.
    public static let protocolVersion: UInt8 = 1
    /// The longest user name, in UTF-8 bytes.
    public static let maximumNameLength = 32
    /// The longest room name, in UTF-8 bytes, including the leading `#`.
    public static let maximumRoomLength = 32
    /// The longest text of a SAY or PRIVATE, in UTF-8 bytes.
    public static let maximumTextLength = 4_000
    /// The longest reason (QUIT, notices) or other free-form field, in UTF-8 bytes.
    public static let maximumReasonLength = 256
    /// The most rooms one user may be in at once (and may list in HELLO).
    public static let maximumRoomsPerUser = 16
    /// The largest Datagram message and the largest TCP frame payload (a sealed frame's payload is at
    /// most 65,535 bytes: Noise's limit). Not the chat message limit: see `maximumChatMessageSize`.
    public static let maximumMessageSize = 65_536
    /// The largest chat message (encoded, type byte included), in every transport and mode: what one
    /// sealed TCP frame can carry (Noise's 65,535-byte message minus its 16-byte tag), so that a
    /// message that goes over one transport goes over all of them. Senders check it before anything
    /// is sent (Specs/chat-protocol.md section 6).
    public static let maximumChatMessageSize = 65_519
    /// The TCP frame's length prefix, in bytes.
    public static let frameHeaderSize = 4
    /// The room every user joins when HELLO names none.
    public static let defaultRoom = "#lobby"
}

/// Why a user or room name was refused.
public enum NameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name is empty.
    case empty
    /// The name is longer than the limit, in UTF-8 bytes.
    case tooLong(length: Int, limit: Int)
    /// The name contains a character outside letters, digits, `-`, `_` and `.`.
    case invalidCharacter(Character)
    /// A room name must start with `#`.
    case missingRoomPrefix

    public var description: String {
        switch self {
        case .empty: "the name is empty"
        case let .tooLong(length, limit): "the name is \(length) bytes long; the limit is \(limit)"
        case let .invalidCharacter(character):
            "the name contains \(String(reflecting: String(character))); use letters, digits, '-', '_' and '.'"
        case .missingRoomPrefix: "a room name starts with '#'"
        }
    }
}

/// Checks user and room names against the protocol's rules.
///
/// A user name is 1 to 32 bytes of ASCII letters, digits, `-`, `_` and `.`; a room name is `#`
/// followed by 1 to 31 such characters. Names compare case-insensitively: use `canonical(_:)`.
public enum ChatNames {
    /// Throws unless `name` is a valid user name.
    public static func validateUserName(_ name: String) throws(NameError) {
        try validateCharacters(name, limit: ChatLimits.maximumNameLength)
    }

    /// Throws unless `room` is a valid room name (with its `#`).
    public static func validateRoomName(_ room: String) throws(NameError) {
        guard room.utf8.first == UInt8(ascii: "#") else { throw .missingRoomPrefix }
        guard room.utf8.count <= ChatLimits.maximumRoomLength else {
            throw .tooLong(length: room.utf8.count, limit: ChatLimits.maximumRoomLength)
        }
        try validateCharacters(String(room.dropFirst()), limit: ChatLimits.maximumRoomLength - 1)
    }

    /// The form two names are compared in: ASCII lower case (names are ASCII by the rules above).
    public static func canonical(_ name: String) -> String {
        String(decoding: name.utf8.map { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
        }, as: UTF8.self)
    }

    private static func validateCharacters(_ name: String, limit: Int) throws(NameError) {
        guard !name.isEmpty else { throw .empty }
        guard name.utf8.count <= limit else { throw .tooLong(length: name.utf8.count, limit: limit) }
        for character in name where !isAllowed(character) {
            throw .invalidCharacter(character)
        }
    }

    private static func isAllowed(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        switch ascii {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}
