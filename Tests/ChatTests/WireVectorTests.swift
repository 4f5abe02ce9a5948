import Chat
import Testing

/// A vector from Specs/chat-protocol.md, section 7: a message and its exact bytes.
struct WireVector<Message: Hashable & Sendable>: Sendable, CustomTestStringConvertible {
    let name: String
    let message: Message
    let bytes: [UInt8]

    init(_ name: String, _ message: Message, _ hex: String) {
        self.name = name
        self.message = message
        self.bytes = hex.split(separator: " ").map { UInt8($0, radix: 16)! }
    }

    var testDescription: String { name }
}

private let alice = SessionSecret(rawValue: 0x0123_4567_89AB_CDEF)
private let bob = SenderID(rawValue: 0x1111_2222_3333_4444)
/// Specs/noise.md section 7.9: the sealed private message vector, carried by SEALED_PRIVATE (section 4.10).
private let sealedVector = "49 3e 82 fc 74 46 4a 59 26 88 17 62 3d 20 53 c5 eb 8e 2c c4 a9 88 b4 fe e1 79 ec 6b 01 0d 53 1d 0f 4d 83 df ab 3c 69 39 0a 4f 70 c4 1d 2d 09 b7 40 27 3f 9c 8a f2 f7 0c aa 0d 38 22 97 23 9e 4c a0 aa 43 e6 dc 08 bd 60 f1 3b 4c d5 0b 51 f7 bb 2c 28 08 dd 02 7c 02 09 58 ce 02 0f 93 e1 96 80 1e 8e 68 67 dd 94 25 c4 2f 2d 9c 29 82 05 d4 41 56 2d 5a 3d b8 41 fc".split(separator: " ").map { UInt8($0, radix: 16)! }
private let relayKeyVector = IdentityKey(hex: "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a")!

let clientVectors: [WireVector<ClientMessage>] = [
    WireVector("MODERATE kick", .moderate(Moderation(.kick, room: "#class", target: "bob", text: "spam")),
               "0b 07 00 06 23 63 6c 61 73 73 00 03 62 6f 62 00 00 00 00 00 04 73 70 61 6d"),
    WireVector("MODERATE ban", .moderate(Moderation(.ban, room: "#class", target: "10.9.0.0/16", durationSeconds: 3600, text: "flood")),
               "0b 08 00 06 23 63 6c 61 73 73 00 0b 31 30 2e 39 2e 30 2e 30 2f 31 36 00 00 0e 10 00 05 66 6c 6f 6f 64"),
    WireVector("JOIN_ROOM_KEY", .joinRoomWithKey(room: "#class", key: "s3cret"),
               "0c 00 06 23 63 6c 61 73 73 00 06 73 33 63 72 65 74"),
    WireVector("HELLO", .hello(Hello(sessionSecret: alice, name: "alice", rooms: ["#lobby"], software: "chat 1.0")),
               "01 01 01 23 45 67 89 ab cd ef 00 05 61 6c 69 63 65 01 00 06 23 6c 6f 62 62 79 00 08 63 68 61 74 20 31 2e 30"),
    WireVector("SAY", .say(room: "#lobby", messageID: 1, flags: [], text: "hello"),
               "02 00 06 23 6c 6f 62 62 79 00 00 00 00 00 00 00 01 00 00 05 68 65 6c 6c 6f"),
    WireVector("SAY action", .say(room: "#lobby", messageID: 2, flags: .action, text: "waves"),
               "02 00 06 23 6c 6f 62 62 79 00 00 00 00 00 00 00 02 01 00 05 77 61 76 65 73"),
    WireVector("PRIVATE", .privateMessage(to: "bob", messageID: 3, flags: [], text: "psst"),
               "03 00 03 62 6f 62 00 00 00 00 00 00 00 03 00 00 04 70 73 73 74"),
    WireVector("JOIN_ROOM", .joinRoom("#rust"),
               "04 00 05 23 72 75 73 74"),
    WireVector("PART_ROOM", .partRoom("#rust"),
               "05 00 05 23 72 75 73 74"),
    WireVector("LIST_ROOMS", .listRooms,
               "06"),
    WireVector("WHO", .who(room: ""),
               "07 00 00"),
    WireVector("NICK", .nick("alice2"),
               "08 00 06 61 6c 69 63 65 32"),
    WireVector("QUIT", .quit(reason: "bye"),
               "09 00 03 62 79 65"),
    WireVector("HEARTBEAT", .heartbeat(timestamp: 1_000_000, roundTripTime: .microseconds(2500)),
               "0a 00 00 00 00 00 0f 42 40 00 00 09 c4"),
    WireVector("WHOIS", .whois(name: "bob"), "0e 00 03 62 6f 62"),
    WireVector("SEALED_PRIVATE", .sealedPrivate(to: "bob", messageID: 1, sealed: sealedVector), "0f 00 03 62 6f 62 00 00 00 00 00 00 00 01 00 77 49 3e 82 fc 74 46 4a 59 26 88 17 62 3d 20 53 c5 eb 8e 2c c4 a9 88 b4 fe e1 79 ec 6b 01 0d 53 1d 0f 4d 83 df ab 3c 69 39 0a 4f 70 c4 1d 2d 09 b7 40 27 3f 9c 8a f2 f7 0c aa 0d 38 22 97 23 9e 4c a0 aa 43 e6 dc 08 bd 60 f1 3b 4c d5 0b 51 f7 bb 2c 28 08 dd 02 7c 02 09 58 ce 02 0f 93 e1 96 80 1e 8e 68 67 dd 94 25 c4 2f 2d 9c 29 82 05 d4 41 56 2d 5a 3d b8 41 fc"),
    WireVector("RECEIPT", .receipt(sender: bob, messageID: 8),
               "12 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 08"),
    WireVector("ACCOUNT identify", .account(AccountRequest(.identify, name: "alice", password: "sesame42")),
               "13 02 00 05 61 6c 69 63 65 00 08 73 65 73 61 6d 65 34 32 00 00"),
    WireVector("HISTORY", .history(room: "#class", count: 50, since: 1_790_000_000_000),
               "11 00 06 23 63 6c 61 73 73 00 32 00 00 01 a0 c4 50 6c 00"),
]

