/// Which transport a user is connected over.
public enum TransportKind: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// UDP with the Datagram reliability layer.
    case udp = 0
    /// TCP with 4-byte length-prefixed frames.
    case tcp = 1
    /// `udp` or `tcp`.
    public var description: String { self == .udp ? "udp" : "tcp" }
}

/// What a NOTICE reports (Specs/chat-protocol.md, section 4.4).
public enum NoticeKind: UInt8, Hashable, Sendable, CaseIterable {
    /// `name` joined `room`; `endpoint` is the newcomer's transport only (`udp` or `tcp`).
    case joined = 1
    /// `name` left `room`; `detail` is the reason, if any.
    case left = 2
    /// `name` left the relay; `detail` is the reason (`quit` text, `connection lost`, ...).
    case quit = 3
    /// `name` was silent longer than the peer timeout and was removed.
    case timedOut = 4
    /// `name` is now called `detail`.
    case nickChanged = 5
    /// You are now in `room`.
    case roomJoined = 6
    /// You are no longer in `room`.
    case roomParted = 7
    /// The relay is shutting down; `detail` is the reason. Reconnect and resend.
    case serverShutdown = 8
    /// Sent to a connection just before the relay closes it because another connection presented the
    /// same session secret and resumed the session (`name`). The client must not reconnect on its own.
    case sessionResumed = 9
    /// You are sending faster than the relay's rate limit (`detail` says it); the relay reads your
    /// messages more slowly from now on and loses none. Sent once per connection.
    case rateLimited = 10
    /// An operator or administrator (`name`) acted in `room` (empty: relay-wide); `endpoint` is the
    /// user or mask acted on, `detail` says what and why (`kicked bob: spam`). Every member is told.
    case moderation = 11
    /// The topic of `room` is `detail`, set by `name` (sent on joining a room that has one).
    case topic = 12
    /// An administrator (`name`) disconnected you (`detail`: the reason); the connection is closed
    /// next and the client must not reconnect on its own.
    case killed = 13
    /// Your ACCOUNT request was carried out (section 4.11.5): `name` is the account, `detail` says
    /// what happened (`registered`, `identified`, `unregistered`, `password changed`, `dropped`).
    case account = 18
    /// Your PRIVATE or SEALED_PRIVATE to `name`, who is registered and not connected, was stored and
    /// not delivered; it is delivered at their next login. `detail` is its message id in decimal.
    case storedOffline = 19
}

/// A NOTICE: an event about a user or a room. Fields that do not apply to `kind` are empty.
public struct Notice: Hashable, Sendable {
    /// What happened.
    public var kind: NoticeKind
    /// The user it happened to (empty for `serverShutdown`).
    public var name: String
    /// The room it happened in, if any.
    public var room: String
    /// With `joined`: the newcomer's transport, `udp` or `tcp` (never another user's address).
    public var endpoint: String
    /// The reason, or the new name for `nickChanged`.
    public var detail: String

    /// Creates a notice; unused fields default to empty.
    public init(kind: NoticeKind, name: String = "", room: String = "", endpoint: String = "", detail: String = "") {
        self.kind = kind
        self.name = name
        self.room = room
        self.endpoint = endpoint
        self.detail = detail
    }
}

