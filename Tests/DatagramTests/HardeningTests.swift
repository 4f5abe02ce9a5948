import Testing
@testable import Datagram

/// Builds the packets a hostile or non-conforming peer would send, with the connection's id.
struct Forger {
    var id = Script.id
    var packetNumber: UInt32

    mutating func packet(_ body: PacketBody, number: UInt32? = nil, ack: Acknowledgement? = nil) -> [UInt8] {
        let pn = number ?? packetNumber
        if number == nil { packetNumber &+= 1 }
        return Packet(header: PacketHeader(connectionID: id, packetNumber: pn, acknowledgement: ack), body: body).emit()
    }

    mutating func data(_ message: UInt32, _ index: UInt16 = 0, of count: UInt16 = 1, payload: [UInt8] = [1],
                       channel: Channel = .reliableOrdered) -> [UInt8] {
        let fragment = FragmentHeader(channel: channel, messageNumber: message, fragmentIndex: index, fragmentCount: count)
        return packet(.data(fragment, payload: payload[...]))
    }

    static let full = [UInt8](repeating: 0x46, count: Limits.maximumFragmentPayload)
}

/// A server connection fed by a forger that completed the handshake (HELLO packet 0 at 0 ms).
func forgedServer(_ configuration: Connection.Configuration = Connection.Configuration()) -> (Connection, Forger) {
    var forger = Forger(packetNumber: 0)
    var server = Connection(role: .server, id: Script.id, configuration: configuration, now: .ms(0))
    server.handleDatagram(forger.packet(.hello(cookie: [UInt8](repeating: 0, count: 16))), at: .ms(0))
    _ = Script.transmitAll(&server, at: .ms(0))
    Script.drainEvents(&server)
    return (server, forger)
}

/// The largest packet number the connection acknowledges once its ack delay has run out after `now`.
func largestAcknowledged(_ connection: inout Connection, at now: Timestamp) -> UInt32? {
    Script.transmitAll(&connection, at: now + .milliseconds(5))
        .compactMap { Script.packet($0).header.acknowledgement?.largest }.last
}

@Suite("Hardening (issue 8.1): fragments that disagree are refused, never acknowledged, never a crash")
struct InconsistentFragmentTests {
    /// Specs/wire-format.md, section 4: What a forger can do never crashes an endpoint nor takes it over its memory
    /// budget.
    /// Specs/wire-format.md, section 5: Fragments that disagree on the count: dropped before recording (never
    /// acknowledged), counted (`protocolViolations`), the connection stays open.
    /// Specs/reliability.md, "Putting messages back in order": Message numbers outside the window, or behind the head
    /// and never delivered, and fragments contradicting their message are refused unacknowledged; every index is
    /// checked against the count.
    @Test("fragment 1 of 2, then fragment 2 of 3 of the same waiting message: the second is refused unacknowledged")
    func disagreeingCountsOutOfOrder() {
        var (server, forger) = forgedServer()
        server.handleDatagram(forger.data(1, 1, of: 2), at: .ms(10))   // packet 1: waits behind message 0
        server.handleDatagram(forger.data(1, 2, of: 3), at: .ms(11))   // packet 2: used to trap here
        #expect(server.statistics.protocolViolations == 1)
        #expect(largestAcknowledged(&server, at: .ms(11)) == 1, "packet 2 is never acknowledged")
        #expect(!server.isClosed)
    }

    /// Specs/wire-format.md, section 5: Fragments that disagree on the count: dropped before recording (never
    /// acknowledged), counted (`protocolViolations`), the connection stays open.
    /// Specs/reliability.md, "Putting messages back in order": Message numbers outside the window, or behind the head
    /// and never delivered, and fragments contradicting their message are refused unacknowledged; every index is
    /// checked against the count.
    @Test("the head message announced as 2 fragments, then a 1-fragment copy: refused, nothing delivered twice")
    func disagreeingCountsAtTheHead() {
        var (server, forger) = forgedServer()
        server.handleDatagram(forger.data(0, 0, of: 2, payload: Forger.full), at: .ms(10))
        server.handleDatagram(forger.data(0, 0, of: 1), at: .ms(11))
        #expect(server.statistics.protocolViolations == 1)
        #expect(server.statistics.messagesDelivered == 0)
        server.handleDatagram(forger.data(0, 1, of: 2), at: .ms(12))
        #expect(Script.events(&server) == [.message(Forger.full + [1], channel: .reliableOrdered)])
    }

