/// The acknowledgement fields of the header (wire format, section 2), present when flag `A` is set.
///
/// ```
///   largest = 1000, bitfield = 0b...0101
///   packet:   1000  999  998  997  996 ...
///   received:  yes  yes   no  yes   no ...
///              ^    bit0 bit1 bit2 bit3
/// ```
public struct Acknowledgement: Sendable, Hashable {
    /// The highest packet number received from the peer.
    public var largest: UInt32
    /// Bit `i` set: packet `largest - 1 - i` was received.
    public var bitfield: UInt64
    /// How long the largest was held before this acknowledgement, in units of 8 µs.
    public var delay: UInt16

    /// Creates acknowledgement fields.
    public init(largest: UInt32, bitfield: UInt64 = 0, delay: UInt16 = 0) {
        self.largest = largest
        self.bitfield = bitfield
        self.delay = delay
    }

    /// The ack delay as a duration.
    public var delayDuration: Duration { .microseconds(Int64(delay) * 8) }

    /// Encodes a duration as ack delay units, saturating at the field's maximum (524.28 ms).
    public static func encodedDelay(_ duration: Duration) -> UInt16 {
        let units = duration.wholeMicroseconds / 8
        return UInt16(clamping: Swift.max(0, units))
    }

    /// Every packet number this acknowledgement covers, largest first.
    public var acknowledgedPacketNumbers: [UInt32] {
        var numbers = [largest]
        var bits = bitfield
        while bits != 0 {
            let index = UInt32(bits.trailingZeroBitCount)
            numbers.append(largest &- 1 &- index)
            bits &= bits - 1
        }
        return numbers
    }
}

/// The fixed header fields every packet carries, other than magic, version, type and checksum.
public struct PacketHeader: Sendable, Hashable {
    /// The connection this packet belongs to.
    public var connectionID: ConnectionID
    /// This packet's number in the sender's space.
    public var packetNumber: UInt32
    /// The acknowledgement fields, when flag `A` is set.
    public var acknowledgement: Acknowledgement?

    /// Creates header fields.
    public init(connectionID: ConnectionID, packetNumber: UInt32, acknowledgement: Acknowledgement? = nil) {
        self.connectionID = connectionID
        self.packetNumber = packetNumber
        self.acknowledgement = acknowledgement
    }
}

extension PacketHeader {
    /// A datagram's connection id and packet type, read without parsing or checking the checksum, for
    /// a demultiplexer that must route a datagram before any connection sees it (the relay). `nil`
    /// unless the datagram holds a whole header (`Limits.headerSize` bytes) with this protocol's magic
    /// and version and a known type (wire format, section 2); nothing is read before that is checked.
    /// A datagram that peeks fine may still fail `Packet.parse` (bad checksum, bad body).
    /// A coalesced datagram (section 11) peeks as its first packet.
    public static func peek(_ datagram: [UInt8]) -> (connectionID: ConnectionID, type: PacketType)? {
        if CoalescedDatagram.isCoalesced(datagram) {
            let start = CoalescedDatagram.prefixSize + CoalescedDatagram.lengthSize
            guard datagram.count >= start + HeaderLayout.size else { return nil }
            return peek(Array(datagram[start..<(start + HeaderLayout.size)]))
        }
        guard datagram.count >= HeaderLayout.size else { return nil }
        let view = PacketView(bytes: datagram)
        guard view.magic == HeaderLayout.magic, view.version == HeaderLayout.version,
              let type = PacketType(rawValue: view.typeCode) else { return nil }
        return (ConnectionID(rawValue: view.connectionID), type)
    }
}

extension PacketHeader {
    /// True when `datagram` is a HELLO carrying a cookie and Noise message 1 (80 bytes): a request for
    /// a sealed session. A HELLO of 48 bytes asks for a plaintext one (wire format, section 9.5).
    /// Looks at the length and type only; the connection checks the rest.
    public static func isSealedHello(_ datagram: [UInt8]) -> Bool {
        peek(datagram)?.type == .hello
            && datagram.count == HeaderLayout.size + HeaderLayout.cookieSize + NoiseMessageLength.first
    }
}

/// Field offsets and constants of the header (wire format, section 2).
enum HeaderLayout {
    static let magic: UInt16 = 0xDA7A
    static let version: UInt8 = 1
    static let size = 32
    static let typeOffset = 3
    static let connectionIDOffset = 4
    static let packetNumberOffset = 8
    static let largestAcknowledgedOffset = 12
    static let bitfieldOffset = 16
    static let ackDelayOffset = 24
    static let flagsOffset = 26
    static let checksumOffset = 28
    static let ackFlag: UInt8 = 0x01
    /// Flag bit 1, `K`: the key phase of a sealed packet (wire format, section 9.3).
    static let keyPhaseFlag: UInt8 = 0x02
    /// DATA body: channel, reserved, fragment index, message number, fragment count.
    static let dataFieldsSize = 10
    static let cookieSize = 16
}

/// A read-only view of a datagram's bytes with typed accessors for the header fields; it checks
/// nothing. `Packet.parse` validates through it (smoltcp's `Packet<&[u8]>` versus `Repr`).
struct PacketView {
    let bytes: [UInt8]

    var magic: UInt16 { readUInt16(at: 0) }
    var version: UInt8 { bytes[2] }
    var typeCode: UInt8 { bytes[HeaderLayout.typeOffset] }
    var connectionID: UInt32 { readUInt32(at: HeaderLayout.connectionIDOffset) }
    var packetNumber: UInt32 { readUInt32(at: HeaderLayout.packetNumberOffset) }
    var largestAcknowledged: UInt32 { readUInt32(at: HeaderLayout.largestAcknowledgedOffset) }
    var bitfield: UInt64 { readUInt64(at: HeaderLayout.bitfieldOffset) }
    var ackDelay: UInt16 { readUInt16(at: HeaderLayout.ackDelayOffset) }
    var flags: UInt8 { bytes[HeaderLayout.flagsOffset] }
    var checksum: UInt32 { readUInt32(at: HeaderLayout.checksumOffset) }
    var body: ArraySlice<UInt8> { bytes[HeaderLayout.size...] }

    func readUInt16(at offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    func readUInt32(at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    func readUInt64(at offset: Int) -> UInt64 {
        UInt64(readUInt32(at: offset)) << 32 | UInt64(readUInt32(at: offset + 4))
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendBigEndian(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    mutating func appendBigEndian(_ value: UInt64) {
        appendBigEndian(UInt32(truncatingIfNeeded: value >> 32))
        appendBigEndian(UInt32(truncatingIfNeeded: value))
    }
}
