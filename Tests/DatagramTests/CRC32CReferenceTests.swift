@testable import Datagram
import Testing

/// The CRC-32C definition, one bit at a time (reflected polynomial 0x82F63B78, initial value and
/// final xor 0xFFFFFFFF): the reference the table-driven `CRC32C` must match bit for bit.
private func bitwiseCRC32C(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return crc ^ 0xFFFF_FFFF
}

/// A small deterministic generator (SplitMix64), so a failure names its seed.
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

@Test func crc32cMatchesTheBitwiseDefinitionOnEveryLengthFromZeroToOneHundred() {
    var random = SplitMix64(state: 13)
    let data = random.bytes(100)
    for length in 0...100 {
        #expect(CRC32C.checksum(Array(data[0..<length])) == bitwiseCRC32C(data[0..<length]), "length \(length)")
    }
}

@Test func crc32cMatchesTheBitwiseDefinitionOnRandomBuffersAtRandomStartOffsets() {
    var random = SplitMix64(state: 0xC0FFEE)
    for round in 0..<300 {
        let buffer = random.bytes(Int(random.next() % 1_500) + 1)
        let start = Int(random.next() % UInt64(buffer.count))
        let end = start + Int(random.next() % UInt64(buffer.count - start + 1))
        let fast = buffer.withUnsafeBytes { bytes in
            CRC32C.finish(CRC32C.update(CRC32C.start, UnsafeRawBufferPointer(rebasing: bytes[start..<end])))
        }
        #expect(fast == bitwiseCRC32C(buffer[start..<end]), "round \(round): \(start)..<\(end) of \(buffer.count)")
    }
}

@Test func crc32cUpdatedInPiecesEqualsTheChecksumOfTheWhole() {
    var random = SplitMix64(state: 7)
    let buffer = random.bytes(1_200)
    for cut in [0, 1, 7, 8, 15, 16, 17, 600, 1_199, 1_200] {
        let pieces = buffer.withUnsafeBytes { bytes in
            CRC32C.finish(CRC32C.update(CRC32C.update(CRC32C.start, UnsafeRawBufferPointer(rebasing: bytes[0..<cut])),
                                        UnsafeRawBufferPointer(rebasing: bytes[cut...])))
        }
        #expect(pieces == bitwiseCRC32C(buffer[...]), "cut at \(cut)")
    }
}

@Test func theDatagramChecksumIsTheCRCWithTheChecksumFieldTakenAsZero() {
    var random = SplitMix64(state: 32)
    for length in [32, 33, 47, 48, 49, 1_050, 1_200] {
        var datagram = random.bytes(length)
        let withField = CRC32C.datagramChecksum(datagram)
        for offset in 28..<32 { datagram[offset] = 0 }
        #expect(withField == bitwiseCRC32C(datagram[...]), "length \(length)")
    }
}
