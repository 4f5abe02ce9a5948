import Chat
import Datagram
import Relay
import Testing

/// Issue 8 item 4, replayed against `RelayCore` with scripted time: one host must not be able to
/// take the relay's slots, names and rooms, and no reply may outgrow the protocol's maximum message.
@Suite("Limits per address, HELLO deadline, rooms, replies that fit")
struct AddressLimitTests {
    static func endpoint(_ transport: TransportKind, _ address: [UInt8], _ port: UInt16) -> Endpoint {
        Endpoint(transport: transport, address: address, port: port)
    }

    static let attacker: [UInt8] = [203, 0, 113, 7]
    static let neighbour: [UInt8] = [198, 51, 100, 9]

    static func hello(_ name: String, session: UInt64, rooms: [String] = []) -> ClientMessage {
        .hello(Hello(sessionSecret: SessionSecret(rawValue: session), name: name, rooms: rooms))
    }

    /// Specs/chat-protocol.md, section 6.1: Per-address connection and handshake limits (UDP CLOSE 4, TCP
    /// serverFull), rooms on the relay, rooms per user.
    @Test func oneAddressCannotHoldMoreThanItsShareOfConnections() {
        var configuration = RelayConfiguration()
        configuration.maximumConnectionsPerAddress = 3
        var relay = RelayHarness(configuration: configuration)
        for port in UInt16(1)...3 {
            let stream = Self.endpoint(.tcp, Self.attacker, port)
            relay.open(stream)
            relay.send(Self.hello("squatter\(port)", session: UInt64(port)), from: stream)
        }
        let fourth = Self.endpoint(.tcp, Self.attacker, 4)
        relay.open(fourth)
        #expect(relay.take(fourth).map(\.errorCode) == [.serverFull])
        #expect(relay.closedStreams == [fourth])
        #expect(relay.core.statistics.addressLimitRefusals == 1)

        // The limit counts UDP and TCP together: a UDP handshake from the same address is refused (CLOSE 4).
        let udpEndpoint = Self.endpoint(.udp, Self.attacker, 9)
        relay.udp.connections[udpEndpoint] = Connection(role: .client, id: ConnectionID(rawValue: 99), now: relay.now)
        relay.pump()
        #expect(relay.udp.closeReasons[udpEndpoint] == .peer(code: .refused))

        // Another host is not affected.
        let other = Self.endpoint(.tcp, Self.neighbour, 1)
        relay.open(other)
        relay.send(Self.hello("alice", session: 7), from: other)
        #expect(relay.take(other).first == .welcome(name: "alice", defaultRoom: "#lobby", peerTimeout: .seconds(10)))
    }

