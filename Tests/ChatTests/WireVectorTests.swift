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

let clientVectors: [WireVector<ClientMessage>] = [
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
]

let relayVectors: [WireVector<RelayMessage>] = [
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
    WireVector("RECEIVED", .received(upTo: 8),
               "89 00 00 00 00 00 00 00 08"),
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
