/// CRC-32C (Castagnoli): reflected polynomial `0x82F63B78` (`0x1EDC6F41` unreflected), initial value
/// and final xor `0xFFFFFFFF`. Slicing-by-16: sixteen 256-entry tables (16 KiB), built once, consume
/// sixteen bytes per step (the first four as one little-endian word that meets the register, the
/// other twelve as single bytes that index their tables directly), the tail byte by byte.
///
/// Check value: `CRC32C.checksum(Array("123456789".utf8)) == 0xE3069283`.
enum CRC32C {
    /// The number of tables, and of bytes consumed per step.
    private static let slices = 16

    /// Table `k` (entries `256·k ..< 256·(k+1)`) advances the register over one byte followed by `k`
    /// zero bytes; table 0 is the classic byte-at-a-time table.
    private static let tables: [UInt32] = {
        var table = [UInt32](repeating: 0, count: slices * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            table[byte] = crc
        }
        for byte in 0..<256 {
            for slice in 1..<slices {
                let previous = table[(slice - 1) * 256 + byte]
                table[slice * 256 + byte] = (previous >> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return table
    }()

    /// The register value before any byte.
    static let start: UInt32 = 0xFFFF_FFFF

    /// The checksum from a register value.
    @inline(__always)
    static func finish(_ register: UInt32) -> UInt32 { register ^ 0xFFFF_FFFF }

    /// The CRC-32C of `bytes`.
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { finish(update(start, $0)) }
    }

    /// Advances `register` over `bytes`.
    static func update(_ register: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        tables.withUnsafeBufferPointer { buffer in
            let table = buffer.baseAddress!
            var crc = register
            var offset = 0
            let count = bytes.count
            while offset + 16 <= count {
                // The first four bytes meet the register; the other twelve index their tables
                // directly (one byte load each, no shifting and masking of a wide word).
                let a = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) ^ crc
                var next = table[15 * 256 + Int(a & 0xFF)] ^ table[14 * 256 + Int((a >> 8) & 0xFF)]
                    ^ table[13 * 256 + Int((a >> 16) & 0xFF)] ^ table[12 * 256 + Int(a >> 24)]
                next ^= table[11 * 256 + Int(bytes[offset + 4])] ^ table[10 * 256 + Int(bytes[offset + 5])]
                    ^ table[9 * 256 + Int(bytes[offset + 6])] ^ table[8 * 256 + Int(bytes[offset + 7])]
                next ^= table[7 * 256 + Int(bytes[offset + 8])] ^ table[6 * 256 + Int(bytes[offset + 9])]
                    ^ table[5 * 256 + Int(bytes[offset + 10])] ^ table[4 * 256 + Int(bytes[offset + 11])]
                next ^= table[3 * 256 + Int(bytes[offset + 12])] ^ table[2 * 256 + Int(bytes[offset + 13])]
                    ^ table[256 + Int(bytes[offset + 14])] ^ table[Int(bytes[offset + 15])]
                crc = next
                offset += 16
            }
            while offset < count {
                crc = (crc >> 8) ^ table[Int((crc ^ UInt32(bytes[offset])) & 0xFF)]
                offset += 1
            }
            return crc
        }
    }

    /// The checksum of a datagram as the wire format defines it: computed with bytes 28..<32 (the
    /// checksum field) taken as zero. `datagram` must be at least 32 bytes long.
    static func datagramChecksum(_ datagram: [UInt8]) -> UInt32 {
        datagram.withUnsafeBytes { bytes in
            var crc = update(start, UnsafeRawBufferPointer(rebasing: bytes[0..<28]))
            crc = withUnsafeBytes(of: UInt32(0)) { update(crc, $0) }
            crc = update(crc, UnsafeRawBufferPointer(rebasing: bytes[32...]))
            return finish(crc)
        }
    }
}
