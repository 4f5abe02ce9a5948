import Testing
@testable import Datagram

@Suite("A virtual pair delivers end to end")
struct EndToEndPairTests {
    /// Specs/wire-format.md, section 6: The handshake: HELLO, COOKIE (no state kept), HELLO with the cookie, WELCOME.
    @Test("the handshake completes through the cookie jar")
    func handshake() {
        var pair = VirtualPair()
        pair.run(until: .milliseconds(5000)) { $0.server == nil || $0.client.state != .established }
        #expect(pair.client.state == .established)
        #expect(pair.server?.state == .established)
        #expect(pair.clientEvents.contains(.connected))
        #expect(pair.serverEvents.contains(.connected))
    }

    /// Specs/reliability.md, "Deciding that a packet is lost": Packet threshold 3; time threshold 9/8 × max(smoothed,
    /// latest RTT) with a loss timer; the fragment goes again in a new packet; unreliable fragments never go again.
    @Test("messages arrive once, in order, even when one packet is dropped by hand")
    func droppedPacketIsRetransmitted() throws {
        var pair = VirtualPair(clientFirstPacketNumber: UInt32.max - 3)
        // Client datagrams: 0 HELLO, 1 HELLO+cookie, 2.. DATA. Drop the second DATA packet.
        pair.drop = { direction, index in direction == .toServer && index == 3 }
        let messages = (0..<20).map { index in [UInt8](repeating: UInt8(index), count: 100 + index) }
        for message in messages { try pair.client.send(message, at: pair.now) }
        pair.run(until: .milliseconds(20_000)) { $0.serverMessages.count < messages.count }
        #expect(pair.serverMessages == messages)
        pair.run(until: pair.now + .seconds(1))
        #expect(pair.client.isIdle)
        #expect(pair.client.statistics.retransmissions >= 1)
        #expect(pair.client.statistics.packetsLost >= 1)
    }

    /// Specs/wire-format.md, section 5: The largest message is exactly 65,536 bytes (57 fragments, the last at most
    /// 688); `send` refuses more with `messageTooLarge` before queueing; an empty message is one empty fragment; no
    /// datagram over 1200 bytes.
    @Test("a large fragmented message crosses both ways")
    func fragmentedRoundTrip() throws {
        var pair = VirtualPair()
        let big = (0..<Limits.maximumMessageSize).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try pair.client.send(big, at: pair.now)
        pair.run(until: .milliseconds(30_000)) { $0.serverMessages.isEmpty }
        #expect(pair.serverMessages == [big])
        try pair.server!.send(big, on: .unreliable, at: pair.now)
        pair.run(until: pair.now + .seconds(10)) { $0.clientMessages.isEmpty }
        #expect(pair.clientMessages == [big])
    }
}
