import Chat
import Datagram
import LinkSimulator
import Relay
import Testing

/// LinkSimulator's SplitMix64, for reproducible garbage.
private typealias Generator = SplitMix64

extension SplitMix64 {
    fileprivate init(state: UInt64) { self.init(seed: state) }
    fileprivate mutating func bytes(upTo limit: Int) -> [UInt8] {
        (0..<Int(next() % UInt64(limit))).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

/// Specs/wire-format.md, section 4: What a forger can do never crashes an endpoint nor takes it over its memory
/// budget.
/// Specs/chat-protocol.md, section 2: An undecodable message (an empty frame too) is counted and dropped, with no
/// answer; the stream stays open.
@Test(arguments: [1, 2, 3, 0xFEED] as [UInt64])
func garbageFromStrangersNeverDisturbsAConversation(seed: UInt64) {
    var generator = Generator(state: seed)
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001)
    let bob = relay.joinTCP("bob", port: 4002)
    _ = relay.takeUDP(alice)
    for round in 0..<300 {
        let port = UInt16(6000 + generator.next() % 20)
        if generator.next() % 2 == 0 {
            relay.core.handleDatagram(generator.bytes(upTo: 80), from: RelayHarness.udp(port), at: relay.now)
        } else {
            let stranger = RelayHarness.tcp(port)
            if round % 7 == 0 { relay.core.handleStreamOpened(stranger, at: relay.now) }
            var payload = generator.bytes(upTo: 40)
            if generator.next() % 3 == 0, !payload.isEmpty { payload[0] = UInt8(1 + generator.next() % 10) }
            relay.core.handleStreamBytes(Framing.frame(payload), from: stranger, at: relay.now)
        }
        relay.collect()
    }
    relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "still here"), from: alice)
    #expect(relay.take(bob).last == .message(room: "#lobby", from: "alice", sender: RelayHarness.sender(5001), messageID: 1,
                                            flags: [], text: "still here"), "seed \(seed)")
    relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "me too"), from: bob)
    #expect(relay.takeUDP(alice).last == .message(room: "#lobby", from: "bob", sender: RelayHarness.sender(4002), messageID: 1,
                                                 flags: [], text: "me too"), "seed \(seed)")
}
