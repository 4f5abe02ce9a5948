/// Coalesced packets (wire format, section 11): several complete packets of one connection in one
/// datagram, QUIC-style (RFC 9000, section 12.2). The datagram starts with a 4-byte prefix (magic,
/// version, type `0x16`), then each packet preceded by its length:
///
/// ```
/// DA 7A 01 16 | length (2) | packet (length bytes) | length (2) | packet | ...
/// ```
///
/// Each packet is exactly what it would be alone (its own header, number, acknowledgement fields and
/// checksum), so loss recovery, acknowledgements and any per-packet protection are unchanged; the
/// prefix and lengths cost 4 + 2 bytes per packet, against 28 bytes of IP and UDP headers (and one
/// system call) per datagram saved. A coalesced datagram is at most `Limits.maximumDatagramSize`.
public enum CoalescedDatagram {
    /// The type byte of the prefix; no packet has this type.
    public static let typeCode: UInt8 = 0x16
    /// Magic, version, type.
    public static let prefixSize = 4
    /// The length before each packet.
    public static let lengthSize = 2
    /// The most a coalesced datagram may hold: packets at least a header long, up to the datagram limit.
    public static let maximumPackets = (Limits.maximumDatagramSize - prefixSize) / (lengthSize + HeaderLayout.size)

    /// True when `datagram` starts with the coalesced prefix (nothing else is checked).
    public static func isCoalesced(_ datagram: [UInt8]) -> Bool {
        datagram.count >= prefixSize && datagram[0] == 0xDA && datagram[1] == 0x7A
            && datagram[2] == HeaderLayout.version && datagram[3] == typeCode
    }

    /// The packets of a coalesced datagram, in order, and whether the framing was intact. Framing
    /// stops at the first length shorter than a header or running past the end (and at the datagram
    /// limit): the packets before it are returned, the rest is malformed (`isIntact` false).
    public static func split(_ datagram: [UInt8]) -> (packets: [ArraySlice<UInt8>], isIntact: Bool) {
        guard isCoalesced(datagram), datagram.count <= Limits.maximumDatagramSize else { return ([], false) }
        var packets: [ArraySlice<UInt8>] = []
        var offset = prefixSize
        while offset < datagram.count {
            guard offset + lengthSize <= datagram.count else { return (packets, false) }
            let length = Int(datagram[offset]) << 8 | Int(datagram[offset + 1])
            let start = offset + lengthSize
            guard length >= HeaderLayout.size, length <= datagram.count - start else { return (packets, false) }
            packets.append(datagram[start..<(start + length)])
            offset = start + length
        }
        return (packets, !packets.isEmpty)
    }

    /// The bytes of a datagram carrying `packets` (each a complete packet) in order. The caller keeps
    /// the total within `Limits.maximumDatagramSize` (`size(adding:to:)`).
    public static func join(_ packets: [[UInt8]]) -> [UInt8] {
        var datagram: [UInt8] = [0xDA, 0x7A, HeaderLayout.version, typeCode]
        datagram.reserveCapacity(packets.reduce(prefixSize) { $0 + lengthSize + $1.count })
        for packet in packets {
            datagram.appendBigEndian(UInt16(packet.count))
            datagram += packet
        }
        return datagram
    }

    /// The size of a coalesced datagram of `packetBytes` bytes of packets in `count` packets.
    public static func size(packetBytes: Int, count: Int) -> Int {
        prefixSize + count * lengthSize + packetBytes
    }
}