/// Why the relay refused a request (Specs/chat-protocol.md, section 4.5).
public enum ErrorCode: UInt8, Hashable, Sendable, CaseIterable {
    /// Another user has this name (names compare case-insensitively).
    case nameTaken = 1
    /// The name breaks the naming rules.
    case invalidName = 2
    /// No user has that name.
    case noSuchUser = 3
    /// You are not in that room.
    case notInRoom = 4
    /// The text or message is over the limit.
    case messageTooLarge = 5
    /// The relay has no room for another user.
    case serverFull = 6
    /// Only HELLO is accepted until the relay has sent WELCOME.
    case notJoined = 7
    /// The request makes no sense here (a second HELLO, a heartbeat over UDP, ...).
    case badRequest = 8
    /// The HELLO's protocol version is not supported.
    case unsupportedVersion = 9
    /// The room name breaks the naming rules.
    case invalidRoom = 10
    /// Joining would exceed `ChatLimits.maximumRoomsPerUser`.
    case tooManyRooms = 11
    /// The request needs a right the user lacks: operator of the room, or relay administrator.
    case notOperator = 12
    /// A ban matches the user's session or address (room: JOIN refused; relay: HELLO refused).
    case banned = 13
    /// The room is invite-only (`+i`) and the user was not invited.
    case inviteOnly = 14
    /// The room has a key (`+k`) and the JOIN did not carry it.
    case badKey = 15
    /// The room is moderated (`+m`) and the user is not voiced, or the user is muted: the SAY was not routed.
    case cannotSpeak = 16
    /// HELLO or NICK asks for a name held by a session with another identity key (Specs/chat-protocol.md
    /// section 4.10); never a takeover, even with the holder's session secret.
    case nameKeyMismatch = 18
    /// SEALED_PRIVATE from, or to, a session without an identity key (a plaintext session), or with a
    /// sealed message of an impossible length.
    case noIdentityKey = 19
    /// HELLO or NICK asks for a registered name (or a look-alike of one) that the session's identity
    /// key does not own: join under another name and use `/identify NAME PASSWORD` (section 4.11.5).
    case nameRegistered = 21
    /// ACCOUNT with a wrong password (or one the account does not have).
    case badPassword = 22
    /// Too many failed password attempts for this name or from this address; try again later.
    case tooManyAttempts = 23
    /// ACCOUNT about a name that is not registered, or a session that does not own the account.
    case notRegistered = 24
    /// The offline mailbox of the recipient is full: the PRIVATE was not stored.
    case mailboxFull = 25
    /// TCP: the first frame was plaintext and the relay accepts encrypted sessions only (it runs
    /// without `--allow-plaintext`); the stream is closed after it. Retrying cannot succeed.
    case encryptionRequired = 26
}

/// One row of ROOM_LIST.
public struct RoomSummary: Hashable, Sendable {
    /// The room, with its `#`.
    public var name: String
    /// How many users are in it.
    public var memberCount: Int
    /// Creates a row.
    public init(name: String, memberCount: Int) {
        self.name = name
        self.memberCount = memberCount
    }
}

/// One row of WHO_LIST.
public struct WhoEntry: Hashable, Sendable {
    /// The user's name.
    public var name: String
    /// How the user is connected.
    public var transport: TransportKind
    /// The user's address and port as the relay sees them, `127.0.0.1:53122` or `[::1]:53122`, in the row
    /// of the user who asked; empty in everyone else's row (Specs/chat-protocol.md, section 4.7).
    public var endpoint: String
    /// The relay's smoothed RTT to the user (UDP), or from heartbeat echoes (TCP); nil when unknown.
    /// Sent in whole microseconds.
    public var roundTripTime: Duration?
    /// The rooms the user is in.
    public var rooms: [String]
    /// Creates a row.
    public init(name: String, transport: TransportKind, endpoint: String, roundTripTime: Duration?, rooms: [String]) {
        self.name = name
        self.transport = transport
        self.endpoint = endpoint
        self.roundTripTime = roundTripTime
        self.rooms = rooms
    }
}

