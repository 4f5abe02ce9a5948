import Chat
import Datagram
import Relay
import Testing

/// Specs/chat-protocol.md, section 4.3 step 3: SAY routed to every other member, not echoed; PRIVATE routed or
/// `noSuchUser`; RECEIVED over TCP.
@Test func everyMessageReachesEveryOtherMemberOnceAndInOrder() {
    var relay = RelayHarness()
    var users: [Endpoint] = []
    for index in 0..<12 {
        let port = UInt16(index % 3 == 0 ? 4000 + index : 5000 + index)
        users.append(index % 3 == 0 ? relay.joinTCP("tcp\(index)", port: port) : relay.joinUDP("udp\(index)", port: port))
    }
    for user in users { _ = user.transport == .tcp ? relay.take(user) : relay.takeUDP(user) }
    for round in 1...15 {
        for (index, user) in users.enumerated() {
            let say = ClientMessage.say(room: "#lobby", messageID: UInt64(round), flags: [], text: "\(index):\(round)")
            if user.transport == .tcp { relay.send(say, from: user) } else { relay.sendUDP(say, from: user) }
        }
    }
    relay.run(for: .seconds(1))
    for user in users {
        let inbox: [RelayMessage] = user.transport == .tcp ? relay.take(user) : relay.takeUDP(user)
        var received: [(String, UInt64)] = []
        for message in inbox {
            if case let .message(_, from, _, messageID, _, _) = message { received.append((from, messageID)) }
        }
        #expect(received.count == 11 * 15, "\(user)")
        for sender in Set(received.map { $0.0 }) {
            #expect(received.filter { $0.0 == sender }.map(\.1) == Array(1...15), "\(sender) → \(user)")
        }
    }
    #expect(relay.core.statistics.messagesRouted == 12 * 15)
    #expect(relay.core.statistics.deliveries == 12 * 15 * 11)
}

/// Specs/chat-protocol.md, section 4.3 step 1: HELLO errors: the first that applies wins (badRequest, shutdown,
/// unsupportedVersion, invalidName, nameTaken; then tooManyRooms, invalidRoom); a refused HELLO MAY be retried.
/// Specs/chat-protocol.md, section 6: Limits: names, rooms, text, reason, rooms per user.
@Test func roomsPerUserAreLimited() {
    var relay = RelayHarness()
    let alice = RelayHarness.tcp(4001)
    relay.open(alice)
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 1), name: "alice", rooms: (0..<17).map { "#r\($0)" })), from: alice)
    let replies = relay.take(alice)
    #expect(replies.compactMap(\.errorCode) == [.tooManyRooms])
    #expect(replies.compactMap(\.notice).filter { $0.kind == .roomJoined }.count == 16)
    relay.send(.joinRoom("#one-too-many"), from: alice)
    #expect(relay.take(alice).map(\.errorCode) == [.tooManyRooms])
}
