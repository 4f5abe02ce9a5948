import LibCrypto
import Noise
import Testing

let sha256Noise = LibCryptoNoise(hash: .sha256)

/// A fixed key pair per label, so that every transcript here is the same on every run.
func fixedKeyPair(_ label: String) throws -> NoiseKeyPair {
    try sha256Noise.keyPair(privateKey: SHA256.hash(Array("noise test key \(label)".utf8)))
}

/// An initiator and a responder for `pattern`, with fixed static and ephemeral keys and each side
/// given in advance whatever the pattern's pre-messages say it knows.
func makePair(_ patternName: String, prologue: [UInt8] = Array("prologue".utf8),
              psk: [UInt8] = [UInt8](repeating: 7, count: 32)) throws -> (HandshakeState, HandshakeState) {
    let pattern = try HandshakePattern.named(patternName)
    let initiatorStatic = try fixedKeyPair("initiator static")
    let responderStatic = try fixedKeyPair("responder static")
    let psks = [[UInt8]](repeating: psk, count: pattern.preSharedKeyCount)
    let initiator = try HandshakeState(
        pattern: pattern, role: .initiator, prologue: prologue, localStatic: initiatorStatic,
        localEphemeral: fixedKeyPair("initiator ephemeral"),
        remoteStatic: pattern.responderPreMessage.contains(.s) ? responderStatic.publicKey : nil,
        preSharedKeys: psks, crypto: sha256Noise)
    let responder = try HandshakeState(
        pattern: pattern, role: .responder, prologue: prologue, localStatic: responderStatic,
        localEphemeral: fixedKeyPair("responder ephemeral"),
        remoteStatic: pattern.initiatorPreMessage.contains(.s) ? initiatorStatic.publicKey : nil,
        preSharedKeys: psks, crypto: sha256Noise)
    return (initiator, responder)
}

/// Runs the handshake to the end with the given payloads; returns both sessions and every message.
func runHandshake(_ initiator: inout HandshakeState, _ responder: inout HandshakeState,
                  payload: (Int) -> [UInt8] = { _ in [] }) throws -> (NoiseSession, NoiseSession, [[UInt8]]) {
    var messages: [[UInt8]] = []
    var index = 0
    while !initiator.isComplete || !responder.isComplete {
        if initiator.nextStep == .writeMessage {
            let message = try initiator.writeMessage(payload(index))
            #expect(try responder.readMessage(message) == payload(index))
            messages.append(message)
        } else {
            let message = try responder.writeMessage(payload(index))
            #expect(try initiator.readMessage(message) == payload(index))
            messages.append(message)
        }
        index += 1
    }
    return (try initiator.split(), try responder.split(), messages)
}

// MARK: The chat's patterns

@Test func xxAuthenticatesBothStaticKeysInThreeMessages() throws {
    var (initiator, responder) = try makePair("XX")
    #expect(initiator.protocolName == "Noise_XX_25519_ChaChaPoly_SHA256")
    #expect(initiator.remoteStaticKey == nil && responder.remoteStaticKey == nil)
    let (alice, relay, messages) = try runHandshake(&initiator, &responder) { Array("payload \($0)".utf8) }
    #expect(messages.map(\.count) == [32 + 9, 32 + 48 + 9 + 16, 48 + 9 + 16])
    #expect(alice.remoteStaticKey == (try fixedKeyPair("responder static")).publicKey)
    #expect(relay.remoteStaticKey == (try fixedKeyPair("initiator static")).publicKey)
    #expect(alice.handshakeHash == relay.handshakeHash)
    // XX's first message carries its payload in clear: nothing secret may go there.
    #expect(Array(messages[0].suffix(9)) == Array("payload 0".utf8))
}