    /// Specs/wire-format.md, section 5: Fragments that disagree on the count: dropped before recording (never
    /// acknowledged), counted (`protocolViolations`), the connection stays open.
    @Test("the unreliable channel refuses a fragment whose count disagrees, unacknowledged")
    func disagreeingCountsUnreliable() {
        var (server, forger) = forgedServer()
        server.handleDatagram(forger.data(7, 0, of: 2, payload: Forger.full, channel: .unreliable), at: .ms(10))
        server.handleDatagram(forger.data(7, 2, of: 3, channel: .unreliable), at: .ms(11))
        #expect(server.statistics.protocolViolations == 1)
        #expect(largestAcknowledged(&server, at: .ms(11)) == 1)
    }

    /// Specs/wire-format.md, section 4: What a forger can do never crashes an endpoint nor takes it over its memory
    /// budget.
    /// Specs/reliability.md, "Putting messages back in order": Message numbers outside the window, or behind the head
    /// and never delivered, and fragments contradicting their message are refused unacknowledged; every index is
    /// checked against the count.
    @Test("a partial message answers `contains` for any index, in range or not, without trapping")
    func partialMessageBounds() {
        var partial = PartialMessage(fragmentCount: 2)
        #expect(!partial.contains(-1) && !partial.contains(2) && !partial.contains(1_000))
        let outside = partial.insert([1], at: 5)
        #expect(!outside)
        let inserted = partial.insert([1], at: 1)
        #expect(inserted && partial.contains(1))
        #expect(partial.assembled() == nil, "incomplete")
    }

    /// Specs/wire-format.md, section 5: DATA fields: channel 0, 1 or 2, fragment count 1-57, index below the count, a
    /// non-last fragment exactly 1158 bytes; otherwise `invalidField`, counted (`malformedDropped`), never
    /// acknowledged.
    @Test("the parser refuses fragment count 0, count 58, index = count, and a short non-last fragment")
    func parserBounds() {
        let cases: [(UInt16, UInt16, Int, String)] = [
            (0, 0, 1, "fragment count"), (0, 58, 1, "fragment count"), (2, 2, 1, "fragment index"),
            (0, 2, 10, "payload length"),
        ]
        for (index, count, size, field) in cases {
            var bytes = Packet(header: PacketHeader(connectionID: Script.id, packetNumber: 1),
                               body: .data(FragmentHeader(channel: .reliableOrdered, messageNumber: 0, fragmentIndex: 0,
                                                          fragmentCount: 1), payload: [UInt8](repeating: 0, count: size)[...])).emit()
            bytes[34] = UInt8(index >> 8); bytes[35] = UInt8(index & 0xFF)
            bytes[40] = UInt8(count >> 8); bytes[41] = UInt8(count & 0xFF)
            Packet.sealChecksum(&bytes)
            #expect(throws: WireError.invalidField(field)) { try Packet.parse(bytes) }
        }
    }

    /// Specs/wire-format.md, section 4: An acknowledgement of a packet this end never sent is ignored; a COOKIE that
    /// acknowledges no HELLO of ours is dropped.
    /// Specs/reliability.md, "Acknowledgements": Duplicates by a 1024-packet bitmap; the acceptance window; an
    /// acknowledgement of a packet never sent is ignored.
    @Test("an acknowledgement of packet numbers this end never sent (before its first) is ignored")
    func acknowledgementOfUnsentPackets() {
        var (client, server) = Script.establishedPair(clientFirstPacketNumber: 5_000)
        try! client.send([1], at: .ms(100))
        _ = Script.transmitAll(&client, at: .ms(100))
        var forger = Forger(packetNumber: 100)
        client.handleDatagram(forger.packet(.ack, ack: Acknowledgement(largest: 4_000, bitfield: .max)), at: .ms(101))
        #expect(client.statistics.bytesInFlight > 0, "nothing was acknowledged")
        _ = server
    }
}

@Suite("Hardening (issue 8.3): a forged packet number outside the window moves nothing")
struct PacketNumberWindowTests {
    /// Specs/wire-format.md, section 4: Acceptance window: a packet more than 65,536 from the largest received
    /// changes nothing (not recorded, not acknowledged, not a sign of life; `outOfWindowDropped`).
    /// Specs/reliability.md, "Acknowledgements": Duplicates by a 1024-packet bitmap; the acceptance window; an
    /// acknowledgement of a packet never sent is ignored.
    @Test("a spoofed PING a million packets ahead is dropped; genuine packets after it are still taken")
    func spoofedPingFarAhead() {
        var (server, forger) = forgedServer()
        server.handleDatagram(forger.data(0), at: .ms(10))
        _ = Script.transmitAll(&server, at: .ms(20))
        let deadline = server.nextDeadline
        let received = server.statistics.packetsReceived
        server.handleDatagram(forger.packet(.ping, number: 1_000_002), at: .ms(30))
        #expect(server.statistics.outOfWindowDropped == 1)
        #expect(server.statistics.packetsReceived == received, "not a sign of life for a relay either")
        #expect(server.nextDeadline == deadline, "idle timer, ack timer: untouched")
        #expect(Script.transmitAll(&server, at: .ms(30)).isEmpty, "not acknowledged")
        server.handleDatagram(forger.data(1), at: .ms(40))
        #expect(Script.events(&server) == [.message([1], channel: .reliableOrdered), .message([1], channel: .reliableOrdered)])
        #expect(largestAcknowledged(&server, at: .ms(40)) == 2)
    }

