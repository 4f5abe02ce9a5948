import Testing
@testable import Datagram

/// RFC 9002 section 6.1: a packet is lost when a packet 3 numbers later is acknowledged, or when it
/// is older than 9/8 · max(smoothed RTT, latest RTT) at the time a later packet is acknowledged.
@Suite("Loss detection by packet and time threshold")
struct LossDetectionTests {
    /// Specs/wire-format.md, section 1: Packet numbers go up by one per packet and are never reused; a retransmitted
    /// message travels in a new packet.
    /// Specs/reliability.md, "Deciding that a packet is lost": Packet threshold 3; time threshold 9/8 × max(smoothed,
    /// latest RTT) with a loss timer; the fragment goes again in a new packet; unreliable fragments never go again.
    @Test("three later packets acknowledged: lost by packet threshold and sent again in a new packet")
    func packetThreshold() throws {
        var configuration = Connection.Configuration.rfc9002
        configuration.isTracing = true
        var (client, server) = Script.establishedPair(configuration, clientFirstPacketNumber: UInt32.max - 1)
        for index in 0..<4 { try client.send([UInt8(index)], at: .ms(100)) }
        let data = Script.transmitAll(&client, at: .ms(100))
        #expect(data.count == 4)
        for datagram in data.dropFirst() { server.handleDatagram(datagram, at: .ms(150)) }
        let acks = Script.transmitAll(&server, at: .ms(150))
        #expect(acks.count == 1, "the gap makes the server acknowledge at once")
        Script.drainEvents(&client)
        client.handleDatagram(acks[0], at: .ms(200))
        let lostNumber = Script.packet(data[0]).header.packetNumber
        let events = Script.events(&client)
        #expect(events.contains(.trace(.lost(packetNumber: lostNumber,
                                            reason: .packetThreshold(largestAcknowledged: lostNumber &+ 3)))))
        #expect(events.contains(.trace(.retransmitted(message: MessageID(rawValue: 1), fragment: 0,
                                                      lostPacketNumber: lostNumber))))
        let resent = Script.transmitAll(&client, at: .ms(200))
        #expect(resent.count == 1)
        #expect(Script.fragment(resent[0]) == Script.fragment(data[0]))
        #expect(Script.packet(resent[0]).header.packetNumber == lostNumber &+ 4)
        #expect(client.statistics.packetsLost == 1)
        #expect(client.statistics.retransmissions == 1)
        server.handleDatagram(resent[0], at: .ms(250))
        let delivered = Script.events(&server).compactMap { if case let .message(bytes, _) = $0 { bytes } else { nil } }
        #expect(delivered == [[0], [1], [2], [3]])
    }

    /// Specs/reliability.md, "Deciding that a packet is lost": Packet threshold 3; time threshold 9/8 × max(smoothed,
    /// latest RTT) with a loss timer; the fragment goes again in a new packet; unreliable fragments never go again.
    @Test("one later packet acknowledged: lost by time threshold when the loss timer fires")
    func timeThreshold() throws {
        var (client, server) = Script.establishedPair()
        try client.send([0], at: .ms(100))
        try client.send([1], at: .ms(100))
        let data = Script.transmitAll(&client, at: .ms(100))
        server.handleDatagram(data[1], at: .ms(150))
        let ack = Script.transmitAll(&server, at: .ms(150))
        client.handleDatagram(ack[0], at: .ms(200))
        // Sample 100 ms: smoothed stays 100 ms; loss delay 9/8 · 100 = 112.5 ms after the send at 100.
        #expect(client.statistics.smoothedRTT == .milliseconds(100))
        #expect(client.nextDeadline == .ms(212.5))
        client.handleTimeout(at: .ms(212.499))
        #expect(client.pollTransmit(at: .ms(212.499)) == nil)
        #expect(client.statistics.packetsLost == 0)
        client.handleTimeout(at: .ms(212.5))
        #expect(client.statistics.packetsLost == 1)
        let resent = Script.transmitAll(&client, at: .ms(212.5))
        #expect(resent.count == 1)
        #expect(Script.fragment(resent[0]) == Script.fragment(data[0]))
    }
}

/// Acknowledgement timing: within the maximum ack delay, at once for every second ack-eliciting
/// packet, for a packet out of order, and for a duplicate.
@Suite("Acknowledgement delay")
struct AcknowledgementTests {
    func clientData(count: Int) -> (client: Connection, server: Connection, data: [[UInt8]]) {
        var (client, server) = Script.establishedPair()
        for index in 0..<count { try! client.send([UInt8(index)], at: .ms(100)) }
        let data = Script.transmitAll(&client, at: .ms(100))
        _ = Script.transmitAll(&server, at: .ms(100))
        return (client, server, data)
    }

    /// Specs/wire-format.md, section 3: DATA, PING, HELLO, WELCOME are ack-eliciting; ACK, CLOSE, RESET, COOKIE are
    /// not.
    /// Specs/reliability.md, "Acknowledgements": A lone packet is acknowledged within `maximumAckDelay` (2 ms by
    /// default); at once for every second ack-eliciting packet, one out of order, and a duplicate.
    /// Specs/wire-format.md, section 2: The ack delay is in units of 8 µs, at most 524.28 ms (saturating).
    @Test("one packet is acknowledged exactly at the maximum ack delay, with the delay reported")
    func delayed() throws {
        var (_, server, data) = clientData(count: 1)
        server.handleDatagram(data[0], at: .ms(150))
        #expect(server.pollTransmit(at: .ms(150)) == nil)
        #expect(server.nextDeadline == .ms(175))
        server.handleTimeout(at: .ms(174.999))
        #expect(server.pollTransmit(at: .ms(174.999)) == nil)
        server.handleTimeout(at: .ms(175))
        let acks = Script.transmitAll(&server, at: .ms(175))
        try #require(acks.count == 1)
        let packet = Script.packet(acks[0])
        #expect(packet.type == .ack)
        #expect(packet.header.acknowledgement?.largest == Script.packet(data[0]).header.packetNumber)
        #expect(packet.header.acknowledgement?.delayDuration == .milliseconds(25))
    }