/// Everything the relay sends to a client. One value is one Datagram message or one TCP frame.
public enum RelayMessage: Hashable, Sendable {
    /// Type 0x81: HELLO accepted under `name`; peers silent for `peerTimeout` are removed
    /// (sent in whole milliseconds). Room joins follow as NOTICE `roomJoined`.
    case welcome(name: String, defaultRoom: String, peerTimeout: Duration)
    /// Type 0x82: someone said something in a room you are in. Never echoed to its sender.
    /// `sender` is the relay-assigned id of the sender's session (never its secret).
    case message(room: String, from: String, sender: SenderID, messageID: UInt64, flags: MessageFlags, text: String)
    /// Type 0x83: someone said something to you only.
    case privateMessage(from: String, sender: SenderID, messageID: UInt64, flags: MessageFlags, text: String)
    /// Type 0x90: a line of a room's history, said at `time` (Specs/chat-protocol.md, section 4.11):
    /// sent on joining a room and in answer to HISTORY; oldest first.
    case history(PastMessage)
    /// Type 0x91: the highest SAY/PRIVATE id of your session the relay holds in its data directory
    /// (0: none); sent right before WELCOME by a relay with storage (section 4.11, "Exactly once").
    case storedUpTo(UInt64)
    /// Type 0x92: your PRIVATE `messageID` to `to` was shown there (a RECEIPT from its client).
    case delivered(to: String, messageID: UInt64)
    /// Type 0x84: an event about a user or room.
    case notice(Notice)
    /// Type 0x85: a request was refused; `messageID` names the SAY or PRIVATE refused, or is 0.
    case error(code: ErrorCode, messageID: UInt64, text: String)
    /// Type 0x86: the rooms that exist, with their member counts.
    case roomList([RoomSummary])
    /// Type 0x87: users of `room` (or everyone when `room` is empty); long lists come in several.
    case whoList(room: String, entries: [WhoEntry])
    /// Type 0x88: a HEARTBEAT's timestamp, returned unchanged.
    case heartbeatEcho(timestamp: UInt64)
    /// Type 0x89 (TCP only): the relay has handled every SAY and PRIVATE up to this message id.
    case received(upTo: UInt64)
    /// Type 0x8A: the bans of `room` (empty: of the relay), answering MODERATE `bans`.
    case banList(room: String, entries: [BanEntry])
    /// Type 0x8C: the answer to WHOIS: who holds the name and the identity key of that session.
    case whoisReply(WhoisEntry)
    /// Type 0x8D: an end-to-end sealed private message from `from`, forwarded as the sender sealed it.
    /// The relay cannot read it; the recipient opens it and checks the key inside (Specs/noise.md 6.1).
    case sealedPrivateMessage(from: String, sender: SenderID, messageID: UInt64, sealed: [UInt8])
    /// Type 0x93: a sealed private message the relay kept and delivers later (an offline message, or one
    /// sent again after a relay restart), with `time`, when the relay took it in (milliseconds since the
    /// epoch, UTC). The time is the relay's, outside the ciphertext (section 4.11).
    case sealedPastMessage(from: String, sender: SenderID, messageID: UInt64, time: UInt64, sealed: [UInt8])
    /// Type 0x98: a file offered to you (section 4.12).
    case fileOffered(FileOffered)
    /// Type 0x99 (to the sender): `by` accepted offer `offerID` as transfer `transfer`; send from `offset`,
    /// never past `limit`.
    case fileAccepted(offerID: UInt64, transfer: UInt64, by: String, offset: UInt64, limit: UInt64)
    /// Type 0x9A: an offer (`transfer` 0) or one transfer ended; `offerID` is 0 toward recipients.
    case fileCancelled(offerID: UInt64, transfer: UInt64, reason: FileCancelReason, by: String, text: String)
    /// Type 0x9B (to the recipient): bytes `offset..<offset+bytes.count` of a transfer.
    case fileChunk(transfer: UInt64, offset: UInt64, bytes: [UInt8])
    /// Type 0x9C (to the sender): the recipient has `confirmed` bytes; send up to `limit`.
    case fileCredit(transfer: UInt64, confirmed: UInt64, limit: UInt64)
    /// Type 0x9D (to the sender): `by` checked the whole file.
    case fileDone(transfer: UInt64, by: String, result: FileResult)
}

/// WHOIS_REPLY (Specs/chat-protocol.md section 4.10).
public struct WhoisEntry: Hashable, Sendable {
    /// The name as asked in WHOIS.
    public var asked: String
    /// The name as its holder spells it; empty when nobody holds the asked name.
    public var name: String
    /// How the holder is connected (`udp` when nobody holds it).
    public var transport: TransportKind
    /// The identity key the holder proved in its handshake; nil for a plaintext session (or nobody).
    public var key: IdentityKey?

    /// Creates an answer.
    public init(asked: String, name: String, transport: TransportKind, key: IdentityKey?) {
        self.asked = asked
        self.name = name
        self.transport = transport
        self.key = key
    }

    /// True when somebody holds the asked name.
    public var isFound: Bool { !name.isEmpty }
}

/// A line of a room's history as HISTORY carries it.
public struct PastMessage: Hashable, Sendable {
    public var room: String
    public var from: String
    public var sender: SenderID
    public var messageID: UInt64
    public var flags: MessageFlags
    public var text: String
    /// When the relay took it in: milliseconds since 1970-01-01 00:00:00 UTC.
    public var time: UInt64
    /// True in an answer to HISTORY (shown even if shown before); false in the history sent on
    /// joining a room (the client hides lines it already showed).
    public var isAsked: Bool

    public init(room: String, from: String, sender: SenderID, messageID: UInt64, flags: MessageFlags, text: String, time: UInt64,
                isAsked: Bool = false) {
        self.isAsked = isAsked
        self.room = room
        self.from = from
        self.sender = sender
        self.messageID = messageID
        self.flags = flags
        self.text = text
        self.time = time
    }
}
