import Chat
import Datagram
import LibCrypto
import Noise
@testable import Relay
import Testing

// Issue 10, sealed TCP and large messages (Specs/chat-protocol.md sections 5.1 and 6): one chat
// message limit everywhere, 65,519 bytes, what one sealed TCP frame carries. The relay builds and
// pages every reply within it, so nothing it sends is too large for a sealed stream.

private let crypto = LibCryptoNoise()
private let relayKeys = try! crypto.keyPair(privateKey: Array(0x40...0x5F))
private let bobKeys = try! crypto.keyPair(privateKey: Array(0x20...0x3F))

/// A relay with sealing that also admits the plaintext fillers, with room for many rooms.
private func crowdedRelay() -> RelayHarness {
    var configuration = RelayConfiguration()
    configuration.connection.sealing = Sealing(crypto: crypto, staticKeyPair: relayKeys)
    configuration.allowsPlaintext = true
    configuration.maximumRooms = 4_000
    configuration.maximumPeers = 1_000
    configuration.maximumConnectionsPerAddress = 1_000
    configuration.maximumHandshakesPerAddress = 1_000
    return RelayHarness(configuration: configuration)
}

/// Runs the XX handshake of a sealed stream at `port` by hand; returns the session and a reader of
/// the frames the relay writes to it.
private struct SealedReader {
    let endpoint: Endpoint
    var session: NoiseSession
    var decoder = FrameDecoder()
    /// Every payload the relay wrote to this stream, sealed, as it was on the wire.
    var rawPayloads: [[UInt8]] = []

    init(_ relay: inout RelayHarness, port: UInt16) throws {
        endpoint = RelayHarness.tcp(port)
        relay.core.handleStreamOpened(endpoint, at: relay.now)
        var handshake = try HandshakeState(pattern: .xx, role: .initiator, prologue: Sealing.prologue(connectionID: nil),
                                           localStatic: bobKeys, crypto: crypto)
        relay.core.handleStreamBytes(Framing.frame([0x00] + (try handshake.writeMessage())), from: endpoint, at: relay.now)
        var second: [UInt8] = []
        var decoder = FrameDecoder()
        while let action = relay.core.pollAction() {
            if case let .sendStream(bytes, to) = action, to == endpoint { decoder.append(bytes) }
        }
        if let frame = try decoder.nextFrame() { second = frame }
        _ = try handshake.readMessage(second)
        relay.core.handleStreamBytes(Framing.frame(try handshake.writeMessage()), from: endpoint, at: relay.now)
        session = try handshake.split()
    }

    mutating func send(_ message: ClientMessage, to relay: inout RelayHarness) throws {
        relay.core.handleStreamBytes(Framing.frame(try session.encrypt(message.encoded())), from: endpoint, at: relay.now)
    }

    /// The chat messages the relay sent since the last call, each opened.
    mutating func receive(from relay: inout RelayHarness) throws -> [[UInt8]] {
        while let action = relay.core.pollAction() {
            if case let .sendStream(bytes, to) = action, to == endpoint { decoder.append(bytes) }
        }
        var opened: [[UInt8]] = []
        while let frame = try decoder.nextFrame() {
            rawPayloads.append(frame)
            opened.append(try session.decrypt(frame))
        }
        return opened
    }
}

/// Specs/chat-protocol.md, section 6 (and 5.1), relay → client: a ROOM_LIST of 1,792 rooms (68 KB
/// in one message) reaches a sealed TCP client whole, in pages that each fit one sealed frame. Before
/// the chat limit was lowered to 65,519 bytes, the relay built a 65,5xx-byte page and dropped it with
/// only a log line.
@Test func aLongRoomListReachesASealedStreamWholeInPagesThatFitOneSealedFrame() throws {
    var relay = crowdedRelay()
    var rooms: Set<String> = []
    for user in 0..<112 {
        let names = (0..<16).map { "#" + String(repeating: "r", count: 22) + String(10_000 + user) + String(1_000 + $0) }
        rooms.formUnion(names)
        relay.joinTCP("filler\(user)", port: UInt16(10_000 + user), rooms: names)
    }
    #expect(rooms.count == 1_792 && relay.core.rooms.count >= 1_792)
    var bob = try SealedReader(&relay, port: 4002)
    try bob.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 2), name: "bob")), to: &relay)
    _ = try bob.receive(from: &relay)
    try bob.send(.listRooms, to: &relay)
    let pages = try bob.receive(from: &relay)
    var listed: Set<String> = []
    for bytes in pages {
        #expect(bytes.count <= ChatLimits.maximumChatMessageSize)
        guard case let .roomList(entries) = try RelayMessage(decoding: bytes) else { Issue.record("not a ROOM_LIST"); continue }
        listed.formUnion(entries.map(\.name))
    }
    #expect(pages.count == 2)
    #expect(rooms.subtracting(listed).count == 0, "every room listed")
    #expect(bob.rawPayloads.allSatisfy { $0.count <= 65_535 })
    #expect(relay.core.statistics.oversizedNotSent == 0)
    #expect(relay.core.statistics.pagedReplies == 1)
}

/// Specs/chat-protocol.md, section 6: pages of any list stay within the chat message limit, for items
/// of every size up to a whole page, and hold every item once, in order.
@Test func pagesNeverExceedTheChatMessageLimit() {
    for itemSize in [1, 38, 633, 4_096, 65_000] {
        let items = Array(0..<(200_000 / itemSize + 3))
        let pages = RelayCore.pages(of: items, headerSize: 40) { _ in itemSize }
        #expect(pages.flatMap { $0 } == items)
        for page in pages { #expect(40 + page.count * itemSize <= ChatLimits.maximumChatMessageSize || page.count == 1) }
    }
}
