/// CRC-32C (Castagnoli): reflected polynomial `0x82F63B78` (`0x1EDC6F41` unreflected), initial value
/// and final xor `0xFFFFFFFF`. Slicing-by-4 with tables built once.
///
/// Check value: `CRC32C.checksum(Array("123456789".utf8)) == 0xE3069283`.
enum CRC32C {
    /// Four 256-entry tables; table `k` advances the register over a byte followed by `k` zero bytes.
    private static let tables: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 1024)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            table[byte] = crc
        }
        for byte in 0..<256 {
            for slice in 1..<4 {
                let previous = table[(slice - 1) * 256 + byte]
                table[slice * 256 + byte] = (previous >> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return table
    }()

    /// The CRC-32C of `bytes`.
    static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        Array(bytes).withUnsafeBufferPointer { finish(update(start, $0)) }
    }

    /// The register value before any byte.
    static let start: UInt32 = 0xFFFF_FFFF

    /// The checksum from a register value.
    @inline(__always)
    static func finish(_ register: UInt32) -> UInt32 { register ^ 0xFFFF_FFFF }

    /// Advances `register` over `bytes`.
    static func update(_ register: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var crc = register
            var index = 0
            let count = bytes.count
            while index + 4 <= count {
                crc ^= UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
                    | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
                crc = table[768 + Int(crc & 0xFF)] ^ table[512 + Int((crc >> 8) & 0xFF)]
                    ^ table[256 + Int((crc >> 16) & 0xFF)] ^ table[Int(crc >> 24)]
                index += 4
            }
            while index < count {
                crc = (crc >> 8) ^ table[Int((crc ^ UInt32(bytes[index])) & 0xFF)]
                index += 1
            }
            return crc
        }
    }

    /// The checksum of a datagram as the wire format defines it: computed with bytes 28..<32 (the
    /// checksum field) taken as zero. `datagram` must be at least 32 bytes long.
    static func datagramChecksum(_ datagram: [UInt8]) -> UInt32 {
        datagram.withUnsafeBufferPointer { bytes in
            var crc = update(start, UnsafeBufferPointer(rebasing: bytes[0..<28]))
            crc = update(crc, zeros)
            crc = update(crc, UnsafeBufferPointer(rebasing: bytes[32...]))
            return finish(crc)
        }
    }

    private static func update(_ register: UInt32, _ zeros: [UInt8]) -> UInt32 {
        zeros.withUnsafeBufferPointer { update(register, $0) }
    }

    private static let zeros: [UInt8] = [0, 0, 0, 0]
}