    /// Specs/wire-format.md, section 4: Acceptance window: a packet more than 65,536 from the largest received
    /// changes nothing (not recorded, not acknowledged, not a sign of life; `outOfWindowDropped`).
    /// Specs/reliability.md, "Acknowledgements": Duplicates by a 1024-packet bitmap; the acceptance window; an
    /// acknowledgement of a packet never sent is ignored.
    @Test("the window is 2^16 either way: 65,536 ahead is taken, 65,537 ahead and 65,537 behind are not")
    func windowEdges() {
        var received = ReceivedPackets()
        received.insert(100_000, at: .ms(0))
        #expect(received.status(of: 100_000 + 65_536) == .new)
        #expect(received.status(of: 100_000 + 65_537) == .outsideWindow)
        #expect(received.status(of: 100_000 - 65_537) == .outsideWindow)
        #expect(received.status(of: 100_000 - 65_536) == .tooOld)
    }

    /// Specs/wire-format.md, section 4: Each endpoint MUST start its packet numbers at an unpredictable value (relay:
    /// SipHash of its secret; client: the system's random source; simulator: its seed).
    @Test("the simulator draws first packet numbers from its seed; the relay's jar derives them from its secret")
    func randomFirstPacketNumbers() {
        let jar = CookieJar(secret: (1, 2))
        let a = jar.initialPacketNumber(for: Script.id, address: [10, 0, 0, 1, 0, 80], at: .ms(0))
        let b = jar.initialPacketNumber(for: Script.id, address: [10, 0, 0, 1, 0, 81], at: .ms(0))
        let c = CookieJar(secret: (1, 3)).initialPacketNumber(for: Script.id, address: [10, 0, 0, 1, 0, 80], at: .ms(0))
        #expect(a != b && a != c)
    }
}

@Suite("Hardening (issue 8.5): receive memory is budgeted in bytes")
struct ReceiveBudgetTests {
    /// Specs/wire-format.md, section 4: What a forger can do never crashes an endpoint nor takes it over its memory
    /// budget.
    /// Specs/wire-format.md, section 5: Reliable channel: once, intact, in order; fragments of the next message
    /// always accepted; a fragment that cannot be buffered MUST be dropped before it is recorded.
    /// Specs/reliability.md, "Receive memory": A held fragment costs its payload (copied) + 32 bytes, an incomplete
    /// message 64 + 8 per fragment; the head message is always taken and holds at most 67,880 bytes.
    /// Specs/reliability.md, "Receive memory": Everything else within `receiveBufferBudget`: a reliable fragment that
    /// does not fit is dropped unrecorded, an unreliable one gives up the oldest; lowering the budget keeps what is
    /// held.
    @Test("over budget, a waiting fragment is refused unacknowledged; raising the budget takes it; the head always goes in")
    func budget() {
        var configuration = Connection.Configuration()
        configuration.receiveBufferBudget = 3_000
        var (server, forger) = forgedServer(configuration)
        server.handleDatagram(forger.data(1, 0, of: 3, payload: Forger.full), at: .ms(10))   // 1 + 1158 + 32 + 88 bytes
        server.handleDatagram(forger.data(1, 1, of: 3, payload: Forger.full), at: .ms(11))
        #expect(server.statistics.receiveBufferedBytes == 2 * (1158 + 32) + 64 + 3 * 8)
        server.handleDatagram(forger.data(2, 0, of: 3, payload: Forger.full), at: .ms(12))   // would exceed 3,000
        #expect(server.statistics.receiveBudgetDropped == 1)
        #expect(largestAcknowledged(&server, at: .ms(12)) == 2)
        server.receiveBufferBudget = 10_000
        server.handleDatagram(forger.data(2, 0, of: 3, payload: Forger.full), at: .ms(13))
        #expect(server.statistics.receiveBudgetDropped == 1)
        server.receiveBufferBudget = 0
        server.handleDatagram(forger.data(0, 0, of: 2, payload: Forger.full), at: .ms(14))   // the head: always
        server.handleDatagram(forger.data(0, 1, of: 2), at: .ms(15))
        #expect(Script.events(&server) == [.message(Forger.full + [1], channel: .reliableOrdered)])
        #expect(server.statistics.receiveBudgetDropped == 1)
    }

