import LibCrypto
import Noise
import Testing
import LinkSimulator

/// XX's first two messages, from fixed keys: the responder has read message 1 and written message 2.
private func xxAfterMessageTwo() throws -> (initiator: HandshakeState, responder: HandshakeState, message2: [UInt8]) {
    var (initiator, responder) = try makePair("XX")
    _ = try responder.readMessage(initiator.writeMessage())
    let message2 = try responder.writeMessage(Array("relay hello".utf8))
    return (initiator, responder, message2)
}

@Test func aTamperedHandshakeMessageIsRefusedAndChangesNothing() throws {
    var (initiator, _, message2) = try xxAfterMessageTwo()
    let before = initiator.handshakeHash
    for index in [0, 31, 32, 40, 79, 80, message2.count - 1] {
        var tampered = message2
        tampered[index] ^= 0x20
        #expect(throws: NoiseError.decryptionFailed) { try initiator.readMessage(tampered) }
        #expect(initiator.handshakeHash == before)
        #expect(initiator.nextStep == .readMessage)
        #expect(initiator.remoteStaticKey == nil)
    }
    // The genuine message still reads after the forgeries.
    #expect(try initiator.readMessage(message2) == Array("relay hello".utf8))
    #expect(initiator.remoteStaticKey == (try fixedKeyPair("responder static")).publicKey)
}

@Test func everyTruncationOfAHandshakeMessageIsRefusedWithoutATrap() throws {
    var (initiator, _, message2) = try xxAfterMessageTwo()
    let minimum = initiator.minimumLength(ofMessage: 1)
    #expect(minimum == 32 + 48 + 16)
    for length in 0 ..< message2.count {
        let truncated = Array(message2.prefix(length))
        #expect(throws: NoiseError.self) { try initiator.readMessage(truncated) }
        if length < minimum {
            #expect(throws: NoiseError.messageTooShort(length: length, minimum: minimum)) {
                try initiator.readMessage(truncated)
            }
        }
    }
    #expect(try initiator.readMessage(message2) == Array("relay hello".utf8))
}

@Test func aHandshakeMessageFedTwiceIsRefusedAsOutOfTurn() throws {
    var (initiator, responder) = try makePair("XX")
    let message1 = try initiator.writeMessage()
    _ = try responder.readMessage(message1)
    #expect(throws: NoiseError.notOurTurn) { try responder.readMessage(message1) }
    _ = try initiator.readMessage(responder.writeMessage())
    let message3 = try initiator.writeMessage()
    _ = try responder.readMessage(message3)
    #expect(throws: NoiseError.handshakeComplete) { try responder.readMessage(message3) }
    #expect(throws: NoiseError.handshakeComplete) { try initiator.writeMessage() }
}

@Test func writingOutOfTurnAndSplittingEarlyAreRefused() throws {
    var (initiator, responder) = try makePair("XX")
    #expect(throws: NoiseError.notOurTurn) { try responder.writeMessage() }
    #expect(throws: NoiseError.notOurTurn) { try initiator.readMessage([UInt8](repeating: 0, count: 32)) }
    #expect(throws: NoiseError.handshakeNotComplete) { try initiator.split() }
    #expect(initiator.nextStep == .writeMessage && responder.nextStep == .readMessage)
}

@Test func aLowOrderEphemeralKeyIsRefusedAsAnInvalidPublicKey() throws {
    // IK's first message: "e, es": the responder's DH with an all-zero ephemeral yields zeros.
    var (_, responder) = try makePair("IK")
    let forged = [UInt8](repeating: 0, count: 32 + 48 + 16)
    #expect(throws: NoiseError.invalidPublicKey) { try responder.readMessage(forged) }
    #expect(responder.remoteEphemeralKey == nil)
    // XX's responder reads a zero ephemeral without a DH, then refuses to write "ee" with it.
    var (_, xxResponder) = try makePair("XX")
    _ = try xxResponder.readMessage([UInt8](repeating: 0, count: 32))
    #expect(throws: NoiseError.invalidPublicKey) { try xxResponder.writeMessage() }
    #expect(xxResponder.nextStep == .writeMessage)
}

@Test func messagesOverNoisesLimitAreRefused() throws {
    var (initiator, responder) = try makePair("XX")
    #expect(throws: NoiseError.messageTooLong(length: 65536, limit: 65535)) {
        try initiator.writeMessage([UInt8](repeating: 0, count: 65536))
    }
    #expect(throws: NoiseError.messageTooLong(length: 65536, limit: 65535)) {
        try responder.readMessage([UInt8](repeating: 0, count: 65536))
    }
    // The payload fits but the message with its ephemeral key would not.
    #expect(throws: NoiseError.messageTooLong(length: 65535 + 32, limit: 65535)) {
        try initiator.writeMessage([UInt8](repeating: 0, count: 65535))
    }
    _ = try initiator.writeMessage([UInt8](repeating: 0, count: 65535 - 32))
}

@Test func randomBytesAtEveryReadingStepOfEveryPatternNeverTrap() throws {
    var random = SplitMix64(seed: 0x4E01_5E)
    var refused = 0
    var accepted = 0
    for name in HandshakePattern.allBaseNames + ["XXpsk3", "IKpsk2"] {
        var (initiator, responder) = try makePair(name)
        var step = 0
        while !initiator.isComplete || !responder.isComplete {
            let initiatorWrites = initiator.nextStep == .writeMessage
            let reader = initiatorWrites ? responder : initiator
            // Garbage of random lengths around the expected one, then the genuine message.
            let expected = reader.minimumLength(ofMessage: step)
            for _ in 0 ..< 24 {
                let length = max(0, expected + Int(random.next() % 40) - 20)
                let garbage = (0 ..< length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                var copy = reader
                do {
                    _ = try copy.readMessage(garbage)
                    accepted += 1 // only where nothing authenticates yet (NN's "e", for instance)
                } catch {
                    refused += 1
                }
            }
            if initiatorWrites {
                _ = try responder.readMessage(initiator.writeMessage())
            } else {
                _ = try initiator.readMessage(responder.writeMessage())
            }
            step += 1
        }
    }
    #expect(refused > 0)
    print("Noise random-input sweep: \(refused) refused, \(accepted) accepted where the pattern authenticates nothing yet")
}
