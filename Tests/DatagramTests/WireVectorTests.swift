import Testing
@testable import Datagram

/// Specs/wire-format.md section 9, byte for byte. Keep the two in step.
let specifiedVectors: [String: String] = [
    "HELLO": """
        da 7a 01 10 12 34 ab cd ff ff ff fe 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 7a f6 a9 a4
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        """,
    "COOKIE": """
        da 7a 01 11 12 34 ab cd 00 00 00 00 ff ff ff fe
        00 00 00 00 00 00 00 00 00 00 01 00 f5 ca 4c 72
        00 00 00 00 00 00 27 10 96 82 86 4e d4 cb 2b 2b
        """,
    "WELCOME": """
        da 7a 01 12 12 34 ab cd 00 00 00 07 ff ff ff ff
        00 00 00 00 00 00 00 01 00 00 01 00 3d 5a 05 a5
        """,
    "DATA": """
        da 7a 01 01 12 34 ab cd ff ff ff ff 00 00 00 02
        80 00 00 00 00 00 00 03 02 71 01 00 fe f8 9b 25
        00 00 00 00 ff ff ff fe 00 01 68 69
        """,
    "ACK": """
        da 7a 01 02 12 34 ab cd 00 00 00 10 00 00 00 2a
        ff ff ff ff ff ff ff ff 00 05 01 00 00 9c 46 01
        """,
    "PING": """
        da 7a 01 03 12 34 ab cd 00 00 00 11 00 00 00 2a
        00 00 00 00 00 00 00 00 00 00 01 00 5e be 36 67
        """,
    "CLOSE": """
        da 7a 01 04 12 34 ab cd 00 00 00 12 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 9d 34 17 ae
        03
        """,
    "RESET": """
        da 7a 01 05 12 34 ab cd 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 c1 d8 b9 a0
        """,
]

func hexBytes(_ text: String) -> [UInt8] {
    text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { UInt8($0, radix: 16)! }
}

@Suite("Wire format test vectors (section 9), both ways")
struct WireVectorTests {
    /// Specs/wire-format.md, section 1: One datagram carries one packet: the 32-byte header, then the body; integers
    /// big-endian.
    /// Specs/wire-format.md, section 2: The checksum is CRC-32C of the datagram with the field zeroed.
    /// Specs/wire-format.md, section 4: The acknowledgement covers the largest and the 64 packets before it.
    /// Specs/wire-format.md, section 9: Every vector decodes to its fields and encodes to its bytes; CRC-32C and
    /// SipHash-2-4 check values; the spec shows exactly the tested vectors.
    @Test("every vector's bytes decode to its fields", arguments: WireVectors.all.map(\.name))
    func decodes(name: String) throws {
        let expected = WireVectors.all.first { $0.name == name }!.packet
        let packet = try Packet.parse(hexBytes(specifiedVectors[name]!))
        #expect(packet == expected)
    }

    /// Specs/wire-format.md, section 1: One datagram carries one packet: the 32-byte header, then the body; integers
    /// big-endian.
    /// Specs/wire-format.md, section 2: The checksum is CRC-32C of the datagram with the field zeroed.
    /// Specs/wire-format.md, section 9: Every vector decodes to its fields and encodes to its bytes; CRC-32C and
    /// SipHash-2-4 check values; the spec shows exactly the tested vectors.
    @Test("every vector's fields encode to its bytes", arguments: WireVectors.all.map(\.name))
    func encodes(name: String) {
        let packet = WireVectors.all.first { $0.name == name }!.packet
        #expect(packet.emit() == hexBytes(specifiedVectors[name]!))
    }

    /// Specs/wire-format.md, section 4: Serial-number arithmetic (RFC 1982) across the wrap.
    /// Specs/wire-format.md, section 4: The acknowledgement covers the largest and the 64 packets before it.
    /// Specs/wire-format.md, section 9: Every vector decodes to its fields and encodes to its bytes; CRC-32C and
    /// SipHash-2-4 check values; the spec shows exactly the tested vectors.
    @Test("the DATA vector's numbers wrap: packet 0xFFFFFFFF acknowledges up to 2, past zero")
    func dataVectorWraps() throws {
        let packet = try Packet.parse(hexBytes(specifiedVectors["DATA"]!))
        let acknowledgement = try #require(packet.header.acknowledgement)
        #expect(acknowledgement.acknowledgedPacketNumbers == [2, 1, 0, 0xFFFF_FFC2])
        #expect(acknowledgement.delayDuration == .milliseconds(5))
        #expect(UInt32(2).isSerialAfter(packet.header.packetNumber))
    }

    /// Specs/wire-format.md, section 6: The cookie: issue time and a SipHash-2-4 MAC over the address (4 or 16 bytes,
    /// v4-mapped as IPv4), port, connection id and time.
    /// Specs/wire-format.md, section 9: Every vector decodes to its fields and encodes to its bytes; CRC-32C and
    /// SipHash-2-4 check values; the spec shows exactly the tested vectors.
    @Test("the COOKIE vector's cookie is what the jar mints for that client and time")
    func cookieVectorIsGenuine() throws {
        let packet = try Packet.parse(hexBytes(specifiedVectors["COOKIE"]!))
        #expect(packet.body == .cookie(WireVectors.cookie))
        let jar = CookieJar(secret: WireVectors.secret)
        #expect(jar.check(WireVectors.cookie, id: WireVectors.id, from: WireVectors.clientAddress,
                          at: WireVectors.cookieIssueTime + .seconds(1)) == .valid)
    }

    /// Specs/wire-format.md, section 2: The checksum is CRC-32C of the datagram with the field zeroed.
    /// Specs/wire-format.md, section 9: Every vector decodes to its fields and encodes to its bytes; CRC-32C and
    /// SipHash-2-4 check values; the spec shows exactly the tested vectors.
    @Test("CRC-32C and SipHash-2-4 match their published check values")
    func primitives() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(SipHash24.hash([], key: WireVectors.secret) == 0x726F_DB47_DD0E_0E31)
        #expect(SipHash24.hash(Array(0..<15), key: WireVectors.secret) == 0xA129_CA61_49BE_45E5)
    }
}