    /// Specs/reliability.md, "Receive memory": A held fragment costs its payload (copied) + 32 bytes, an incomplete
    /// message 64 + 8 per fragment; the head message is always taken and holds at most 67,880 bytes.
    @Test("held bytes count the payload copied, not the datagram it came in")
    func payloadsAreCopied() {
        var (server, forger) = forgedServer()
        server.handleDatagram(forger.data(1, 0, of: 2, payload: Forger.full), at: .ms(10))
        #expect(server.statistics.receiveBufferedBytes == ReceiveCost.fragment(payload: 1158, newMessageOf: 2))
    }

    /// Specs/wire-format.md, section 5: Unreliable channel: delivered once when complete, never retransmitted,
    /// independent of the reliable channel; at most *R* incomplete fragments held, the oldest message given up.
    /// Specs/reliability.md, "Receive memory": Everything else within `receiveBufferBudget`: a reliable fragment that
    /// does not fit is dropped unrecorded, an unreliable one gives up the oldest; lowering the budget keeps what is
    /// held.
    @Test("unreliable partial messages give up the oldest to stay within the budget")
    func unreliableWithinBudget() {
        var configuration = Connection.Configuration()
        configuration.receiveBufferBudget = 4_000
        var (server, forger) = forgedServer(configuration)
        for message in UInt32(0)..<10 {
            server.handleDatagram(forger.data(message, 0, of: 2, payload: Forger.full, channel: .unreliable), at: .ms(10))
            #expect(server.statistics.receiveBufferedBytes <= 4_000)
        }
        server.handleDatagram(forger.data(9, 1, of: 2, channel: .unreliable), at: .ms(11))
        #expect(Script.events(&server) == [.message(Forger.full + [1], channel: .unreliable)])
    }
}

@Suite("Message numbers start at 0 (issue 9.1): a peer that starts elsewhere gets a clear error")
struct FirstMessageNumberTests {
    /// Feeds one message numbered `first`, keeps the peer alive with PINGs every second, and returns
    /// how and when the server ended and whether the DATA was acknowledged.
    func run(first: UInt32) -> (reason: Connection.CloseReason?, at: Timestamp?, acknowledged: Bool, closeCode: CloseCode?) {
        var (server, forger) = forgedServer()
        server.handleDatagram(forger.data(first), at: .ms(10))
        let acknowledged = largestAcknowledged(&server, at: .ms(20)) == 1
        var time = 20.0
        while time < 30_000, !server.isClosed {
            time += 1_000
            if let deadline = server.nextDeadline, deadline <= .ms(time) {
                server.handleTimeout(at: deadline)
                if server.isClosed { time = Double(deadline.microsecondsSinceOrigin) / 1000; break }
            }
            server.handleDatagram(forger.packet(.ping), at: .ms(time))
            _ = Script.transmitAll(&server, at: .ms(time))
        }
        let closeCode = Script.transmitAll(&server, at: .ms(time)).compactMap { datagram -> CloseCode? in
            if case .close(let code) = Script.packet(datagram).body { return code }
            return nil
        }.first
        let reason = Script.events(&server).compactMap { event -> Connection.CloseReason? in
            if case .closed(let reason) = event { return reason }
            return nil
        }.first
        return (reason, server.isClosed ? .ms(time) : nil, acknowledged, closeCode)
    }

    /// Specs/wire-format.md, section 5: A gap that never fills: CLOSE 2 and `.closed(.protocolViolation)` after 2 ×
    /// idle timeout without progress.
    /// Specs/wire-format.md, section 7: CLOSE codes: 0 normal, 1 idle timeout, 2 protocol error, 3 shutting down, 4
    /// refused.
    /// Specs/reliability.md, "Putting messages back in order": A head that makes no progress for 2 × idle timeout
    /// while data waits: CLOSE 2, `.closed(.protocolViolation)`.
    /// Specs/reliability.md, "Staying alive and noticing death": Every way a connection ends is one `Event.closed`;
    /// no reliable message is lost without the application being able to take it back.
    @Test("a peer starting at 1 or 1000: the message waits, the gap never fills, closed with code 2 after 2 × idle timeout",
          arguments: [UInt32(1), 1000])
    func startsAhead(first: UInt32) {
        let outcome = run(first: first)
        #expect(outcome.acknowledged, "within the window: buffered and acknowledged")
        #expect(outcome.reason == .protocolViolation)
        #expect(outcome.at == .ms(10) + .seconds(20))
        #expect(outcome.closeCode == .protocolError)
    }

