import Testing
@testable import Datagram

@Suite("Peeking at a datagram's connection id and type (for demultiplexers)")
struct PacketPeekTests {
    /// Specs/wire-format.md, section 2: the header's magic, version, type and connection id fields.
    @Test("every section 9 vector peeks as its own connection id and type")
    func vectorsPeek() {
        for (name, packet) in WireVectors.all {
            let peeked = PacketHeader.peek(packet.emit())
            #expect(peeked?.connectionID == WireVectors.id, "\(name)")
            #expect(peeked?.type == packet.type, "\(name)")
        }
    }

    @Test("anything shorter than a header peeks as nothing, down to the empty datagram")
    func shortDatagrams() {
        let hello = WireVectors.all[0].packet.emit()
        for length in 0..<Limits.headerSize {
            #expect(PacketHeader.peek(Array(hello.prefix(length))) == nil, "\(length) bytes")
        }
    }

    @Test("wrong magic, another version or an unknown type peeks as nothing; a bad checksum does not matter")
    func foreignDatagrams() {
        let ping = WireVectors.all.first { $0.name == "PING" }!.packet.emit()
        var badMagic = ping
        badMagic[0] = 0x00
        var otherVersion = ping
        otherVersion[2] = 2
        var unknownType = ping
        unknownType[3] = 0x7F
        var badChecksum = ping
        badChecksum[ping.count - 1] ^= 0xFF
        #expect(PacketHeader.peek(badMagic) == nil)
        #expect(PacketHeader.peek(otherVersion) == nil)
        #expect(PacketHeader.peek(unknownType) == nil)
        #expect(PacketHeader.peek(badChecksum)?.type == .ping, "peek reads; it does not verify")
    }
}
