import LibCrypto
import Noise
import Testing

private func xxSessions() throws -> (NoiseSession, NoiseSession) {
    var (initiator, responder) = try makePair("XX")
    let (alice, relay, _) = try runHandshake(&initiator, &responder)
    return (alice, relay)
}

@Test func transportMessagesFlowBothWaysWithCountingNonces() throws {
    var (alice, relay) = try xxSessions()
    for round in 0 ..< 5 {
        let up = Array("up \(round)".utf8)
        let down = Array("down \(round)".utf8)
        #expect(try relay.decrypt(alice.encrypt(up)) == up)
        #expect(try alice.decrypt(relay.encrypt(down)) == down)
    }
    #expect(alice.sending?.nonce == 5 && alice.receiving?.nonce == 5)
    #expect(relay.sending?.nonce == 5 && relay.receiving?.nonce == 5)
}

@Test func aTamperedReplayedOrReorderedTransportMessageIsRefusedAndChangesNothing() throws {
    var (alice, relay) = try xxSessions()
    let first = try alice.encrypt(Array("first".utf8), associatedData: [1])
    let second = try alice.encrypt(Array("second".utf8), associatedData: [1])
    var tampered = first
    tampered[2] ^= 1
    #expect(throws: NoiseError.decryptionFailed) { try relay.decrypt(tampered, associatedData: [1]) }
    #expect(throws: NoiseError.decryptionFailed) { try relay.decrypt(first, associatedData: [2]) }
    #expect(throws: NoiseError.decryptionFailed) { try relay.decrypt(second, associatedData: [1]) }
    #expect(throws: NoiseError.decryptionFailed) { try relay.decrypt(Array(first.prefix(15)), associatedData: [1]) }
    #expect(relay.receiving?.nonce == 0)
    #expect(try relay.decrypt(first, associatedData: [1]) == Array("first".utf8))
    #expect(throws: NoiseError.decryptionFailed) { try relay.decrypt(first, associatedData: [1]) }
    #expect(try relay.decrypt(second, associatedData: [1]) == Array("second".utf8))
    #expect(relay.receiving?.nonce == 2)
}

@Test func explicitNoncesSealOutOfOrderPacketsWithoutChangingTheState() throws {
    // The UDP integration: the packet number is the nonce, carried in the header.
    let (alice, relay) = try xxSessions()
    let sender = try #require(alice.sending)
    let receiver = try #require(relay.receiving)
    let header: [UInt8] = [0xDA, 0x7A, 1, 2]
    let packet7 = try sender.encrypt(Array("seven".utf8), associatedData: header, nonce: 7)
    let packet3 = try sender.encrypt(Array("three".utf8), associatedData: header, nonce: 3)
    #expect(try receiver.decrypt(packet3, associatedData: header, nonce: 3) == Array("three".utf8))
    #expect(try receiver.decrypt(packet7, associatedData: header, nonce: 7) == Array("seven".utf8))
    #expect(throws: NoiseError.decryptionFailed) { try receiver.decrypt(packet7, associatedData: header, nonce: 8) }
    #expect(sender.nonce == 0 && receiver.nonce == 0)
}

@Test func theNonceTwoToTheSixtyFourMinusOneIsNeverUsed() throws {
    var cipher = try CipherState(crypto: sha256Noise, key: [UInt8](repeating: 0x42, count: 32))
    var peer = cipher
    cipher.setNonce(UInt64.max - 1)
    peer.setNonce(UInt64.max - 1)
    let last = try cipher.encrypt(Array("last".utf8))
    #expect(cipher.nonce == UInt64.max)
    #expect(throws: NoiseError.nonceExhausted) { try cipher.encrypt(Array("one more".utf8)) }
    #expect(try peer.decrypt(last) == Array("last".utf8))
    #expect(throws: NoiseError.nonceExhausted) { try peer.decrypt(last) }
    #expect(throws: NoiseError.nonceExhausted) { try cipher.encrypt([1], nonce: UInt64.max) }
    #expect(throws: NoiseError.nonceExhausted) { try cipher.decrypt(last, nonce: UInt64.max) }
    #expect(cipher.nonce == UInt64.max)
}

@Test func rekeyTakesTheFirst32BytesOfEncryptingZerosAtTheReservedNonce() throws {
    let key = [UInt8](repeating: 0x42, count: 32)
    var cipher = try CipherState(crypto: sha256Noise, key: key)
    _ = try cipher.encrypt([0])
    try cipher.rekey()
    #expect(cipher.nonce == 1) // Rekey leaves the nonce alone.
    let expectedKey = Array(try ChaChaPoly.seal([UInt8](repeating: 0, count: 32), key: key,
                                                nonce: ChaChaPoly.noiseNonce(UInt64.max)).prefix(32))
    let sealed = try cipher.encrypt(Array("after rekey".utf8), associatedData: [9])
    #expect(sealed == (try ChaChaPoly.seal(Array("after rekey".utf8), key: expectedKey,
                                           nonce: ChaChaPoly.noiseNonce(1), associatedData: [9])))
}

@Test func bothSidesRekeyingAtTheSameMessageKeepTheConversationGoing() throws {
    var (alice, relay) = try xxSessions()
    #expect(try relay.decrypt(alice.encrypt([1])) == [1])
    try alice.rekeySending()
    let afterRekey = try alice.encrypt([2])
    // A receiver that has not rekeyed cannot read it...
    #expect(throws: NoiseError.decryptionFailed) { try relay.decrypt(afterRekey) }
    // ...and one that has, can.
    try relay.rekeyReceiving()
    #expect(try relay.decrypt(afterRekey) == [2])
    // The other direction is untouched.
    #expect(try alice.decrypt(relay.encrypt([3])) == [3])
}

@Test func transportMessagesOverNoisesLimitAreRefused() throws {
    var (alice, relay) = try xxSessions()
    #expect(throws: NoiseError.messageTooLong(length: 65520, limit: 65519)) {
        try alice.encrypt([UInt8](repeating: 0, count: 65520))
    }
    #expect(throws: NoiseError.messageTooLong(length: 65536, limit: 65535)) {
        try relay.decrypt([UInt8](repeating: 0, count: 65536))
    }
    let largest = try alice.encrypt([UInt8](repeating: 0, count: 65519))
    #expect(largest.count == 65535)
    #expect(try relay.decrypt(largest).count == 65519)
}

@Test func aCipherStateWithoutAKeyPassesTextThroughAsNoiseDefines() throws {
    var cipher = try CipherState(crypto: sha256Noise, key: nil)
    #expect(!cipher.hasKey)
    #expect(try cipher.encrypt([1, 2, 3]) == [1, 2, 3])
    #expect(cipher.nonce == 0)
    #expect(throws: NoiseError.invalidKeyLength(expected: 32, actual: 5)) {
        try CipherState(crypto: sha256Noise, key: [1, 2, 3, 4, 5])
    }
}

@Test func aKeyPairNeverPrintsItsPrivateKey() throws {
    var pair = try fixedKeyPair("printed")
    let text = "\(pair)"
    #expect(text.contains(hex(pair.publicKey)))
    #expect(!text.contains(hex(pair.privateKey)))
    pair.wipe()
    #expect(pair.privateKey.isEmpty)
}