    /// Specs/wire-format.md, section 5: The message window: taken when *h* ≤ *m* < *h* + *R*, or behind *h* and
    /// delivered already (acknowledged again, delivered never); anything else a protocol violation, never
    /// acknowledged.
    /// Specs/reliability.md, "Putting messages back in order": Message numbers outside the window, or behind the head
    /// and never delivered, and fragments contradicting their message are refused unacknowledged; every index is
    /// checked against the count.
    @Test("a peer starting at 0xFFFFFFFE (behind 0, never delivered): refused unacknowledged, then closed with code 2")
    func startsBehind() {
        let outcome = run(first: 0xFFFF_FFFE)
        #expect(!outcome.acknowledged)
        #expect(outcome.reason == .protocolViolation)
        #expect(outcome.closeCode == .protocolError)
    }

    /// Specs/wire-format.md, section 5: The message window: taken when *h* ≤ *m* < *h* + *R*, or behind *h* and
    /// delivered already (acknowledged again, delivered never); anything else a protocol violation, never
    /// acknowledged.
    /// Specs/reliability.md, "Putting messages back in order": Message numbers outside the window, or behind the head
    /// and never delivered, and fragments contradicting their message are refused unacknowledged; every index is
    /// checked against the count.
    @Test("a message 2048 or more beyond the next to deliver is refused unacknowledged")
    func beyondTheWindow() {
        var (server, forger) = forgedServer()
        server.handleDatagram(forger.data(2048), at: .ms(10))
        #expect(server.statistics.protocolViolations == 1)
        #expect(largestAcknowledged(&server, at: .ms(20)) == nil, "nothing new to acknowledge")
        server.handleDatagram(forger.data(2047), at: .ms(30))
        #expect(largestAcknowledged(&server, at: .ms(40)) == 2)
    }
}

@Suite("The largest message (issue 9.5): exactly 65,536 bytes, both sides")
struct MessageLimitTests {
    /// Specs/wire-format.md, section 5: The largest message is exactly 65,536 bytes (57 fragments, the last at most
    /// 688); `send` refuses more with `messageTooLarge` before queueing; an empty message is one empty fragment; no
    /// datagram over 1200 bytes.
    @Test("65,536 bytes go (57 fragments, the last 688 bytes) and arrive; 65,537 are refused by send")
    func senderBoundary() throws {
        var configuration = Connection.Configuration.rfc9002
        configuration.congestionControl = .disabled
        var (client, server) = Script.establishedPair(configuration)
        let largest = [UInt8](repeating: 9, count: Limits.maximumMessageSize)
        try client.send(largest, at: .ms(100))
        #expect(throws: SendError.messageTooLarge(size: 65_537, limit: 65_536)) {
            try client.send(largest + [0], at: .ms(100))
        }
        let datagrams = Script.transmitAll(&client, at: .ms(100))
        #expect(datagrams.count == 57)
        #expect(datagrams.last?.count == 32 + 10 + 688)
        for datagram in datagrams { server.handleDatagram(datagram, at: .ms(150)) }
        let delivered = Script.events(&server).contains(.message(largest, channel: .reliableOrdered))
        #expect(delivered)
    }

    /// Specs/wire-format.md, section 5: DATA fields: channel 0, 1 or 2, fragment count 1-57, index below the count, a
    /// non-last fragment exactly 1158 bytes; otherwise `invalidField`, counted (`malformedDropped`), never
    /// acknowledged.
    /// Specs/wire-format.md, section 5: The largest message is exactly 65,536 bytes (57 fragments, the last at most
    /// 688); `send` refuses more with `messageTooLarge` before queueing; an empty message is one empty fragment; no
    /// datagram over 1200 bytes.
    @Test("a receiver refuses a 57th fragment of 689 bytes (a 65,537-byte message) as malformed, unacknowledged")
    func receiverBoundary() {
        var (server, forger) = forgedServer()
        server.handleDatagram(forger.data(0, 56, of: 57, payload: [UInt8](repeating: 1, count: 689)), at: .ms(10))
        #expect(server.statistics.malformedDropped == 1)
        server.handleDatagram(forger.data(0, 56, of: 57, payload: [UInt8](repeating: 1, count: 688)), at: .ms(11))
        #expect(server.statistics.malformedDropped == 1)
        #expect(server.statistics.receiveBufferedBytes > 688)
    }
}
