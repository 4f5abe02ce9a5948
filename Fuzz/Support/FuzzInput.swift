// Shared by every fuzz target (compiled into each one; see Fuzz/build.sh).
import Datagram

/// Reads a fuzzer's input as a program: bytes, integers and blobs, never past the end (reads past the
/// end yield zeros, so every input is a valid program).
struct FuzzInput {
    let bytes: [UInt8]
    var offset = 0

    init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        if let data, size > 0 {
            bytes = Array(UnsafeBufferPointer(start: data, count: size))
        } else {
            bytes = []
        }
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset >= bytes.count }
    var remaining: Int { max(0, bytes.count - offset) }

    mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func bool() -> Bool { byte() & 1 == 1 }

    mutating func uint16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    mutating func uint32() -> UInt32 { UInt32(uint16()) << 16 | UInt32(uint16()) }

    mutating func uint64() -> UInt64 { UInt64(uint32()) << 32 | UInt64(uint32()) }

    /// Up to `count` bytes (fewer at the end of the input).
    mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, offset + max(0, count))
        defer { offset = max(offset, end) }
        return offset < end ? Array(bytes[offset..<end]) : []
    }

    /// A length byte, then that many bytes.
    mutating func blob() -> [UInt8] { take(Int(byte())) }

    /// Everything left.
    mutating func rest() -> [UInt8] { take(remaining) }

    /// One of `choices`, chosen by the next byte.
    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(byte()) % choices.count] }
}

/// Stops the process the way libFuzzer records as a crash, naming the broken invariant.
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
               file: StaticString = #file, line: UInt = #line) {
    if !condition() {
        fatalError("fuzz invariant broken: \(message())", file: file, line: line)
    }
}

/// CRC-32C as the wire format defines a datagram's checksum (bytes 28..<32 taken as zero), so the
/// targets can seal arbitrary bytes and reach past the checksum check.
enum Checksum {
    static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// Writes the checksum into bytes 28..<32 of `datagram` (left alone when shorter than a header).
    static func seal(_ datagram: inout [UInt8]) {
        guard datagram.count >= Limits.headerSize else { return }
        var crc: UInt32 = 0xFFFF_FFFF
        for (index, byte) in datagram.enumerated() {
            let value = (28..<32).contains(index) ? 0 : byte
            crc = (crc >> 8) ^ table[Int((crc ^ UInt32(value)) & 0xFF)]
        }
        crc ^= 0xFFFF_FFFF
        datagram[28] = UInt8(truncatingIfNeeded: crc >> 24)
        datagram[29] = UInt8(truncatingIfNeeded: crc >> 16)
        datagram[30] = UInt8(truncatingIfNeeded: crc >> 8)
        datagram[31] = UInt8(truncatingIfNeeded: crc)
    }
}

/// Packets built from fuzzer bytes around a known connection id and packet-number neighbourhood, so
/// most of them parse and reach the state machine (a raw byte string would rarely pass the CRC).
enum PacketForge {
    /// A packet for `id`; `nearPacketNumber` is where the real sender's numbers are now.
    static func packet(_ input: inout FuzzInput, id: ConnectionID, nearPacketNumber: UInt32) -> [UInt8] {
        let kind = input.byte()
        let numberMode = input.byte()
        let packetNumber: UInt32 = switch numberMode % 4 {
        case 0: nearPacketNumber &+ UInt32(numberMode >> 2)
        case 1: nearPacketNumber &- UInt32(numberMode >> 2)
        case 2: nearPacketNumber &+ (UInt32(input.uint16()) << 4)
        default: input.uint32()
        }
        var acknowledgement: Acknowledgement?
        if input.bool() {
            acknowledgement = Acknowledgement(largest: input.uint32(), bitfield: input.uint64(), delay: input.uint16())
        }
        let header = PacketHeader(connectionID: id, packetNumber: packetNumber, acknowledgement: acknowledgement)
        switch kind % 10 {
        case 0, 1, 2, 3:
            let channel = input.pick(Channel.allCases)
            let count = UInt16(input.byte() % UInt8(Limits.maximumFragmentCount)) + 1
            let index = UInt16(input.byte()) % count
            let numberByte = input.byte()
            let number = numberByte & 0x80 == 0 ? UInt32(numberByte & 0x03) : UInt32(numberByte & 0x7F) << 25 | UInt32(input.uint32() >> 7)
            let isLast = index == count - 1
            let size = isLast ? Int(input.byte()) * Limits.maximumFragmentPayload / 255 : Limits.maximumFragmentPayload
            let payload = [UInt8](repeating: input.byte(), count: size)
            let fragment = FragmentHeader(channel: channel, messageNumber: number, fragmentIndex: index, fragmentCount: count)
            return Packet(header: header, body: .data(fragment, payload: payload[...])).emit()
        case 4: return Packet(header: header, body: .ack).emit()
        case 5: return Packet(header: header, body: .ping).emit()
        case 6: return Packet(header: header, body: .close(code: CloseCode(rawValue: input.byte()))).emit()
        case 7: return Packet(header: header, body: input.bool() ? .reset : .welcome).emit()
        case 8:
            switch input.byte() % 8 {
            case 0: return Packet(header: header, body: .hello(cookie: input.take(16).padded16)).emit()
            case 1: return Packet(header: header, body: .cookie(input.take(16).padded16)).emit()
            case 2: return Packet(header: header, body: .helloNoise(cookie: input.take(16).padded16,
                                                                  message: input.take(32).padded(to: 32))).emit()
            case 3: return Packet(header: header, body: .welcomeNoise(message: input.take(96).padded(to: 96))).emit()
            case 4: return Packet(header: header, body: .pathChallenge(input.take(8).padded(to: 8))).emit()
            case 5: return Packet(header: header, body: .pathResponse(input.take(8).padded(to: 8))).emit()
            case 6: return Packet(header: header, body: .resetToken(input.take(16).padded(to: 16))).emit()
            default: return Packet(header: header, body: .finish(message: input.take(64).padded(to: 64))).emit()
            }
        default:
            var raw = Packet(header: header, body: .ping).emit()
            raw += input.blob()
            if raw.count > 3 { raw[3] = input.byte() }
            if input.bool() { raw[26] = input.byte() }
            Checksum.seal(&raw)
            return raw
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate var padded16: [UInt8] { Array((self + [UInt8](repeating: 0, count: 16)).prefix(16)) }
    fileprivate func padded(to count: Int) -> [UInt8] { Array((self + [UInt8](repeating: 0, count: count)).prefix(count)) }
}
