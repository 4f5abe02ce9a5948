import Testing
@testable import Datagram

@Suite("Duplicate suppression and acknowledgement bits")
struct ReceivedPacketsTests {
    /// Specs/wire-format.md, section 4: Serial-number arithmetic (RFC 1982) across the wrap.
    /// Specs/wire-format.md, section 4: At least the last 1024 packet numbers are remembered; an older packet is a
    /// duplicate: dropped, not acknowledged.
    /// Specs/wire-format.md, section 4: The acknowledgement covers the largest and the 64 packets before it.
    /// Specs/reliability.md, "Acknowledgements": Duplicates by a 1024-packet bitmap; the acceptance window; an
    /// acknowledgement of a packet never sent is ignored.
    @Test("new, duplicate and too-old packets across the wrap; the bitfield mirrors arrivals")
    func slidingWindow() {
        var received = ReceivedPackets()
        let start = UInt32.max - 2
        received.insert(start, at: .ms(0))
        received.insert(start &+ 2, at: .ms(1))
        received.insert(start &+ 5, at: .ms(2))      // = 2, past the wrap
        #expect(received.status(of: start) == .duplicate)
        #expect(received.status(of: start &+ 1) == .new)
        #expect(received.status(of: start &+ 5) == .duplicate)
        let ack = received.acknowledgement(at: .ms(3))!
        #expect(ack.largest == 2)
        #expect(ack.acknowledgedPacketNumbers == [2, UInt32.max - 0, UInt32.max - 2])
        #expect(ack.delayDuration == .milliseconds(1))
        received.insert(start &+ 1, at: .ms(4))
        #expect(received.acknowledgement(at: .ms(4))!.bitfield == 0b11100)
        received.insert(start &+ 5 &+ 2000, at: .ms(5))
        #expect(received.status(of: start &+ 5) == .tooOld)
        #expect(received.acknowledgement(at: .ms(5))!.bitfield == 0)
    }
}

@Suite("Reorder buffer: bounded, in order, never acknowledging what it drops")
struct ReorderBufferTests {
    func fragment(_ number: UInt32, _ index: UInt16 = 0, of count: UInt16 = 1) -> FragmentHeader {
        FragmentHeader(channel: .reliableOrdered, messageNumber: number, fragmentIndex: index, fragmentCount: count)
    }

    /// Specs/wire-format.md, section 5: Reliable channel: once, intact, in order; fragments of the next message
    /// always accepted; a fragment that cannot be buffered MUST be dropped before it is recorded.
    /// Specs/reliability.md, "Putting messages back in order": A bounded reorder buffer; a fragment it cannot take is
    /// dropped before it is recorded; the sender's window rule keeps that from happening; the head is always
    /// accepted; the unreliable channel apart.
    @Test("early messages wait and come out in order")
    func ordering() {
        var buffer = ReorderBuffer(limit: 8)
        var delivered: [[UInt8]] = []
        #expect(buffer.insert(fragment(2), payload: [2], delivering: &delivered))
        #expect(buffer.insert(fragment(1, 1, of: 2), payload: [11], delivering: &delivered))
        #expect(delivered.isEmpty)
        buffer.insert(fragment(0), payload: [0], delivering: &delivered)
        #expect(delivered == [[0]])
        buffer.insert(fragment(1, 0, of: 2), payload: [10], delivering: &delivered)
        #expect(delivered == [[0], [10, 11], [2]])
        #expect(buffer.outOfOrderFragments == 0)
        #expect(buffer.admission(of: fragment(1)) == .alreadyDelivered)
    }

    /// Specs/wire-format.md, section 4: Serial-number arithmetic (RFC 1982) across the wrap.
    @Test("message numbers wrap: 0xFFFFFFFE, 0xFFFFFFFF, 0, 1 come out in that order")
    func messageNumbersWrap() {
        var buffer = ReorderBuffer(limit: 8, nextExpected: 0xFFFF_FFFE)
        var delivered: [[UInt8]] = []
        buffer.insert(fragment(1), payload: [4], delivering: &delivered)
        buffer.insert(fragment(0), payload: [3], delivering: &delivered)
        buffer.insert(fragment(0xFFFF_FFFF), payload: [2], delivering: &delivered)
        #expect(delivered.isEmpty)
        buffer.insert(fragment(0xFFFF_FFFE), payload: [1], delivering: &delivered)
        #expect(delivered == [[1], [2], [3], [4]])
        #expect(buffer.nextExpected == 2)
        #expect(buffer.admission(of: fragment(0xFFFF_FFFF)) == .alreadyDelivered)
    }

    /// Specs/wire-format.md, section 5: Reliable channel: once, intact, in order; fragments of the next message
    /// always accepted; a fragment that cannot be buffered MUST be dropped before it is recorded.
    /// Specs/reliability.md, "Putting messages back in order": A bounded reorder buffer; a fragment it cannot take is
    /// dropped before it is recorded; the sender's window rule keeps that from happening; the head is always
    /// accepted; the unreliable channel apart.
    @Test("when full, later messages are refused but the head is always admitted")
    func full() {
        var buffer = ReorderBuffer(limit: 3)
        var delivered: [[UInt8]] = []
        buffer.insert(fragment(1, 0, of: 3), payload: [10], delivering: &delivered)
        buffer.insert(fragment(1, 1, of: 3), payload: [11], delivering: &delivered)
        buffer.insert(fragment(2), payload: [2], delivering: &delivered)
        #expect(buffer.admission(of: fragment(1, 2, of: 3)) == .full)
        #expect(buffer.admission(of: fragment(2)) == .accept, "a duplicate of a held fragment")
        #expect(buffer.admission(of: fragment(0)) == .accept)
        #expect(buffer.admission(of: fragment(3)) == .outOfWindow, "3 messages ahead of the head, window 3")
    }

    /// Specs/wire-format.md, section 5: Reliable channel: once, intact, in order; fragments of the next message
    /// always accepted; a fragment that cannot be buffered MUST be dropped before it is recorded.
    /// Specs/reliability.md, "Putting messages back in order": A bounded reorder buffer; a fragment it cannot take is
    /// dropped before it is recorded; the sender's window rule keeps that from happening; the head is always
    /// accepted; the unreliable channel apart.
    @Test("a connection drops a packet its full buffer cannot hold without acknowledging it")
    func connectionDoesNotAcknowledgeDroppedContent() {
        var configuration = Connection.Configuration.rfc9002
        configuration.reorderBufferLimit = 2
        var (client, server) = Script.establishedPair(configuration)
        for index in 0..<4 { try! client.send([UInt8(index)], at: .ms(100)) }
        // The window rule lets the client send only two fragments beyond the oldest unacknowledged.
        let data = Script.transmitAll(&client, at: .ms(100))
        #expect(data.count == 2)
        // A non-conforming sender: forge three fragments of message 1 arriving before message 0.
        let full = [UInt8](repeating: 7, count: Limits.maximumFragmentPayload)
        let early = (0..<3).map { index in
            Packet(header: PacketHeader(connectionID: Script.id, packetNumber: 100 + UInt32(index)),
                   body: .data(fragment(1, UInt16(index), of: 3), payload: (index < 2 ? full : [1])[...])).emit()
        }
        for datagram in early { server.handleDatagram(datagram, at: .ms(150)) }
        #expect(server.statistics.reorderBufferDropped == 1)
        let ack = Script.transmitAll(&server, at: .ms(150)).last.map { Script.packet($0).header.acknowledgement }
        #expect(ack??.largest == 101, "packet 102 was dropped, so it is not acknowledged")
    }
}