@Test func ikAuthenticatesInOneRoundTripWhenTheInitiatorKnowsTheResponderKey() throws {
    var (initiator, responder) = try makePair("IK")
    #expect(initiator.remoteStaticKey == (try fixedKeyPair("responder static")).publicKey)
    let (alice, relay, messages) = try runHandshake(&initiator, &responder) { Array("payload \($0)".utf8) }
    #expect(messages.count == 2)
    #expect(messages.map(\.count) == [32 + 48 + 9 + 16, 32 + 9 + 16])
    #expect(relay.remoteStaticKey == (try fixedKeyPair("initiator static")).publicKey)
    #expect(alice.handshakeHash == relay.handshakeHash)
}

@Test func ikFailsWhenTheInitiatorPinnedAnotherResponderKey() throws {
    let pattern = HandshakePattern.ik
    var initiator = try HandshakeState(pattern: pattern, role: .initiator, localStatic: fixedKeyPair("a"),
                                       remoteStatic: fixedKeyPair("someone else").publicKey, crypto: sha256Noise)
    var responder = try HandshakeState(pattern: pattern, role: .responder, localStatic: fixedKeyPair("b"),
                                       crypto: sha256Noise)
    let first = try initiator.writeMessage(Array("hello".utf8))
    #expect(throws: NoiseError.decryptionFailed) { try responder.readMessage(first) }
    #expect(responder.nextStep == .readMessage)
}

@Test func xSealsOneMessageFromAKnownSenderToARecipientKey() throws {
    let sender = try fixedKeyPair("sender")
    let recipient = try fixedKeyPair("recipient")
    var seal = try HandshakeState(pattern: .x, role: .initiator, prologue: Array("msg".utf8), localStatic: sender,
                                  remoteStatic: recipient.publicKey, crypto: sha256Noise)
    var open = try HandshakeState(pattern: .x, role: .responder, prologue: Array("msg".utf8), localStatic: recipient,
                                  crypto: sha256Noise)
    let secret = Array("meet me at noon".utf8)
    let sealed = try seal.writeMessage(secret)
    #expect(sealed.count == 32 + 48 + secret.count + 16)
    #expect(!hex(sealed).contains(hex(secret)))
    #expect(try open.readMessage(sealed) == secret)
    #expect(open.remoteStaticKey == sender.publicKey)
    #expect(seal.isComplete && open.isComplete)

    // One-way: after Split only the initiator sends.
    var sending = try seal.split()
    var receiving = try open.split()
    #expect(sending.receiving == nil && receiving.sending == nil)
    #expect(throws: NoiseError.oneWayPattern) { try sending.decrypt([UInt8](repeating: 0, count: 16)) }
    #expect(throws: NoiseError.oneWayPattern) { try receiving.encrypt([1]) }
    #expect(try receiving.decrypt(sending.encrypt([1, 2, 3])) == [1, 2, 3])
}

@Test func xRefusesASealedMessageUnderAnotherPrologue() throws {
    let sender = try fixedKeyPair("sender")
    let recipient = try fixedKeyPair("recipient")
    var seal = try HandshakeState(pattern: .x, role: .initiator, prologue: Array("chat v1".utf8),
                                  localStatic: sender, remoteStatic: recipient.publicKey, crypto: sha256Noise)
    var open = try HandshakeState(pattern: .x, role: .responder, prologue: Array("chat v2".utf8),
                                  localStatic: recipient, crypto: sha256Noise)
    #expect(throws: NoiseError.decryptionFailed) { try open.readMessage(seal.writeMessage([1])) }
}

@Test func generatedEphemeralKeysGiveAWorkingHandshake() throws {
    // No ephemeral given: each side draws one from libcrypto's CSPRNG.
    let pattern = HandshakePattern.xx
    var initiator = try HandshakeState(pattern: pattern, role: .initiator, localStatic: sha256Noise.generateKeyPair(),
                                       crypto: sha256Noise)
    var responder = try HandshakeState(pattern: pattern, role: .responder, localStatic: sha256Noise.generateKeyPair(),
                                       crypto: sha256Noise)
    var (alice, relay, _) = try runHandshake(&initiator, &responder)
    #expect(try relay.decrypt(alice.encrypt(Array("hi".utf8))) == Array("hi".utf8))
    #expect(try alice.decrypt(relay.encrypt(Array("ho".utf8))) == Array("ho".utf8))
}

