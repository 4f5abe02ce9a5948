import Foundation
import Testing
@testable import Datagram

/// Coalesced datagrams: several ready packets of one connection in one datagram (Specs/wire-format.md,
/// section 11; Specs/reliability.md, "Coalescing").
@Suite("Coalescing")
struct CoalescingTests {
    static var coalescing: Connection.Configuration {
        var configuration = Connection.Configuration.rfc9002
        configuration.coalescesPackets = true
        return configuration
    }

    static func message(_ index: Int, size: Int = 60) -> [UInt8] { [UInt8](repeating: UInt8(index), count: size) }

    /// Specs/wire-format.md, section 11: the prefix, then each packet after its length; the spec's vector
    /// is the ACK and the PING of section 9 in one datagram, split and joined byte for byte.
    @Test("section 11's vector splits into section 9's ACK and PING and joins back to the same bytes")
    func coalescedVector() throws {
        let vectors = Dictionary(uniqueKeysWithValues: WireVectors.all.map { ($0.name, $0.packet.emit()) })
        let ack = try #require(vectors["ACK"]), ping = try #require(vectors["PING"])
        let joined = CoalescedDatagram.join([ack, ping])
        #expect(joined.count == 72)
        #expect(try specVector() == joined)
        let (packets, isIntact) = CoalescedDatagram.split(joined)
        #expect(isIntact)
        #expect(packets.map(Array.init) == [ack, ping])
        #expect(PacketHeader.peek(joined)?.type == .ack)
        #expect(PacketHeader.peek(joined)?.connectionID == WireVectors.id)
    }

    /// Specs/wire-format.md, section 11: small packets ready at one send opportunity share a datagram;
    /// the receiver handles each as if it came alone and delivers every message in order.
    @Test("five small messages sent at once leave in one datagram and arrive in order")
    func readyPacketsShareOneDatagram() {
        var (client, server) = Script.establishedPair(Self.coalescing)
        for index in 0..<5 { _ = try? client.send(Self.message(index), at: .ms(100)) }
        let datagrams = Script.transmitAll(&client, at: .ms(100))
        #expect(datagrams.count == 1)
        #expect(CoalescedDatagram.isCoalesced(datagrams[0]))
        #expect(CoalescedDatagram.split(datagrams[0]).packets.count == 5)
        #expect(datagrams[0].count <= Limits.maximumDatagramSize)
        #expect(client.statistics.coalescedDatagrams == 1)
        #expect(client.statistics.coalescedPackets == 5)
        server.handleDatagram(datagrams[0], at: .ms(150))
        let delivered = Script.events(&server).compactMap { event -> [UInt8]? in
            if case let .message(bytes, _) = event { return bytes } else { return nil }
        }
        #expect(delivered == (0..<5).map { Self.message($0) })
        #expect(server.statistics.malformedDropped == 0)
    }

    /// Specs/reliability.md, "Coalescing": nothing waits for company: a lone message goes at once, as a plain packet.
    @Test("a lone message leaves at once in a plain packet")
    func aLoneMessageIsNotDelayed() {
        var (client, _) = Script.establishedPair(Self.coalescing)
        _ = try? client.send(Self.message(1), at: .ms(100))
        let datagrams = Script.transmitAll(&client, at: .ms(100))
        #expect(datagrams.count == 1)
        #expect(!CoalescedDatagram.isCoalesced(datagrams[0]))
        #expect(Script.fragment(datagrams[0])?.messageNumber == 0)
    }

    /// Specs/wire-format.md, section 11: at most 1200 bytes; a packet that does not fit leads the next
    /// datagram, at the same instant.
    @Test("three 500-byte messages: two share the first datagram, the third leads the next")
    func aPacketThatDoesNotFitLeadsTheNextDatagram() {
        var (client, server) = Script.establishedPair(Self.coalescing)
        for index in 0..<3 { _ = try? client.send(Self.message(index, size: 500), at: .ms(100)) }
        let datagrams = Script.transmitAll(&client, at: .ms(100))
        #expect(datagrams.count == 2)
        #expect(CoalescedDatagram.split(datagrams[0]).packets.count == 2)
        #expect(!CoalescedDatagram.isCoalesced(datagrams[1]))
        #expect(datagrams.allSatisfy { $0.count <= Limits.maximumDatagramSize })
        for datagram in datagrams { server.handleDatagram(datagram, at: .ms(150)) }
        let delivered = Script.events(&server).filter { if case .message = $0 { true } else { false } }
        #expect(delivered.count == 3)
    }

    /// Specs/wire-format.md, section 11: only an established connection coalesces; the handshake goes in plain packets.
    @Test("the handshake is never coalesced")
    func handshakeIsNeverCoalesced() {
        var client = Connection(role: .client, id: Script.id, configuration: Self.coalescing, now: .ms(0))
        _ = try? client.send(Self.message(1), at: .ms(0))
        let datagrams = Script.transmitAll(&client, at: .ms(0))
        #expect(datagrams.count == 1)
        #expect(Script.packet(datagrams[0]).type == .hello)
    }

    /// Specs/wire-format.md, section 11: framing stops at a bad length; the packets before it are
    /// handled, the rest counted as malformed and dropped.
    @Test("a broken length keeps the packets before it and counts the rest as malformed")
    func brokenFramingKeepsThePacketsBeforeIt() {
        var (client, server) = Script.establishedPair(Self.coalescing)
        for index in 0..<2 { _ = try? client.send(Self.message(index), at: .ms(100)) }
        var datagram = Script.transmitAll(&client, at: .ms(100))[0]
        let (packets, _) = CoalescedDatagram.split(datagram)
        let secondLength = CoalescedDatagram.prefixSize + CoalescedDatagram.lengthSize + packets[0].count
        datagram[secondLength] = 0xFF   // the second length now runs past the end
        let malformedBefore = server.statistics.malformedDropped
        server.handleDatagram(datagram, at: .ms(150))
        let delivered = Script.events(&server).filter { if case .message = $0 { true } else { false } }
        #expect(delivered.count == 1)
        #expect(server.statistics.malformedDropped == malformedBefore + 1)
        #expect(CoalescedDatagram.split([0xDA, 0x7A, 1, 0x16, 0x00, 0x10] + [UInt8](repeating: 0, count: 16)).isIntact == false)
    }

    /// The hex block under section 11 of Specs/wire-format.md.
    private func specVector() throws -> [UInt8] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Specs/wire-format.md"), encoding: .utf8)
        guard let section = text.range(of: "## 11. Coalesced datagrams") else { return [] }
        let blocks = text[section.upperBound...].components(separatedBy: "```")
        // blocks: [prose, diagram, prose, vector, ...]
        guard blocks.count >= 4 else { return [] }
        return blocks[3].split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt8($0, radix: 16) }
    }
}
