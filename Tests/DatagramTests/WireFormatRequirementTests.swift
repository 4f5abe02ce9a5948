import Testing
@testable import Datagram

/// Requirements of Specs/wire-format.md that no other test checked on its own. Each test names the
/// section it checks; Specs/checking.md, section 3, maps every section to its tests.
@Suite("Wire format requirements, section by section")
struct WireFormatRequirementTests {
    /// Specs/wire-format.md, section 1 (and section 4): each endpoint numbers its packets one more per
    /// packet sent and never reuses a number; a retransmitted message travels in a new packet. Here over
    /// a link that loses every third datagram each way, across the 32-bit wrap.
    /// Specs/wire-format.md, section 4: Serial-number arithmetic (RFC 1982) across the wrap.
    @Test("packet numbers go up by one per packet, across the wrap, and retransmissions take new numbers")
    func packetNumbersAreNeverReused() throws {
        var configuration = Connection.Configuration.rfc9002
        configuration.congestionControl = .disabled
        var (client, server) = Script.establishedPair(configuration, clientFirstPacketNumber: UInt32.max - 3,
                                                      serverFirstPacketNumber: UInt32.max - 1)
        var sent: [Connection.Role: [Packet]] = [.client: [], .server: []]
        var inFlight: [(arrival: Timestamp, toServer: Bool, bytes: [UInt8])] = []
        var count = 0
        var now = Timestamp.ms(100)
        for index in 0..<30 { try client.send([UInt8(index)], at: now) }
        for index in 0..<10 { try server.send([UInt8(index)], at: now) }
        var delivered = 0
        while now < .ms(60_000), delivered < 30 || !client.isIdle || !server.isIdle {
            for (connection, toServer) in [(client, true), (server, false)] {
                var connection = connection
                for datagram in Script.transmitAll(&connection, at: now) {
                    sent[connection.role]!.append(Script.packet(datagram))
                    count += 1
                    if count % 3 != 0 { inFlight.append((now + .milliseconds(20), toServer, datagram)) }
                }
                if toServer { client = connection } else { server = connection }
            }
            let deadlines = inFlight.map(\.arrival) + [client.nextDeadline, server.nextDeadline].compactMap { $0 }
            guard let next = deadlines.min() else { break }
            now = next
            for item in inFlight where item.arrival <= now {
                if item.toServer { server.handleDatagram(item.bytes, at: now) } else { client.handleDatagram(item.bytes, at: now) }
            }
            inFlight.removeAll { $0.arrival <= now }
            if let deadline = client.nextDeadline, deadline <= now { client.handleTimeout(at: now) }
            if let deadline = server.nextDeadline, deadline <= now { server.handleTimeout(at: now) }
            delivered += Script.events(&server).filter { if case .message = $0 { true } else { false } }.count
            Script.drainEvents(&client)
        }
        #expect(delivered == 30)
        #expect(client.statistics.retransmissions > 0 && server.statistics.retransmissions > 0)
        for (role, first) in [(Connection.Role.client, UInt32.max - 2), (.server, UInt32.max)] {
            let numbers = sent[role]!.map(\.header.packetNumber)
            #expect(numbers == (0..<UInt32(numbers.count)).map { first &+ $0 }, "\(role): one more per packet")
            var messageCopies: [UInt32: Set<UInt32>] = [:]
            for packet in sent[role]! {
                if case let .data(fragment, _) = packet.body, fragment.channel == .reliableOrdered {
                    messageCopies[fragment.messageNumber, default: []].insert(packet.header.packetNumber)
                }
            }
            #expect(messageCopies.values.contains { $0.count > 1 }, "\(role): some message went again, in a new packet")
        }
    }

