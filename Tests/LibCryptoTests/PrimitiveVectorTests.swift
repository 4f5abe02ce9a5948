import LibCrypto
import Testing

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

private func bytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0 ..< $0 + 2], as: UTF8.self), radix: 16)! }
}

// MARK: X25519 (RFC 7748)

@Test func x25519MatchesTheRFC7748FunctionVectors() throws {
    // Section 5.2: X25519(scalar, u) for two inputs.
    #expect(hex(try X25519.sharedSecret(
        privateKey: bytes("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
        publicKey: bytes("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")))
        == "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
    #expect(hex(try X25519.sharedSecret(
        privateKey: bytes("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
        publicKey: bytes("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493")))
        == "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")
}

@Test func x25519MatchesTheRFC7748DiffieHellmanExample() throws {
    // Section 6.1: Alice and Bob's key pairs and their shared secret.
    let alice = bytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    let bob = bytes("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    let alicePublic = try X25519.publicKey(privateKey: alice)
    let bobPublic = try X25519.publicKey(privateKey: bob)
    #expect(hex(alicePublic) == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    #expect(hex(bobPublic) == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    #expect(hex(try X25519.sharedSecret(privateKey: alice, publicKey: bobPublic)) == shared)
    #expect(hex(try X25519.sharedSecret(privateKey: bob, publicKey: alicePublic)) == shared)
}

@Test func x25519RefusesALowOrderPublicKeyWithAnError() throws {
    let privateKey = try X25519.generatePrivateKey()
    // u = 0 and u = 1 are points of small order: the result would be all zeros.
    for lowOrder in [[UInt8](repeating: 0, count: 32), [1] + [UInt8](repeating: 0, count: 31)] {
        #expect(throws: LibCryptoError.invalidPublicKey) {
            try X25519.sharedSecret(privateKey: privateKey, publicKey: lowOrder)
        }
    }
}

@Test func x25519RefusesKeysOfTheWrongLengthWithAnError() throws {
    let privateKey = try X25519.generatePrivateKey()
    #expect(throws: LibCryptoError.invalidLength(what: "X25519 public key", expected: 32, actual: 31)) {
        try X25519.sharedSecret(privateKey: privateKey, publicKey: [UInt8](repeating: 9, count: 31))
    }
    #expect(throws: LibCryptoError.invalidLength(what: "X25519 private key", expected: 32, actual: 0)) {
        try X25519.publicKey(privateKey: [])
    }
}

@Test func generatedX25519KeysAgreeAndDiffer() throws {
    let a = try X25519.generatePrivateKey()
    let b = try X25519.generatePrivateKey()
    #expect(a != b)
    let ab = try X25519.sharedSecret(privateKey: a, publicKey: X25519.publicKey(privateKey: b))
    let ba = try X25519.sharedSecret(privateKey: b, publicKey: X25519.publicKey(privateKey: a))
    #expect(ab == ba)
}

// MARK: ChaCha20-Poly1305 (RFC 8439)

private let rfc8439Key = bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
private let rfc8439Nonce = bytes("070000004041424344454647")
private let rfc8439AssociatedData = bytes("50515253c0c1c2c3c4c5c6c7")
private let rfc8439Plaintext = Array(("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
                                      + "the future, sunscreen would be it.").utf8)
private let rfc8439Sealed = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
    + "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de5"
    + "76d26586cec64b6116" + "1ae10b594f09e26a7e902ecbd0600691"

@Test func chaChaPolySealMatchesTheRFC8439AEADVector() throws {
    // Section 2.8.2: ciphertext followed by the tag.
    let sealed = try ChaChaPoly.seal(rfc8439Plaintext, key: rfc8439Key, nonce: rfc8439Nonce,
                                     associatedData: rfc8439AssociatedData)
    #expect(hex(sealed) == rfc8439Sealed)
    #expect(try ChaChaPoly.open(sealed, key: rfc8439Key, nonce: rfc8439Nonce,
                                associatedData: rfc8439AssociatedData) == rfc8439Plaintext)
}

@Test func chaChaPolyOpenThrowsOnAnyAlteredByteAndReturnsNothing() {
    let sealed = bytes(rfc8439Sealed)
    for index in [0, 57, sealed.count - 16, sealed.count - 1] {
        var tampered = sealed
        tampered[index] ^= 0x01
        #expect(throws: LibCryptoError.authenticationFailed) {
            try ChaChaPoly.open(tampered, key: rfc8439Key, nonce: rfc8439Nonce, associatedData: rfc8439AssociatedData)
        }
    }
    var otherData = rfc8439AssociatedData
    otherData[0] ^= 0x80
    #expect(throws: LibCryptoError.authenticationFailed) {
        try ChaChaPoly.open(sealed, key: rfc8439Key, nonce: rfc8439Nonce, associatedData: otherData)
    }
    #expect(throws: LibCryptoError.authenticationFailed) {
        try ChaChaPoly.open(sealed, key: rfc8439Key, nonce: ChaChaPoly.noiseNonce(7), associatedData: rfc8439AssociatedData)
    }
    #expect(throws: LibCryptoError.authenticationFailed) {
        try ChaChaPoly.open(Array(sealed.prefix(15)), key: rfc8439Key, nonce: rfc8439Nonce)
    }
    #expect(throws: LibCryptoError.authenticationFailed) {
        try ChaChaPoly.open([], key: rfc8439Key, nonce: rfc8439Nonce)
    }
}

