import LibCrypto
import Testing

private func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

/// RFC 7914, section 12: scrypt("password", "NaCl", N = 1024, r = 8, p = 16, dkLen = 64).
@Test func scryptMatchesTheRFC7914Vector() throws {
    let derived = try Scrypt.derive(password: Array("password".utf8), salt: Array("NaCl".utf8),
                                    cost: Scrypt.Cost(n: 1_024, r: 8, p: 16), length: 64)
    #expect(derived == hex("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
                           + "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"))
}

/// RFC 7914, section 12: the empty password and salt with N = 16, r = 1, p = 1.
@Test func scryptMatchesTheRFC7914VectorWithEmptyInputs() throws {
    let derived = try Scrypt.derive(password: [], salt: [], cost: Scrypt.Cost(n: 16, r: 1, p: 1), length: 64)
    #expect(derived == hex("77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
                           + "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"))
}

/// Parameters libcrypto refuses are an error, not a trap.
@Test func scryptRefusesACostThatIsNotAPowerOfTwo() {
    #expect(throws: LibCryptoError.self) {
        _ = try Scrypt.derive(password: Array("pw".utf8), salt: [1], cost: Scrypt.Cost(n: 1_000, r: 8, p: 1))
    }
}