    /// Specs/wire-format.md, section 2: flag bits 1-7 and the Reserved byte are ignored on receipt,
    /// and the acknowledgement fields count only when flag `A` is set.
    @Test("undefined flag bits and the reserved byte are ignored on receipt; without flag A the ack fields are ignored")
    func undefinedBitsAreIgnored() throws {
        let ping = hexBytes(specifiedVectors["PING"]!)
        var noisy = ping
        noisy[26] |= 0xFE
        noisy[27] = 0xFF
        #expect(try Packet.parse(resealed(noisy)) == Packet.parse(ping))
        var unflagged = ping
        unflagged[26] = 0
        #expect(try Packet.parse(resealed(unflagged)).header.acknowledgement == nil)
        var data = hexBytes(specifiedVectors["DATA"]!)
        data[33] = 0xFF   // the DATA body's reserved byte
        #expect(try Packet.parse(resealed(data)).body == Packet.parse(hexBytes(specifiedVectors["DATA"]!)).body)
    }

    /// Specs/wire-format.md, section 2: flag bits 1-7 and the Reserved byte MUST be 0 when sent (and
    /// the DATA body's reserved byte, section 5, is 0).
    @Test("every packet a connection sends has flag bits 1-7, the reserved byte and DATA's reserved byte at 0")
    func undefinedBitsAreSentAsZero() throws {
        var (client, server) = Script.establishedPair()
        try client.send([1, 2, 3], at: .ms(100))
        try client.send([4], on: .unreliable, at: .ms(100))
        var sent = Script.transmitAll(&client, at: .ms(100))
        for datagram in sent { server.handleDatagram(datagram, at: .ms(150)) }
        try server.send([5], at: .ms(150))
        sent += Script.transmitAll(&server, at: .ms(150))
        server.close(code: .normal, at: .ms(200))
        sent += Script.transmitAll(&server, at: .ms(200))
        #expect(Set(sent.map { Script.packet($0).type }).isSuperset(of: [.data, .close]))
        for datagram in sent {
            #expect(datagram[26] & 0xFE == 0)
            #expect(datagram[27] == 0)
            if Script.packet(datagram).type == .data { #expect(datagram[33] == 0) }
        }
    }

    /// Specs/wire-format.md, section 2 (Ack Delay) and section 8: the ack delay is counted in units of
    /// 8 µs and saturates at the field's maximum, 65,535 units = 524.28 ms.
    @Test("ack delay: 8 µs units, rounded down, saturating at 524.28 ms")
    func ackDelayUnits() {
        #expect(Acknowledgement.encodedDelay(.microseconds(40)) == 5)
        #expect(Acknowledgement.encodedDelay(.microseconds(47)) == 5)
        #expect(Acknowledgement.encodedDelay(.milliseconds(5)) == 625)
        #expect(Acknowledgement.encodedDelay(.microseconds(524_280)) == 0xFFFF)
        #expect(Acknowledgement.encodedDelay(.seconds(3)) == 0xFFFF)
        #expect(Acknowledgement.encodedDelay(.microseconds(-8)) == 0)
        #expect(Acknowledgement(largest: 0, delay: 0xFFFF).delayDuration == .microseconds(524_280))
    }

    /// Specs/wire-format.md, section 2: the parser checks in a fixed order and reports the first
    /// failure (magic, length, checksum, version, type, body).
    @Test("the first failure in the order magic, length, checksum, version, type, body is the one reported")
    func parserOrder() {
        let ping = hexBytes(specifiedVectors["PING"]!)
        var badMagicAndLong = ping + [UInt8](repeating: 0, count: 1200)
        badMagicAndLong[0] = 0
        #expect(parse(badMagicAndLong) == .badMagic)
        var longAndCorrupt = ping + [UInt8](repeating: 0, count: 1200)
        longAndCorrupt[28] ^= 0xFF
        #expect(parse(longAndCorrupt) == .invalidField("datagram length"), "length before checksum")
        var corruptAndOtherVersion = ping
        corruptAndOtherVersion[2] = 9
        #expect(parse(corruptAndOtherVersion) == .checksumMismatch, "checksum before version")
        var otherVersionAndType = ping
        otherVersionAndType[2] = 9
        otherVersionAndType[3] = 0x7F
        #expect(parse(resealed(otherVersionAndType)) == .unsupportedVersion(9), "version before type")
        var unknownTypeAndLongBody = ping + [0, 0]
        unknownTypeAndLongBody[3] = 0x7F
        #expect(parse(resealed(unknownTypeAndLongBody)) == .unknownType(0x7F), "type before body")
        let hello = hexBytes(specifiedVectors["HELLO"]!)
        #expect(parse(resealed(hello + [0])) == .invalidField("body length"))
        let close = hexBytes(specifiedVectors["CLOSE"]!)
        #expect(parse(resealed(Array(close.prefix(32)))) == .truncated, "CLOSE without its code is too short")
    }

    /// Specs/wire-format.md, section 2: a datagram whose checksum does not match is counted
    /// (`corruptDropped`), never delivered and never acknowledged.
    @Test("a corrupt DATA packet is counted, never delivered and never acknowledged")
    func corruptDataIsNeitherDeliveredNorAcknowledged() {
        var (server, forger) = forgedServer()
        var corrupt = forger.data(0, payload: [7])
        corrupt[corrupt.count - 1] ^= 0x01
        server.handleDatagram(corrupt, at: .ms(10))
        #expect(server.statistics.corruptDropped == 1)
        #expect(Script.events(&server).isEmpty)
        server.handleTimeout(at: .ms(20))
        let acknowledged = Script.transmitAll(&server, at: .ms(20)).compactMap { Script.packet($0).header.acknowledgement?.largest }
        #expect(acknowledged.allSatisfy { $0 == 0 }, "only the HELLO (packet 0) is ever acknowledged")
        #expect(server.statistics.packetsReceived == 1)
    }

    /// Specs/wire-format.md, section 3: ACK, CLOSE and RESET are not ack-eliciting; PING, DATA, HELLO
    /// and WELCOME are. An ACK packet goes only when nothing else carries the acknowledgement.
    @Test("an ACK is never acknowledged; a PING always is")
    func ackElicitingTypes() {
        var (server, forger) = forgedServer()
        _ = Script.transmitAll(&server, at: .ms(5))
        server.handleDatagram(forger.packet(.ack), at: .ms(10))
        server.handleTimeout(at: .ms(20))
        #expect(Script.transmitAll(&server, at: .ms(20)).isEmpty, "nothing answers an ACK")
        server.handleDatagram(forger.packet(.ping), at: .ms(30))
        server.handleTimeout(at: .ms(40))
        let answer = Script.transmitAll(&server, at: .ms(40)).map(Script.packet)
        #expect(answer.map(\.type) == [.ack])
        #expect(answer.first?.header.acknowledgement?.largest == 2)
    }

    /// Specs/wire-format.md, section 4, "Initial packet numbers": the handshake's packet numbers, per
    /// the table (first HELLO: the client's initial number; the HELLO with the cookie and everything
    /// after: the next; COOKIE: 0; WELCOME: the server's initial number, a repeated one the next).
    /// Specs/wire-format.md, section 6: The COOKIE acknowledges the HELLO (the client's first RTT sample); the
    /// WELCOME acknowledges the HELLO with the cookie.
    /// Specs/wire-format.md, section 6: The first valid packet other than COOKIE, RESET and CLOSE ends the client's
    /// handshake (a lost WELCOME followed by data costs nothing); another HELLO on a connection gets another WELCOME.
    @Test("handshake packet numbers: HELLO F, COOKIE 0, HELLO F+1, WELCOME S, then F+2 and S+1")
    func handshakePacketNumbers() throws {
        let jar = CookieJar(secret: (5, 6))
        let address: [UInt8] = [192, 0, 2, 1, 0x1F, 0x90]
        var client = Connection(role: .client, id: Script.id, now: .ms(0), firstPacketNumber: 0xFFFF_FFFF)
        let helloPolled = client.pollTransmit(at: .ms(0))
        let hello = try #require(helloPolled)
        #expect(Script.packet(hello).header.packetNumber == 0xFFFF_FFFF)
        guard case .reply(let cookie) = jar.respond(to: hello, from: address, at: .ms(10)) else {
            Issue.record("expected a COOKIE"); return
        }
        #expect(Script.packet(cookie).header.packetNumber == 0)
        client.handleDatagram(cookie, at: .ms(20))
        let secondPolled = client.pollTransmit(at: .ms(20))
        let second = try #require(secondPolled)
        #expect(Script.packet(second).header.packetNumber == 0, "the next number, across the wrap")
        let serverFirst = jar.initialPacketNumber(for: Script.id, address: address, at: .ms(30))
        var server = Connection(role: .server, id: Script.id, now: .ms(30), firstPacketNumber: serverFirst)
        server.handleDatagram(second, at: .ms(30))
        let welcomePolled = server.pollTransmit(at: .ms(30))
        let welcome = try #require(welcomePolled)
        #expect(Script.packet(welcome).header.packetNumber == serverFirst)
        #expect(Script.packet(welcome).header.acknowledgement?.largest == 0, "the WELCOME acknowledges that HELLO")
        client.handleDatagram(welcome, at: .ms(40))
        try client.send([1], at: .ms(40))
        let dataPolled = client.pollTransmit(at: .ms(40))
        let data = try #require(dataPolled)
        #expect(Script.packet(data).header.packetNumber == 1)
        // The client's HELLO again, as its probe would send it (a new packet): another WELCOME, the next number.
        let resent = Packet(header: PacketHeader(connectionID: Script.id, packetNumber: 1), body: Script.packet(second).body).emit()
        server.handleDatagram(resent, at: .ms(50))
        let again = Script.transmitAll(&server, at: .ms(50)).map(Script.packet).filter { $0.type == .welcome }
        #expect(again.map(\.header.packetNumber) == [serverFirst &+ 1])
    }

    /// Specs/wire-format.md, section 4, "Acceptance window": inside the window, a packet older than
    /// the last 1024 the receiver remembers is treated as a duplicate: dropped and not acknowledged.
    @Test("a packet older than the 1024 remembered is a duplicate: not delivered, not acknowledged")
    func tooOldIsADuplicate() {
        var (server, forger) = forgedServer()
        server.handleDatagram(forger.packet(.ping, number: 2000), at: .ms(10))
        _ = Script.transmitAll(&server, at: .ms(20))
        let duplicates = server.statistics.duplicatesDropped
        server.handleDatagram(forger.data(0, payload: [9]), at: .ms(30))   // packet number 1, 1999 behind
        #expect(Script.events(&server).isEmpty)
        #expect(server.statistics.duplicatesDropped == duplicates + 1)
        server.handleTimeout(at: .ms(40))
        for datagram in Script.transmitAll(&server, at: .ms(40)) {
            let ack = Script.packet(datagram).header.acknowledgement
            #expect(ack?.largest == 2000, "the largest stays; packet 1 is never named")
        }
    }

    /// Specs/wire-format.md, section 5: message numbers start at 0 on each channel, in each direction,
    /// and increase by one per message; every fragment of a message carries its number and count.
    @Test("each channel numbers its messages from 0 in each direction; fragments share number and count")
    func messageNumbersFromZeroPerChannel() throws {
        var configuration = Connection.Configuration.rfc9002
        configuration.congestionControl = .disabled
        var (client, server) = Script.establishedPair(configuration)
        try client.send([1], at: .ms(100))
        try client.send([2], on: .unreliable, at: .ms(100))
        try client.send([UInt8](repeating: 3, count: 2 * 1158 + 1), at: .ms(100))
        try client.send([4], on: .unreliable, at: .ms(100))
        try server.send([5], at: .ms(100))
        try server.send([6], on: .unreliable, at: .ms(100))
        let fromClient = Script.transmitAll(&client, at: .ms(100)).compactMap(Script.fragment)
        let reliable = fromClient.filter { $0.channel == .reliableOrdered }
        let unreliable = fromClient.filter { $0.channel == .unreliable }
        #expect(reliable.map(\.messageNumber) == [0, 1, 1, 1])
        #expect(reliable.map(\.fragmentIndex) == [0, 0, 1, 2])
        #expect(reliable.map(\.fragmentCount) == [1, 3, 3, 3])
        #expect(unreliable.map(\.messageNumber) == [0, 1])
        let fromServer = Script.transmitAll(&server, at: .ms(100)).compactMap(Script.fragment)
        #expect(fromServer.map(\.messageNumber) == [0, 0])
        #expect(Set(fromServer.map(\.channel)) == [.reliableOrdered, .unreliable])
    }

    /// Specs/wire-format.md, section 5, "The message window": a reliable fragment behind the head that
    /// was delivered already (its acknowledgement was lost) is acknowledged again and never delivered again.
    @Test("a retransmission of a delivered message is acknowledged again and not delivered twice")
    func retransmissionOfADeliveredMessage() {
        var (server, forger) = forgedServer()
        server.handleDatagram(forger.data(0, payload: [1]), at: .ms(10))
        #expect(Script.events(&server) == [.message([1], channel: .reliableOrdered)])
        server.handleDatagram(forger.data(0, payload: [1]), at: .ms(20))   // packet 2, same message
        #expect(Script.events(&server).isEmpty)
        #expect(server.statistics.protocolViolations == 0)
        #expect(largestAcknowledged(&server, at: .ms(20)) == 2)
    }

    /// Specs/wire-format.md, section 5: a sender MUST NOT send a reliable fragment for the first time
    /// while it is R or more fragments beyond its oldest unacknowledged reliable fragment.
    /// Specs/reliability.md, "Putting messages back in order": A bounded reorder buffer; a fragment it cannot take is
    /// dropped before it is recorded; the sender's window rule keeps that from happening; the head is always
    /// accepted; the unreliable channel apart.
    @Test("a sender sends no new reliable fragment R or more beyond its oldest unacknowledged one")
    func senderKeepsToTheWindow() throws {
        var configuration = Connection.Configuration.rfc9002
        configuration.congestionControl = .disabled
        configuration.reorderBufferLimit = 4
        var (client, server) = Script.establishedPair(configuration)
        for index in 0..<10 { try client.send([UInt8(index)], at: .ms(100)) }
        let first = Script.transmitAll(&client, at: .ms(100))
        #expect(first.compactMap(Script.fragment).map(\.messageNumber) == [0, 1, 2, 3])
        server.handleDatagram(first[0], at: .ms(150))   // only message 0 arrives
        server.handleTimeout(at: .ms(180))
        let ack = Script.transmitAll(&server, at: .ms(180))
        for datagram in ack { client.handleDatagram(datagram, at: .ms(200)) }
        let next = Script.transmitAll(&client, at: .ms(200)).compactMap(Script.fragment)
        #expect(next.map(\.messageNumber) == [4], "the oldest unacknowledged is now 1: up to 4, not beyond")
    }

    /// Specs/wire-format.md, section 5: on the unreliable channel a receiver holds at most R fragments of
    /// incomplete messages and gives up the oldest incomplete message when it needs room.
    /// Specs/reliability.md, "Putting messages back in order": A bounded reorder buffer; a fragment it cannot take is
    /// dropped before it is recorded; the sender's window rule keeps that from happening; the head is always
    /// accepted; the unreliable channel apart.
    @Test("the unreliable channel holds at most R incomplete fragments and gives up the oldest")
    func unreliableHoldsAtMostRFragments() {
        var configuration = Connection.Configuration()
        configuration.reorderBufferLimit = 64   // above 57, the least a receiver holds
        var (server, forger) = forgedServer(configuration)
        for message in UInt32(0)...64 {
            server.handleDatagram(forger.data(message, 0, of: 2, payload: Forger.full, channel: .unreliable), at: .ms(10))
        }
        server.handleDatagram(forger.data(0, 1, of: 2, channel: .unreliable), at: .ms(11))
        #expect(Script.events(&server).isEmpty, "message 0, the oldest, was given up")
        server.handleDatagram(forger.data(64, 1, of: 2, channel: .unreliable), at: .ms(12))
        #expect(Script.events(&server) == [.message(Forger.full + [1], channel: .unreliable)])
    }

    /// Specs/wire-format.md, section 6: a HELLO whose cookie's issue time lies in the future is dropped
    /// without an answer.
    @Test("a cookie issued in the future is dropped without an answer")
    func cookieFromTheFuture() throws {
        let jar = CookieJar(secret: (11, 22))
        let address: [UInt8] = [10, 0, 0, 7, 0x30, 0x39]
        let hello = Packet(header: PacketHeader(connectionID: Script.id, packetNumber: 5),
                           body: .hello(cookie: [UInt8](repeating: 0, count: 16))).emit()
        guard case .reply(let reply) = jar.respond(to: hello, from: address, at: .ms(5_000)),
              case .cookie(let cookie) = Script.packet(reply).body else {
            Issue.record("expected a COOKIE"); return
        }
        let echoed = Packet(header: PacketHeader(connectionID: Script.id, packetNumber: 6), body: .hello(cookie: cookie)).emit()
        guard case .drop = jar.respond(to: echoed, from: address, at: .ms(1_000)) else {
            Issue.record("a cookie from the future must be dropped"); return
        }
        #expect(jar.respond(to: echoed, from: address, at: .ms(5_000)) == .accept(Script.id))
    }

    /// Specs/wire-format.md, section 6: a client treats the first valid packet of any type other than
    /// COOKIE, RESET and CLOSE from the server as the end of the handshake, so a lost WELCOME followed
    /// by data costs nothing.
    @Test("a lost WELCOME followed by DATA: the DATA completes the handshake and is delivered")
    func dataCompletesTheHandshake() throws {
        var client = Connection(role: .client, id: Script.id, now: .ms(0))
        var server = Connection(role: .server, id: Script.id, now: .ms(50))
        let hello = client.pollTransmit(at: .ms(0))
        server.handleDatagram(try #require(hello), at: .ms(50))
        _ = Script.transmitAll(&server, at: .ms(50))   // the WELCOME is lost
        try server.send([42], at: .ms(60))
        let data = Script.transmitAll(&server, at: .ms(60))
        #expect(data.map { Script.packet($0).type } == [.data])
        for datagram in data { client.handleDatagram(datagram, at: .ms(110)) }
        #expect(client.state == .established)
        #expect(Script.events(&client) == [.connected, .message([42], channel: .reliableOrdered)])
    }

    /// Specs/wire-format.md, section 7: an endpoint that gives up an established connection after too
    /// many unanswered probes sends CLOSE with code 1, once.
    @Test("giving up after unanswered probes sends one CLOSE 1")
    func probeGiveUpSendsCloseOne() throws {
        var configuration = Connection.Configuration.rfc9002
        configuration.maximumProbeCount = 2
        configuration.maximumProbeTimeout = .milliseconds(325)   // every probe timeout is fully backed off
        var (client, _) = Script.establishedPair(configuration)
        try client.send([1], at: .ms(100))
        var sent = Script.transmitAll(&client, at: .ms(100)).map { Script.packet($0).body }
        while !client.isClosed, let deadline = client.nextDeadline {
            client.handleTimeout(at: deadline)
            sent += Script.transmitAll(&client, at: deadline).map { Script.packet($0).body }
        }
        #expect(client.state == .closed(.probeTimeout))
        #expect(sent.filter { if case .close = $0 { true } else { false } } == [.close(code: .idleTimeout)])
        #expect(sent.last == .close(code: .idleTimeout))
        #expect(client.nextDeadline == nil, "a CLOSE is not retransmitted")
    }

    /// Specs/wire-format.md, section 7: a client whose handshake never completed sends nothing when it
    /// gives up, by probes as by its idle timeout.
    @Test("a client that gives up its handshake by unanswered probes sends no CLOSE")
    func handshakeGiveUpSendsNothing() {
        var configuration = Connection.Configuration.rfc9002
        configuration.maximumProbeCount = 2
        configuration.maximumProbeTimeout = .milliseconds(999)   // every probe timeout is fully backed off
        var client = Connection(role: .client, id: Script.id, configuration: configuration, now: .ms(0))
        var sent = Script.transmitAll(&client, at: .ms(0)).map { Script.packet($0).type }
        while !client.isClosed, let deadline = client.nextDeadline {
            client.handleTimeout(at: deadline)
            sent += Script.transmitAll(&client, at: deadline).map { Script.packet($0).type }
        }
        #expect(client.state == .closed(.probeTimeout))
        #expect(sent.allSatisfy { $0 == .hello })
    }
}
