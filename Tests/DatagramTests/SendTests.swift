import Testing
@testable import Datagram

@Suite("Sending: size limit, fragmentation, queue push-back, acknowledgement events")
struct SendTests {
    /// Specs/wire-format.md, section 5: The largest message is exactly 65,536 bytes (57 fragments, the last at most
    /// 688); `send` refuses more with `messageTooLarge` before queueing; an empty message is one empty fragment; no
    /// datagram over 1200 bytes.
    @Test("a message over 65,536 bytes is refused before anything is queued")
    func tooLarge() {
        var (client, _) = Script.establishedPair()
        #expect(throws: SendError.messageTooLarge(size: 65_537, limit: 65_536)) {
            try client.send([UInt8](repeating: 0, count: 65_537), at: .ms(100))
        }
        #expect(client.isIdle)
        #expect(throws: Never.self) { try client.send([UInt8](repeating: 0, count: 65_536), at: .ms(100)) }
    }

    /// Specs/wire-format.md, section 5: Message numbers start at 0 on each channel in each direction, one more per
    /// message; every fragment carries its message's number and count.
    /// Specs/wire-format.md, section 5: The largest message is exactly 65,536 bytes (57 fragments, the last at most
    /// 688); `send` refuses more with `messageTooLarge` before queueing; an empty message is one empty fragment; no
    /// datagram over 1200 bytes.
    @Test("65,536 bytes become 57 fragments: 56 of 1158 bytes and one of 688; empty is one fragment")
    func fragments() {
        var configuration = Connection.Configuration.rfc9002
        configuration.congestionControl = .disabled
        var (client, _) = Script.establishedPair(configuration)
        try! client.send([UInt8](repeating: 7, count: 65_536), at: .ms(100))
        try! client.send([], at: .ms(100))
        let data = Script.transmitAll(&client, at: .ms(100))
        #expect(data.count == 58)
        #expect(data.allSatisfy { $0.count <= Limits.maximumDatagramSize })
        #expect(data[0].count == 1200)
        #expect(data[56].count == 32 + 10 + 688)
        #expect(Script.fragment(data[56]) == FragmentHeader(channel: .reliableOrdered, messageNumber: 0,
                                                            fragmentIndex: 56, fragmentCount: 57))
        #expect(Script.fragment(data[57]) == FragmentHeader(channel: .reliableOrdered, messageNumber: 1,
                                                            fragmentIndex: 0, fragmentCount: 1))
    }

    /// Specs/reliability.md, "Receive memory": Send-side memory bounded by `sendQueueLimit` (push-back, nothing
    /// lost).
    @Test("a full send queue pushes back, and accepts again once messages are acknowledged")
    func pushBack() throws {
        var configuration = Connection.Configuration.rfc9002
        configuration.sendQueueLimit = 10_000
        var (client, server) = Script.establishedPair(configuration)
        let first = try client.send([UInt8](repeating: 1, count: 6000), at: .ms(100))
        #expect(throws: SendError.sendQueueFull(queuedBytes: 6000, limit: 10_000)) {
            try client.send([UInt8](repeating: 2, count: 6000), at: .ms(100))
        }
        #expect(client.statistics.queuedBytes == 6000)
        for datagram in Script.transmitAll(&client, at: .ms(100)) { server.handleDatagram(datagram, at: .ms(150)) }
        for datagram in Script.transmitAll(&server, at: .ms(150)) { client.handleDatagram(datagram, at: .ms(200)) }
        #expect(Script.events(&client).contains(.acknowledged(first)))
        #expect(client.statistics.queuedBytes == 0)
        #expect(throws: Never.self) { try client.send([UInt8](repeating: 2, count: 6000), at: .ms(200)) }
    }

    /// Specs/wire-format.md, section 5: Unreliable channel: delivered once when complete, never retransmitted,
    /// independent of the reliable channel; at most *R* incomplete fragments held, the oldest message given up.
    /// Specs/reliability.md, "Deciding that a packet is lost": Packet threshold 3; time threshold 9/8 × max(smoothed,
    /// latest RTT) with a loss timer; the fragment goes again in a new packet; unreliable fragments never go again.
    @Test("unreliable messages are never retransmitted and never hold up the reliable channel")
    func unreliableIndependent() throws {
        var (client, server) = Script.establishedPair()
        try client.send([1], on: .unreliable, at: .ms(100))
        try client.send([2], on: .reliableOrdered, at: .ms(100))
        try client.send([3], on: .unreliable, at: .ms(100))
        let data = Script.transmitAll(&client, at: .ms(100))
        #expect(data.count == 3)
        let lostUnreliable = data.first { Script.fragment($0)?.channel == .unreliable }!
        for datagram in data where datagram != lostUnreliable { server.handleDatagram(datagram, at: .ms(150)) }
        let messages = Script.events(&server).compactMap { event -> [UInt8]? in
            if case let .message(bytes, _) = event { return bytes }
            return nil
        }
        #expect(Set(messages) == [[2], [3]])
        for datagram in Script.transmitAll(&server, at: .ms(175)) { client.handleDatagram(datagram, at: .ms(200)) }
        client.handleTimeout(at: .ms(400))
        #expect(Script.transmitAll(&client, at: .ms(400)).allSatisfy { Script.fragment($0)?.channel != .unreliable })
        #expect(client.isIdle)
    }

    @Test("pollTransmit(into:) writes the same datagrams into one reused buffer")
    func pollIntoBuffer() throws {
        var (first, _) = Script.establishedPair()
        var second = first
        try first.send([UInt8](repeating: 5, count: 3000), at: .ms(100))
        try second.send([UInt8](repeating: 5, count: 3000), at: .ms(100))
        let expected = Script.transmitAll(&first, at: .ms(100))
        var buffer = [UInt8](repeating: 0xEE, count: 2000)
        var written: [[UInt8]] = []
        while second.pollTransmit(into: &buffer, at: .ms(100)) { written.append(buffer) }
        #expect(written == expected)
        #expect(expected.count == 3)
    }
}