    /// Specs/reliability.md, "Acknowledgements": A lone packet is acknowledged within `maximumAckDelay` (2 ms by
    /// default); at once for every second ack-eliciting packet, one out of order, and a duplicate.
    @Test("the second ack-eliciting packet is acknowledged at once")
    func everySecond() {
        var (_, server, data) = clientData(count: 2)
        server.handleDatagram(data[0], at: .ms(150))
        server.handleDatagram(data[1], at: .ms(150))
        let acks = Script.transmitAll(&server, at: .ms(150))
        #expect(acks.count == 1)
        #expect(Script.packet(acks[0]).header.acknowledgement?.bitfield == 0b11, "both data and the HELLO")
    }

    /// Specs/reliability.md, "Acknowledgements": A lone packet is acknowledged within `maximumAckDelay` (2 ms by
    /// default); at once for every second ack-eliciting packet, one out of order, and a duplicate.
    @Test("an out-of-order packet and a duplicate are acknowledged at once")
    func outOfOrderAndDuplicate() {
        var (_, server, data) = clientData(count: 3)
        server.handleDatagram(data[1], at: .ms(150))
        #expect(Script.transmitAll(&server, at: .ms(150)).count == 1)
        server.handleDatagram(data[1], at: .ms(160))
        #expect(Script.transmitAll(&server, at: .ms(160)).count == 1)
        #expect(server.statistics.duplicatesDropped == 1)
    }

    /// Specs/reliability.md, "Acknowledgements": a PING is acknowledged at once, not after the ack delay:
    /// a keepalive costs the receiver no timer.
    @Test("a keepalive PING is acknowledged at once, with no ack delay")
    func pingAtOnce() throws {
        var (client, server) = Script.establishedPair()
        _ = Script.transmitAll(&server, at: .ms(100))
        // Run the client's timers (its own delayed ACK first) until its keepalive PING goes out.
        var ping: [[UInt8]] = []
        var keepalive = Timestamp.ms(100)
        for _ in 0..<4 where ping.isEmpty {
            keepalive = try #require(client.nextDeadline)
            client.handleTimeout(at: keepalive)
            ping = Script.transmitAll(&client, at: keepalive).filter { Script.packet($0).type == .ping }
        }
        try #require(ping.count == 1)
        server.handleDatagram(ping[0], at: keepalive)
        let acks = Script.transmitAll(&server, at: keepalive)
        try #require(acks.count == 1)
        let ack = Script.packet(acks[0])
        #expect(ack.type == .ack)
        #expect(ack.header.acknowledgement?.largest == Script.packet(ping[0]).header.packetNumber)
        #expect(ack.header.acknowledgement?.delayDuration == .zero)
    }

    /// Specs/reliability.md, "Acknowledgements": a batch of datagrams read together is acknowledged once, after
    /// the batch (`holdsAcknowledgements`), with the ack delay counted from the largest packet's arrival.
    @Test("a batch read together draws one ACK, after the batch, covering all of it")
    func oneAckPerBatch() throws {
        var (_, server, data) = clientData(count: 6)
        server.holdsAcknowledgements = true
        for datagram in data {
            server.handleDatagram(datagram, at: .ms(150))
            #expect(server.pollTransmit(at: .ms(150)) == nil, "no ACK inside the batch")
        }
        server.holdsAcknowledgements = false
        let acks = Script.transmitAll(&server, at: .ms(150))
        try #require(acks.count == 1)
        let ack = Script.packet(acks[0])
        #expect(ack.type == .ack)
        #expect(ack.header.acknowledgement?.largest == Script.packet(data[5]).header.packetNumber)
        #expect((ack.header.acknowledgement?.bitfield ?? 0) & 0b11111 == 0b11111, "the five before it too")
        // Data sent inside a batch still carries the acknowledgement.
        var (_, other, more) = clientData(count: 2)
        other.holdsAcknowledgements = true
        for datagram in more { other.handleDatagram(datagram, at: .ms(150)) }
        try other.send([9], at: .ms(150))
        let out = Script.transmitAll(&other, at: .ms(150))
        #expect(out.map { Script.packet($0).type } == [.data])
        #expect(Script.packet(out[0]).header.acknowledgement?.largest == Script.packet(more[1]).header.packetNumber)
    }

    /// Specs/wire-format.md, section 3: Every packet carries the acknowledgement fields; an ACK goes only when no
    /// other packet carries them.
    @Test("acknowledgements ride on data: no separate ACK when data goes anyway")
    func piggyback() throws {
        var (_, server, data) = clientData(count: 1)
        server.handleDatagram(data[0], at: .ms(150))
        try server.send([7], at: .ms(150))
        let out = Script.transmitAll(&server, at: .ms(150))
        #expect(out.map { Script.packet($0).type } == [.data])
        #expect(Script.packet(out[0]).header.acknowledgement?.largest == Script.packet(data[0]).header.packetNumber)
        #expect(Script.transmitAll(&server, at: .ms(175)).isEmpty)
    }
}
