import Testing
@testable import Datagram

@Suite("Malformed datagrams are rejected with typed errors")
struct WireErrorTests {
    let ping = hexBytes(specifiedVectors["PING"]!)

    /// Specs/wire-format.md, section 2: The parser's order and typed errors: magic, length (32 to 1200), checksum,
    /// version, type, then an exact body length (DATA: at least its fields).
    @Test("every truncation of a valid packet is `truncated` (or `badMagic` when the magic is cut)")
    func truncations() {
        #expect(parse([]) == .truncated)
        #expect(parse([0xDA]) == .truncated)
        for length in 2..<32 { #expect(parse(Array(ping.prefix(length))) == .truncated) }
        let data = hexBytes(specifiedVectors["DATA"]!)
        #expect(parse(resealed(Array(data.prefix(40)))) == .truncated)
        let hello = hexBytes(specifiedVectors["HELLO"]!)
        #expect(parse(resealed(Array(hello.prefix(40)))) == .truncated)
    }

    /// Specs/wire-format.md, section 2: Magic `0xDA7A`, else not ours and dropped (`badMagic`); version 1, else
    /// `unsupportedVersion`.
    /// Specs/wire-format.md, section 2: A receiver MUST verify the checksum before anything but length and magic; a
    /// mismatch is counted (`corruptDropped`), never delivered, never acknowledged.
    @Test("garbage is `badMagic`; a flipped bit is `checksumMismatch`")
    func garbageAndCorruption() {
        #expect(parse(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)) == .badMagic)
        for bit in [0, 7, 100, 200, 223] {
            var corrupted = ping
            corrupted[4 + bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(parse(corrupted) == .checksumMismatch)
        }
    }

    /// Specs/wire-format.md, section 2: Magic `0xDA7A`, else not ours and dropped (`badMagic`); version 1, else
    /// `unsupportedVersion`.
    /// Specs/wire-format.md, section 2: The parser's order and typed errors: magic, length (32 to 1200), checksum,
    /// version, type, then an exact body length (DATA: at least its fields).
    @Test("another version or an unknown type is named in the error")
    func versionAndType() {
        var version = ping
        version[2] = 2
        #expect(parse(resealed(version)) == .unsupportedVersion(2))
        var type = ping
        type[3] = 0x7F
        #expect(parse(resealed(type)) == .unknownType(0x7F))
    }

    /// Specs/wire-format.md, section 2: The parser's order and typed errors: magic, length (32 to 1200), checksum,
    /// version, type, then an exact body length (DATA: at least its fields).
    /// Specs/wire-format.md, section 5: DATA fields: channel 0, 1 or 2, fragment count 1-57, index below the count, a
    /// non-last fragment exactly 1158 bytes; otherwise `invalidField`, counted (`malformedDropped`), never
    /// acknowledged.
    @Test("forbidden field values are `invalidField`")
    func invalidFields() {
        var data = hexBytes(specifiedVectors["DATA"]!)
        data[32] = 3
        #expect(parse(resealed(data)) == .invalidField("channel"))
        data = hexBytes(specifiedVectors["DATA"]!)
        data[41] = 0
        #expect(parse(resealed(data)) == .invalidField("fragment count"))
        data[41] = 58
        #expect(parse(resealed(data)) == .invalidField("fragment count"))
        data = hexBytes(specifiedVectors["DATA"]!)
        data[35] = 1
        #expect(parse(resealed(data)) == .invalidField("fragment index"))
        #expect(parse(resealed(ping + [0])) == .invalidField("body length"))
        #expect(parse(resealed(ping + [UInt8](repeating: 0, count: 1200))) == .invalidField("datagram length"))
    }

    /// Specs/wire-format.md, section 2: Magic `0xDA7A`, else not ours and dropped (`badMagic`); version 1, else
    /// `unsupportedVersion`.
    /// Specs/wire-format.md, section 2: A receiver MUST verify the checksum before anything but length and magic; a
    /// mismatch is counted (`corruptDropped`), never delivered, never acknowledged.
    @Test("a connection counts malformed and corrupt input and carries on")
    func connectionCountsBadInput() {
        var connection = Connection(role: .server, id: WireVectors.id, now: .zero)
        connection.isTracing = true
        var corrupted = ping
        corrupted[20] ^= 0x10
        connection.handleDatagram(corrupted, at: .zero)
        connection.handleDatagram([1, 2, 3], at: .zero)
        #expect(connection.statistics.corruptDropped == 1)
        #expect(connection.statistics.malformedDropped == 1)
        #expect(connection.statistics.packetsReceived == 0)
        #expect(connection.state == .established)
    }
}

@Suite("Serial-number arithmetic wraps")
struct SequenceNumberTests {
    /// Specs/wire-format.md, section 4: Serial-number arithmetic (RFC 1982) across the wrap.
    @Test("comparisons across the wrap")
    func wrap() {
        #expect(UInt32(0).isSerialAfter(0xFFFF_FFFF))
        #expect(UInt32(5).serialDistance(from: 0xFFFF_FFFE) == 7)
        #expect(UInt32(0xFFFF_FFFE).serialDistance(from: 5) == -7)
        #expect(UInt32(0xFFFF_FFFF).isSerialBefore(3))
        #expect(!UInt32(7).isSerialAfter(7))
        #expect(UInt32(0x8000_0000 - 1).isSerialAfter(0))
    }
}