let relayVectors: [WireVector<RelayMessage>] = [
    WireVector("NOTICE moderation", .notice(Notice(kind: .moderation, name: "alice", room: "#class", endpoint: "bob",
                                                   detail: "kicked bob: spam")),
               "84 0b 00 05 61 6c 69 63 65 00 06 23 63 6c 61 73 73 00 03 62 6f 62 00 10 6b 69 63 6b 65 64 20 62 6f 62 3a 20 73 70 61 6d"),
    WireVector("ERROR cannotSpeak", .error(code: .cannotSpeak, messageID: 4, text: "#class is moderated"),
               "85 10 00 00 00 00 00 00 00 04 00 13 23 63 6c 61 73 73 20 69 73 20 6d 6f 64 65 72 61 74 65 64"),
    WireVector("BAN_LIST", .banList(room: "#class", entries: [
        BanEntry(mask: "id:c99d5b12a20b0827", setBy: "alice", secondsLeft: 3600, reason: "flood")]),
               "8a 00 06 23 63 6c 61 73 73 00 01 00 13 69 64 3a 63 39 39 64 35 62 31 32 61 32 30 62 30 38 32 37 00 05 61 6c 69 63 65 00 00 0e 10 00 05 66 6c 6f 6f 64"),
    WireVector("WELCOME", .welcome(name: "alice", defaultRoom: "#lobby", peerTimeout: .seconds(10)),
               "81 00 05 61 6c 69 63 65 00 06 23 6c 6f 62 62 79 00 00 27 10"),
    WireVector("MESSAGE", .message(room: "#lobby", from: "bob", sender: bob, messageID: 7, flags: [], text: "hi"),
               "82 00 06 23 6c 6f 62 62 79 00 03 62 6f 62 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 07 00 00 02 68 69"),
    WireVector("PRIVATE_MESSAGE", .privateMessage(from: "bob", sender: bob, messageID: 8, flags: [], text: "psst"),
               "83 00 03 62 6f 62 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 08 00 00 04 70 73 73 74"),
    WireVector("NOTICE", .notice(Notice(kind: .joined, name: "bob", room: "#lobby", endpoint: "udp")),
               "84 01 00 03 62 6f 62 00 06 23 6c 6f 62 62 79 00 03 75 64 70 00 00"),
    WireVector("ERROR", .error(code: .noSuchUser, messageID: 3, text: "no such user: carol"),
               "85 03 00 00 00 00 00 00 00 03 00 13 6e 6f 20 73 75 63 68 20 75 73 65 72 3a 20 63 61 72 6f 6c"),
    WireVector("ROOM_LIST", .roomList([RoomSummary(name: "#lobby", memberCount: 2)]),
               "86 00 01 00 06 23 6c 6f 62 62 79 00 00 00 02"),
    WireVector("WHO_LIST", .whoList(room: "#lobby", entries: [
        WhoEntry(name: "bob", transport: .udp, endpoint: "127.0.0.1:53122", roundTripTime: .microseconds(1234), rooms: ["#lobby"]),
        WhoEntry(name: "carol", transport: .tcp, endpoint: "", roundTripTime: nil, rooms: ["#lobby", "#rust"]),
    ]),
               "87 00 06 23 6c 6f 62 62 79 00 02 00 03 62 6f 62 00 00 0f 31 32 37 2e 30 2e 30 2e 31 3a 35 33 31 32 32 00 00 04 d2 01 00 06 23 6c 6f 62 62 79 00 05 63 61 72 6f 6c 01 00 00 ff ff ff ff 02 00 06 23 6c 6f 62 62 79 00 05 23 72 75 73 74"),
    WireVector("HEARTBEAT_ECHO", .heartbeatEcho(timestamp: 1_000_000),
               "88 00 00 00 00 00 0f 42 40"),
    WireVector("DELIVERED", .delivered(to: "bob", messageID: 3),
               "92 00 03 62 6f 62 00 00 00 00 00 00 00 03"),
    WireVector("STORED_UP_TO", .storedUpTo(42),
               "91 00 00 00 00 00 00 00 2a"),
    WireVector("NOTICE storedOffline", .notice(Notice(kind: .storedOffline, name: "alice", detail: "7")),
               "84 13 00 05 61 6c 69 63 65 00 00 00 00 00 01 37"),
    WireVector("HISTORY_LINE", .history(PastMessage(room: "#class", from: "bob", sender: bob, messageID: 7, flags: [], text: "hi",
                                                    time: 1_790_000_000_000, isAsked: true)),
               "90 00 06 23 63 6c 61 73 73 00 03 62 6f 62 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 07 00 00 02 68 69 00 00 01 a0 c4 50 6c 00 01"),
    WireVector("RECEIVED", .received(upTo: 8),
               "89 00 00 00 00 00 00 00 08"),
    WireVector("WHOIS_REPLY", .whoisReply(WhoisEntry(asked: "bob", name: "bob", transport: .udp, key: relayKeyVector)),
               "8c 00 03 62 6f 62 00 03 62 6f 62 00 20 79 a6 31 ee de 1b f9 c9 8f 12 03 2c de ad d0 e7 a0 79 39 8f c7 86 b8 8c c8 46 ec 89 af 85 a5 1a"),
    WireVector("SEALED_PRIVATE_MESSAGE", .sealedPrivateMessage(from: "alice", sender: bob, messageID: 1, sealed: sealedVector),
               "8d 00 05 61 6c 69 63 65 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 01 00 77 49 3e 82 fc 74 46 4a 59 26 88 17 62 3d 20 53 c5 eb 8e 2c c4 a9 88 b4 fe e1 79 ec 6b 01 0d 53 1d 0f 4d 83 df ab 3c 69 39 0a 4f 70 c4 1d 2d 09 b7 40 27 3f 9c 8a f2 f7 0c aa 0d 38 22 97 23 9e 4c a0 aa 43 e6 dc 08 bd 60 f1 3b 4c d5 0b 51 f7 bb 2c 28 08 dd 02 7c 02 09 58 ce 02 0f 93 e1 96 80 1e 8e 68 67 dd 94 25 c4 2f 2d 9c 29 82 05 d4 41 56 2d 5a 3d b8 41 fc"),
    WireVector("SEALED_PAST_MESSAGE", .sealedPastMessage(from: "alice", sender: bob, messageID: 1, time: 1_790_000_000_000,
                                                        sealed: sealedVector),
               "93 00 05 61 6c 69 63 65 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 01 00 00 01 a0 c4 50 6c 00 00 77 49 3e 82 fc 74 46 4a 59 26 88 17 62 3d 20 53 c5 eb 8e 2c c4 a9 88 b4 fe e1 79 ec 6b 01 0d 53 1d 0f 4d 83 df ab 3c 69 39 0a 4f 70 c4 1d 2d 09 b7 40 27 3f 9c 8a f2 f7 0c aa 0d 38 22 97 23 9e 4c a0 aa 43 e6 dc 08 bd 60 f1 3b 4c d5 0b 51 f7 bb 2c 28 08 dd 02 7c 02 09 58 ce 02 0f 93 e1 96 80 1e 8e 68 67 dd 94 25 c4 2f 2d 9c 29 82 05 d4 41 56 2d 5a 3d b8 41 fc"),
]