@Test func blake2sSuiteNamesItselfAndCompletes() throws {
    let blake = LibCryptoNoise(hash: .blake2s)
    var initiator = try HandshakeState(pattern: .xx, role: .initiator, localStatic: blake.generateKeyPair(), crypto: blake)
    var responder = try HandshakeState(pattern: .xx, role: .responder, localStatic: blake.generateKeyPair(), crypto: blake)
    #expect(responder.protocolName == "Noise_XX_25519_ChaChaPoly_BLAKE2s")
    let (alice, relay, _) = try runHandshake(&initiator, &responder)
    #expect(alice.handshakeHash == relay.handshakeHash)
}

// MARK: Every pattern

@Test func everyPatternCompletesAndEachMessageHasItsComputedMinimumLength() throws {
    let names = HandshakePattern.allBaseNames + ["NNpsk0", "NNpsk2", "XXpsk3", "IKpsk2", "Npsk0", "Xpsk1", "NNpsk0+psk2"]
    #expect(HandshakePattern.allBaseNames.count == 38)
    for name in names {
        var (initiator, responder) = try makePair(name)
        let lengths = (0 ..< initiator.pattern.messages.count).map { initiator.minimumLength(ofMessage: $0) }
        let (alice, bob, messages) = try runHandshake(&initiator, &responder)
        #expect(messages.map(\.count) == lengths, "\(name)")
        #expect(alice.handshakeHash == bob.handshakeHash, "\(name)")
        #expect(initiator.nextStep == .split && responder.nextStep == .split)
    }
}

@Test func patternNamesOutsideRevision34AreRefused() throws {
    for name in ["", "XY", "xx", "XXpsk", "XXpsk4", "XXpsk-1", "XXpsk03", "XXfallback", "XX+psk0", "XXpsk0+", "NNhfs"] {
        #expect(throws: NoiseError.unknownPattern(name)) { try HandshakePattern.named(name) }
    }
    #expect(try HandshakePattern.named("XX") == .xx)
    #expect(try HandshakePattern.named("XXpsk3").messages.last == [.s, .se, .psk])
    #expect(try HandshakePattern.named("NNpsk0").messages.first == [.psk, .e])
}

// MARK: Keys the pattern needs

@Test func aMissingOrMalformedKeyIsRefusedAtSetUp() throws {
    let key = try fixedKeyPair("k")
    #expect(throws: NoiseError.missingLocalStaticKey) {
        try HandshakeState(pattern: .xx, role: .initiator, crypto: sha256Noise)
    }
    #expect(throws: NoiseError.missingRemoteStaticKey) {
        try HandshakeState(pattern: .ik, role: .initiator, localStatic: key, crypto: sha256Noise)
    }
    #expect(throws: NoiseError.missingLocalStaticKey) {
        try HandshakeState(pattern: .x, role: .responder, crypto: sha256Noise)
    }
    #expect(throws: NoiseError.missingPreSharedKey) {
        try HandshakeState(pattern: HandshakePattern.named("XXpsk3"), role: .initiator, localStatic: key, crypto: sha256Noise)
    }
    #expect(throws: NoiseError.invalidKeyLength(expected: 32, actual: 31)) {
        try HandshakeState(pattern: .ik, role: .initiator, localStatic: key,
                           remoteStatic: [UInt8](repeating: 1, count: 31), crypto: sha256Noise)
    }
    #expect(throws: NoiseError.invalidKeyLength(expected: 32, actual: 16)) {
        try HandshakeState(pattern: HandshakePattern.named("NNpsk0"), role: .initiator,
                           preSharedKeys: [[UInt8](repeating: 1, count: 16)], crypto: sha256Noise)
    }
    // NN needs no static key at all.
    _ = try HandshakeState(pattern: HandshakePattern.named("NN"), role: .responder, crypto: sha256Noise)
}
