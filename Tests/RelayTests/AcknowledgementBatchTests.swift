import Chat
import Datagram
import Relay
import Testing

/// Specs/reliability.md, "Acknowledgements": the relay acknowledges a batch of datagrams read together once
/// (`RelayCore.handleDatagrams`), and still forwards every message in it.
@Test func theRelayAcknowledgesABatchReadTogetherOnceAndForwardsAllOfIt() throws {
    var relay = RelayHarness()
    let alice = relay.joinUDP("alice", port: 5001, rooms: ["#lobby"])
    let bob = relay.joinUDP("bob", port: 5002, rooms: ["#lobby"])
    _ = relay.takeUDP(alice)
    _ = relay.takeUDP(bob)
    relay.run(for: .milliseconds(50))
    for index in 0..<6 {
        _ = try relay.udp.connections[alice]?.send(ClientMessage.say(room: "#lobby", messageID: UInt64(index + 1), flags: [], text: "line \(index)").encoded(), at: relay.now)
    }
    var batch: [(bytes: [UInt8], from: Endpoint)] = []
    while let bytes = relay.udp.connections[alice]?.pollTransmit(at: relay.now) { batch.append((bytes, alice)) }
    try #require(batch.count >= 4)
    relay.core.handleDatagrams(batch, at: relay.now)
    relay.collect()
    let toAlice = relay.datagrams.filter { $0.to == alice }.compactMap { PacketHeader.peek($0.bytes)?.type }
    #expect(toAlice == [.ack], "one ACK for \(batch.count) datagrams, not one per second packet")
    relay.datagrams = relay.datagrams.filter { $0.to != alice }
    let delivered = relay.takeUDP(bob).compactMap { if case let .message(_, _, _, _, _, text) = $0 { text } else { nil } }
    #expect(delivered == (0..<6).map { "line \($0)" })
}