/// Specs/chat-protocol.md, section 7: Every vector decodes to its message and encodes to its bytes; the spec shows
/// exactly the tested vectors.
@Test(arguments: clientVectors)
func clientMessageEncodesToVector(_ vector: WireVector<ClientMessage>) {
    #expect(vector.message.encoded() == vector.bytes)
}

/// Specs/chat-protocol.md, section 7: Every vector decodes to its message and encodes to its bytes; the spec shows
/// exactly the tested vectors.
@Test(arguments: clientVectors)
func clientMessageDecodesFromVector(_ vector: WireVector<ClientMessage>) throws {
    #expect(try ClientMessage(decoding: vector.bytes) == vector.message)
}

/// Specs/chat-protocol.md, section 7: Every vector decodes to its message and encodes to its bytes; the spec shows
/// exactly the tested vectors.
@Test(arguments: relayVectors)
func relayMessageEncodesToVector(_ vector: WireVector<RelayMessage>) {
    #expect(vector.message.encoded() == vector.bytes)
}

/// Specs/chat-protocol.md, section 7: Every vector decodes to its message and encodes to its bytes; the spec shows
/// exactly the tested vectors.
@Test(arguments: relayVectors)
func relayMessageDecodesFromVector(_ vector: WireVector<RelayMessage>) throws {
    #expect(try RelayMessage(decoding: vector.bytes) == vector.message)
}