@Test func chaChaPolyRefusesAKeyOrNonceOfTheWrongLength() {
    #expect(throws: LibCryptoError.invalidLength(what: "ChaCha20-Poly1305 key", expected: 32, actual: 16)) {
        try ChaChaPoly.seal([1, 2, 3], key: [UInt8](repeating: 0, count: 16), nonce: ChaChaPoly.noiseNonce(0))
    }
    #expect(throws: LibCryptoError.invalidLength(what: "ChaCha20-Poly1305 nonce", expected: 12, actual: 8)) {
        try ChaChaPoly.open([UInt8](repeating: 0, count: 16), key: rfc8439Key, nonce: [UInt8](repeating: 0, count: 8))
    }
}

@Test func chaChaPolySealsAnEmptyPlaintextToATagAlone() throws {
    let sealed = try ChaChaPoly.seal([], key: rfc8439Key, nonce: ChaChaPoly.noiseNonce(0))
    #expect(sealed.count == 16)
    #expect(try ChaChaPoly.open(sealed, key: rfc8439Key, nonce: ChaChaPoly.noiseNonce(0)) == [])
}

@Test func noiseNonceIsFourZeroBytesThenTheCounterLittleEndian() {
    #expect(hex(ChaChaPoly.noiseNonce(0)) == "000000000000000000000000")
    #expect(hex(ChaChaPoly.noiseNonce(0x0102_0304_0506_0708)) == "000000000807060504030201")
    #expect(hex(ChaChaPoly.noiseNonce(UInt64.max)) == "00000000ffffffffffffffff")
}

// MARK: HMAC-SHA256 (RFC 4231), HKDF (RFC 5869), BLAKE2s (RFC 7693)

@Test func hmacSHA256MatchesTheRFC4231TestCases() {
    let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
        ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ([UInt8](repeating: 0xaa, count: 131),
         Array(("This is a test using a larger than block-size key and a larger than block-size data. The key needs "
                + "to be hashed before being used by the HMAC algorithm.").utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]
    for testCase in cases {
        #expect(hex(HMAC.sha256(key: testCase.key, data: testCase.data)) == testCase.mac)
    }
}

@Test func hmacAcceptsAnEmptyKeyAndAnEmptyMessage() {
    // HMAC-SHA256 with an empty key over an empty message (a widely published value).
    #expect(hex(HMAC.sha256(key: [], data: [])) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
}

@Test func hkdfMatchesTheRFC5869SHA256TestCases() throws {
    // Test case 1: salt and info.
    #expect(hex(try HKDF.deriveKey(inputKeyMaterial: [UInt8](repeating: 0x0b, count: 22), salt: Array(0...12),
                                   info: Array(0xf0...0xf9), length: 42))
        == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    // Test case 3: no salt, no info.
    #expect(hex(try HKDF.deriveKey(inputKeyMaterial: [UInt8](repeating: 0x0b, count: 22), salt: [], length: 42))
        == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
    #expect(throws: LibCryptoError.self) { try HKDF.deriveKey(inputKeyMaterial: [], salt: [], length: 255 * 32 + 1) }
}

@Test func blake2sMatchesTheRFC7693Vector() {
    // Appendix B: BLAKE2s-256("abc").
    #expect(hex(BLAKE2s.hash(Array("abc".utf8))) == "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982")
    #expect(hex(BLAKE2s.hash([])) == "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9")
}

// MARK: CSPRNG

@Test func cryptoRandomGivesTheRequestedCountAndDifferentBytesEachTime() throws {
    #expect(try CryptoRandom.bytes(0) == [])
    let first = try CryptoRandom.bytes(32)
    let second = try CryptoRandom.bytes(32)
    #expect(first.count == 32 && second.count == 32)
    #expect(first != second)
    #expect(throws: LibCryptoError.self) { try CryptoRandom.bytes(-1) }
}

@Test func secureZeroClearsTheArrayInPlace() {
    var secret: [UInt8] = [1, 2, 3, 4]
    secureZero(&secret)
    #expect(secret == [0, 0, 0, 0])
}