    /// Specs/chat-protocol.md, section 6.1: Per-address connection and handshake limits (an IPv6 /64 is one address;
    /// UDP CLOSE 4, TCP serverFull), rooms on the relay, rooms per user.
    @Test func anIPv6HostIsCountedByItsSlash64() {
        var configuration = RelayConfiguration()
        configuration.maximumConnectionsPerAddress = 2
        var relay = RelayHarness(configuration: configuration)
        let prefix: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1]
        for host in UInt8(1)...2 { relay.open(Self.endpoint(.tcp, prefix + [0, 0, 0, 0, 0, 0, 0, host], 1000)) }
        let sameSlash64 = Self.endpoint(.tcp, prefix + [9, 9, 9, 9, 9, 9, 9, 9], 1000)
        relay.open(sameSlash64)
        #expect(relay.take(sameSlash64).map(\.errorCode) == [.serverFull])
        let otherSlash64 = Self.endpoint(.tcp, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2] + [0, 0, 0, 0, 0, 0, 0, 1], 1000)
        relay.open(otherSlash64)
        #expect(relay.take(otherSlash64).isEmpty)
        #expect(relay.core.statistics.peers == 3)
    }

    /// Specs/chat-protocol.md, section 6.1: Per-address connection and handshake limits (UDP CLOSE 4, TCP
    /// serverFull), rooms on the relay, rooms per user.
    @Test func handshakesInProgressAreLimitedPerAddressAndJoiningFreesTheSlot() {
        var configuration = RelayConfiguration()
        configuration.maximumHandshakesPerAddress = 2
        var relay = RelayHarness(configuration: configuration)
        let first = Self.endpoint(.tcp, Self.attacker, 1), second = Self.endpoint(.tcp, Self.attacker, 2)
        relay.open(first)
        relay.open(second)
        let third = Self.endpoint(.tcp, Self.attacker, 3)
        relay.open(third)
        #expect(relay.take(third).map(\.errorCode) == [.serverFull])
        relay.send(Self.hello("alice", session: 1), from: first)
        let fourth = Self.endpoint(.tcp, Self.attacker, 4)
        relay.open(fourth)
        #expect(relay.take(fourth).isEmpty, "alice joined, so one handshake slot is free again")
        #expect(relay.closedStreams == [third])
    }

    /// Specs/chat-protocol.md, section 4.3 step 9: No accepted HELLO within the HELLO deadline: ERROR notJoined, then
    /// closed (UDP: CLOSE 2).
    @Test func aHostThatFillsEverySlotWithoutJoiningIsClosedAtTheHelloDeadline() {
        var configuration = RelayConfiguration()
        configuration.maximumPeers = 8
        var relay = RelayHarness(configuration: configuration)
        let alice = relay.joinTCP("alice", port: 4001)
        let squatters = (UInt16(1)...7).map { Self.endpoint(.tcp, Self.attacker, $0) }
        for squatter in squatters { relay.open(squatter) }
        let udpLate = relay.connectUDP(port: 5009)
        #expect(relay.udp.closeReasons[udpLate] == .peer(code: .refused), "full: a UDP newcomer is refused too")
        let bob = RelayHarness.tcp(4002)
        relay.open(bob)
        #expect(relay.take(bob).map(\.errorCode) == [.serverFull], "the relay is full of squatters")

        relay.advance(by: .seconds(5) - .milliseconds(1))
        relay.timeout()
        #expect(relay.core.statistics.peers == 8)
        relay.advance(by: .milliseconds(1))
        relay.run(for: .zero)
        #expect(relay.core.statistics.helloTimeouts == 7)
        for squatter in squatters {
            #expect(relay.take(squatter) == [.error(code: .notJoined, messageID: 0, text: "No HELLO within 5 s; closing")])
        }
        #expect(Set(relay.closedStreams) == Set(squatters + [bob]))
        #expect(relay.core.users.map(\.name) == ["alice"], "a joined user has no HELLO deadline")
        _ = relay.take(alice)

        let bobAgain = RelayHarness.tcp(4003)
        relay.open(bobAgain)
        relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 2), name: "bob")), from: bobAgain)
        #expect(relay.take(bobAgain).first == .welcome(name: "bob", defaultRoom: "#lobby", peerTimeout: .seconds(10)))
    }

    /// Specs/chat-protocol.md, section 4.3 step 9: No accepted HELLO within the HELLO deadline: ERROR notJoined, then
    /// closed (UDP: CLOSE 2).
    @Test func aUDPConnectionWithoutHelloIsClosedWithProtocolErrorAtTheDeadline() {
        var relay = RelayHarness()
        let lurker = relay.connectUDP(port: 5001)
        relay.run(for: .seconds(5) - .milliseconds(1))
        #expect(relay.udp.closeReasons[lurker] == nil)
        relay.run(for: .milliseconds(1))
        #expect(relay.udp.closeReasons[lurker] == .peer(code: .protocolError))
        #expect(relay.core.statistics.peers == 0)
    }

    /// Specs/chat-protocol.md, section 6.1: Per-address connection and handshake limits (UDP CLOSE 4, TCP
    /// serverFull), rooms on the relay, rooms per user.
    @Test func roomsOnTheRelayAreLimitedButExistingRoomsCanBeJoined() {
        var configuration = RelayConfiguration()
        configuration.maximumRooms = 3
        var relay = RelayHarness(configuration: configuration)
        let alice = relay.joinTCP("alice", port: 4001, rooms: ["#a", "#b"])
        let bob = relay.joinTCP("bob", port: 4002, rooms: ["#c"])
        _ = relay.take(alice)
        relay.send(.joinRoom("#d"), from: bob)
        #expect(relay.take(bob) == [.error(code: .tooManyRooms, messageID: 0,
                                           text: "The relay has its maximum of 3 rooms; join an existing one")])
        relay.send(.joinRoom("#a"), from: bob)
        #expect(relay.take(bob) == [.notice(Notice(kind: .roomJoined, room: "#a"))])
    }

    /// Specs/chat-protocol.md, section 6.1: Per-address connection and handshake limits (UDP CLOSE 4, TCP
    /// serverFull), rooms on the relay, rooms per user.
    @Test func roomsPerUserFollowTheConfiguration() {
        var configuration = RelayConfiguration()
        configuration.maximumRoomsPerUser = 2
        var relay = RelayHarness(configuration: configuration)
        let alice = relay.joinTCP("alice", port: 4001, rooms: ["#a", "#b"])
        relay.send(.joinRoom("#c"), from: alice)
        #expect(relay.take(alice) == [.error(code: .tooManyRooms, messageID: 0, text: "You are already in 2 rooms")])
    }

    /// 2,048 rooms of 32-byte names made ROOM_LIST 77 KB: over TCP the frame was refused as a bad frame.
    /// Specs/chat-protocol.md, section 6.1: Every reply fits: long ROOM_LIST and WHO_LIST are paged; an ERROR echoes
    /// at most 64 bytes of a field, cut at a character boundary.
    @Test func aLongRoomListIsPagedIntoMessagesThatFit() {
        var configuration = RelayConfiguration()
        configuration.maximumRooms = 4_096
        var relay = RelayHarness(configuration: configuration)
        var names: [String] = []
        for user in 0..<128 {
            let rooms = (0..<16).map { "#" + String(repeating: "r", count: 23) + String(format8(user * 16 + $0)) }
            names += rooms
            relay.joinTCP("user\(user)", port: UInt16(10_000 + user), rooms: rooms)
        }
        let alice = relay.joinTCP("alice", port: 4001)
        relay.send(.listRooms, from: alice)
        let replies = relay.take(alice)
        #expect(replies.count > 1)
        var listed: [String] = []
        for reply in replies {
            guard case let .roomList(rooms) = reply else { Issue.record("not a ROOM_LIST: \(reply)"); continue }
            #expect(reply.encoded().count <= ChatLimits.maximumChatMessageSize)
            listed += rooms.map(\.name)
        }
        #expect(listed == (names + ["#lobby"]).sorted())
        #expect(relay.core.statistics.pagedReplies == 1)
    }

    /// Specs/chat-protocol.md, section 6.1: Every reply fits: long ROOM_LIST and WHO_LIST are paged; an ERROR echoes
    /// at most 64 bytes of a field, cut at a character boundary.
    @Test func aLongWhoListIsPagedByBytesWhateverTheEntryLimitSays() {
        var configuration = RelayConfiguration()
        configuration.maximumWhoEntriesPerMessage = 100_000
        var relay = RelayHarness(configuration: configuration)
        for user in 0..<200 {
            let rooms = (0..<16).map { "#" + String(repeating: "w", count: 23) + String(format8(user % 3 * 16 + $0)) }
            relay.joinTCP("user-with-a-long-name-\(user)", port: UInt16(10_000 + user), rooms: rooms)
        }
        let alice = relay.joinTCP("alice", port: 4001)
        relay.send(.who(room: ""), from: alice)
        let replies = relay.take(alice)
        #expect(replies.count > 1)
        var count = 0
        for reply in replies {
            guard case let .whoList(_, entries) = reply else { Issue.record("not a WHO_LIST: \(reply)"); continue }
            #expect(reply.encoded().count <= ChatLimits.maximumChatMessageSize)
            count += entries.count
        }
        #expect(count == 201)
    }

    /// One ERROR echoed a 65 KB room name back, which no longer fit a message.
    /// Specs/chat-protocol.md, section 6.1: Every reply fits: long ROOM_LIST and WHO_LIST are paged; an ERROR echoes
    /// at most 64 bytes of a field, cut at a character boundary.
    @Test func anErrorNeverEchoesMoreThanABoundedPartOfTheInput() {
        var relay = RelayHarness()
        let alice = relay.joinTCP("alice", port: 4001)
        let huge = "#" + String(repeating: "x", count: 65_000)
        relay.send(.joinRoom(huge), from: alice)
        relay.send(.partRoom(huge), from: alice)
        relay.send(.privateMessage(to: String(repeating: "y", count: 65_000), messageID: 1, flags: [], text: "hi"), from: alice)
        relay.send(.nick(String(repeating: "z", count: 65_000)), from: alice)
        let replies = relay.take(alice).filter { $0.errorCode != nil }
        #expect(replies.map(\.errorCode) == [.invalidRoom, .notInRoom, .noSuchUser, .invalidName])
        for reply in replies {
            guard case let .error(_, _, text) = reply else { continue }
            #expect(text.utf8.count <= RelayCore.echoLimit + 100, "\(text)")
        }
        guard case let .error(_, _, text) = replies[0] else { return }
        // Echoed names are quoted, cut and marked with their full length (section 6.3's helper).
        #expect(text.hasPrefix("Invalid room name \"#xxxxxxxx"))
        #expect(text.contains("…(65001 bytes)"))
    }

    /// Specs/chat-protocol.md, section 6.1: Every reply fits: long ROOM_LIST and WHO_LIST are paged; an ERROR echoes
    /// at most 64 bytes of a field, cut at a character boundary.
    @Test func echoCutsAtACharacterBoundary() {
        let cut = RelayCore.echo(String(repeating: "é", count: 100))
        #expect(cut.utf8.count <= RelayCore.echoLimit)
        #expect(cut.hasSuffix("…"))
        #expect(RelayCore.echo("#short") == "#short")
    }
}

/// A fixed-width decimal, so that generated room names sort as they were made.
private func format8(_ value: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
