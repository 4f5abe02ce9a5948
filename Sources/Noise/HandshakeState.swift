/// Which side of a handshake this is.
public enum NoiseRole: Sendable, Equatable {
    case initiator
    case responder
}

/// A HandshakeState (Noise section 5.3) as a value-type state machine.
///
/// Create it with the pattern, the role, the prologue and the keys, then alternate
/// `writeMessage(_:)` and `readMessage(_:)` as `nextStep` says; when `nextStep` is `.split`, call
/// `split()` for the transport session.
///
/// Every failure throws a `NoiseError` and leaves the state exactly as it was before the call: a
/// forged, truncated or replayed handshake message read from the network costs nothing and the
/// genuine one can still be read after it (useful over UDP, where anyone can inject a datagram). A
/// caller that prefers Noise's strict reading (abort the handshake on any error) simply drops the
/// state.
public struct HandshakeState: Sendable {
    /// Noise's limit on any message, handshake or transport (section 3).
    public static let maximumMessageLength = 65535

    /// What the state machine expects next.
    public enum Step: Sendable, Equatable {
        case writeMessage
        case readMessage
        case split
    }

    public let pattern: HandshakePattern
    public let role: NoiseRole
    /// "Noise_XX_25519_ChaChaPoly_SHA256".
    public let protocolName: String

    private let crypto: any NoiseCryptography
    private var symmetric: SymmetricState
    private var localStatic: NoiseKeyPair?
    private var localEphemeral: NoiseKeyPair?
    /// rs: the peer's static public key, given in advance or learnt from the handshake.
    public private(set) var remoteStaticKey: [UInt8]?
    /// re: the peer's ephemeral public key, once read.
    public private(set) var remoteEphemeralKey: [UInt8]?
    private var preSharedKeys: [[UInt8]]
    private var nextPreSharedKey = 0
    /// The index of the next message pattern to write or read.
    public private(set) var messageIndex = 0

    /// Initialize(handshake_pattern, initiator, prologue, s, e, rs, re) with the psks of section 9.
    ///
    /// - Parameters:
    ///   - localStatic: s, when the pattern sends or uses this side's static key.
    ///   - localEphemeral: e, only for test vectors and for pre-message ephemerals; otherwise the
    ///     handshake generates it with `crypto.generateKeyPair()` when the pattern says "e".
    ///   - remoteStatic: rs, when the pattern's pre-message gives the peer's static key.
    ///   - remoteEphemeral: re, only for patterns with an ephemeral pre-message.
    ///   - preSharedKeys: one 32-byte key per psk token, in order.
    /// - Throws: `missingLocalStaticKey`, `missingRemoteStaticKey`, `missingEphemeralKey`,
    ///   `missingPreSharedKey` or `invalidKeyLength` when a key the pattern needs is absent or of the
    ///   wrong length.
    public init(pattern: HandshakePattern, role: NoiseRole, prologue: [UInt8] = [],
                localStatic: NoiseKeyPair? = nil, localEphemeral: NoiseKeyPair? = nil,
                remoteStatic: [UInt8]? = nil, remoteEphemeral: [UInt8]? = nil,
                preSharedKeys: [[UInt8]] = [], crypto: any NoiseCryptography) throws(NoiseError) {
        self.pattern = pattern
        self.role = role
        self.crypto = crypto
        self.protocolName = "Noise_\(pattern.name)_\(crypto.suiteName)"
        self.localStatic = localStatic
        self.localEphemeral = localEphemeral
        self.remoteStaticKey = remoteStatic
        self.remoteEphemeralKey = remoteEphemeral
        self.preSharedKeys = preSharedKeys
        self.symmetric = try SymmetricState(protocolName: protocolName, crypto: crypto)

        let dhLength = crypto.dhLength
        for pair in [localStatic, localEphemeral].compactMap({ $0 }) {
            guard pair.publicKey.count == dhLength else {
                throw .invalidKeyLength(expected: dhLength, actual: pair.publicKey.count)
            }
        }
        for key in [remoteStatic, remoteEphemeral].compactMap({ $0 }) {
            guard key.count == dhLength else { throw .invalidKeyLength(expected: dhLength, actual: key.count) }
        }
        for key in preSharedKeys {
            guard key.count == 32 else { throw .invalidKeyLength(expected: 32, actual: key.count) }
        }
        guard preSharedKeys.count >= pattern.preSharedKeyCount else { throw .missingPreSharedKey }
        if needsLocalStatic, localStatic == nil { throw .missingLocalStaticKey }

        symmetric.mixHash(prologue)
        // Pre-messages: the initiator's keys first, then the responder's (section 7.1).
        let isInitiator = role == .initiator
        for (tokens, ours) in [(pattern.initiatorPreMessage, isInitiator), (pattern.responderPreMessage, !isInitiator)] {
            for token in tokens {
                let key: [UInt8]?
                switch (token, ours) {
                case (.s, true): key = localStatic?.publicKey
                case (.e, true): key = localEphemeral?.publicKey
                case (.s, false): key = remoteStatic
                case (.e, false): key = remoteEphemeral
                default: key = nil
                }
                guard let key else {
                    switch (token, ours) {
                    case (.s, true): throw .missingLocalStaticKey
                    case (.s, false): throw .missingRemoteStaticKey
                    default: throw .missingEphemeralKey
                    }
                }
                symmetric.mixHash(key)
                if token == .e, pattern.usesPreSharedKeys { try symmetric.mixKey(key) }
            }
        }
    }

    /// True when this side's static key is sent or used in a DH at any point of the pattern.
    private var needsLocalStatic: Bool {
        let isInitiator = role == .initiator
        if (isInitiator ? pattern.initiatorPreMessage : pattern.responderPreMessage).contains(.s) { return true }
        for (index, tokens) in pattern.messages.enumerated() {
            let writtenByUs = (index % 2 == 0) == isInitiator
            for token in tokens {
                switch token {
                case .s: if writtenByUs { return true }
                case .ss: return true
                case .es: if !isInitiator { return true }
                case .se: if isInitiator { return true }
                default: break
                }
            }
        }
        return false
    }

    /// What to do next: write, read, or (after the last message) split.
    public var nextStep: Step {
        if messageIndex >= pattern.messages.count { return .split }
        return (messageIndex % 2 == 0) == (role == .initiator) ? .writeMessage : .readMessage
    }

    /// True once every handshake message has been written or read.
    public var isComplete: Bool { messageIndex >= pattern.messages.count }

    /// h: the handshake hash so far; after the last message, the value both sides share, for channel
    /// binding (Noise section 11.2).
    public var handshakeHash: [UInt8] { symmetric.handshakeHash }

    /// This side's static public key, if it has one.
    public var localStaticPublicKey: [UInt8]? { localStatic?.publicKey }

    /// WriteMessage(payload, message_buffer): the next handshake message, carrying `payload`
    /// (encrypted once a key has been mixed in; in clear before that, as in XX's first message).
    public mutating func writeMessage(_ payload: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        switch nextStep {
        case .split: throw .handshakeComplete
        case .readMessage: throw .notOurTurn
        case .writeMessage: break
        }
        guard payload.count <= Self.maximumMessageLength else {
            throw .messageTooLong(length: payload.count, limit: Self.maximumMessageLength)
        }
        var next = self
        var message: [UInt8] = []
        for token in pattern.messages[messageIndex] {
            switch token {
            case .e:
                let ephemeral: NoiseKeyPair
                if let given = next.localEphemeral {
                    ephemeral = given
                } else {
                    do {
                        ephemeral = try crypto.generateKeyPair()
                    } catch {
                        throw .cryptographyFailure("generate key pair: \(error)")
                    }
                    next.localEphemeral = ephemeral
                }
                message += ephemeral.publicKey
                next.symmetric.mixHash(ephemeral.publicKey)
                if pattern.usesPreSharedKeys { try next.symmetric.mixKey(ephemeral.publicKey) }
            case .s:
                guard let localStatic = next.localStatic else { throw .missingLocalStaticKey }
                message += try next.symmetric.encryptAndHash(localStatic.publicKey)
            case .ee, .es, .se, .ss:
                try next.mixDH(token)
            case .psk:
                try next.mixPreSharedKey()
            }
        }
        message += try next.symmetric.encryptAndHash(payload)
        guard message.count <= Self.maximumMessageLength else {
            throw .messageTooLong(length: message.count, limit: Self.maximumMessageLength)
        }
        next.messageIndex += 1
        self = next
        return message
    }

    /// ReadMessage(message, payload_buffer): reads the peer's next handshake message and returns its
    /// payload. On any error (too short, too long, a tag that does not verify, a rejected public
    /// key) the state is unchanged.
    public mutating func readMessage(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        switch nextStep {
        case .split: throw .handshakeComplete
        case .writeMessage: throw .notOurTurn
        case .readMessage: break
        }
        guard message.count <= Self.maximumMessageLength else {
            throw .messageTooLong(length: message.count, limit: Self.maximumMessageLength)
        }
        let minimum = minimumLength(ofMessage: messageIndex)
        guard message.count >= minimum else { throw .messageTooShort(length: message.count, minimum: minimum) }

        var next = self
        var offset = 0
        let dhLength = crypto.dhLength
        for token in pattern.messages[messageIndex] {
            switch token {
            case .e:
                guard message.count - offset >= dhLength else { throw .messageTooShort(length: message.count, minimum: minimum) }
                let key = Array(message[offset ..< offset + dhLength])
                offset += dhLength
                next.remoteEphemeralKey = key
                next.symmetric.mixHash(key)
                if pattern.usesPreSharedKeys { try next.symmetric.mixKey(key) }
            case .s:
                let length = dhLength + (next.symmetric.hasKey ? CipherState.tagLength : 0)
                guard message.count - offset >= length else { throw .messageTooShort(length: message.count, minimum: minimum) }
                let sealed = Array(message[offset ..< offset + length])
                offset += length
                next.remoteStaticKey = try next.symmetric.decryptAndHash(sealed)
            case .ee, .es, .se, .ss:
                try next.mixDH(token)
            case .psk:
                try next.mixPreSharedKey()
            }
        }
        if next.symmetric.hasKey, message.count - offset < CipherState.tagLength {
            throw .messageTooShort(length: message.count, minimum: minimum)
        }
        let payload = try next.symmetric.decryptAndHash(Array(message[offset...]))
        next.messageIndex += 1
        self = next
        return payload
    }

    /// The length of message `index` with an empty payload: its keys, and the tags of the static key
    /// and the payload once a key has been mixed in.
    public func minimumLength(ofMessage index: Int) -> Int {
        guard index < pattern.messages.count else { return 0 }
        // Whether a key is mixed in before this message: any DH or psk token earlier (or, with psks,
        // any "e"), which is what HasKey() would say at that point.
        var hasKey = false
        for earlier in pattern.messages[..<index] {
            for token in earlier where token != .s && (token != .e || pattern.usesPreSharedKeys) { hasKey = true }
        }
        if pattern.usesPreSharedKeys, !(pattern.initiatorPreMessage + pattern.responderPreMessage).filter({ $0 == .e }).isEmpty {
            hasKey = true
        }
        var length = 0
        for token in pattern.messages[index] {
            switch token {
            case .e:
                length += crypto.dhLength
                if pattern.usesPreSharedKeys { hasKey = true }
            case .s:
                length += crypto.dhLength + (hasKey ? CipherState.tagLength : 0)
            case .ee, .es, .se, .ss, .psk:
                hasKey = true
            }
        }
        return length + (hasKey ? CipherState.tagLength : 0)
    }

    private mutating func mixDH(_ token: NoiseToken) throws(NoiseError) {
        let isInitiator = role == .initiator
        // Which of our keys meets which of theirs (section 7.1): the first letter names the
        // initiator's key, the second the responder's.
        let ours: NoiseKeyPair?
        let theirs: [UInt8]?
        switch (token, isInitiator) {
        case (.ee, _): (ours, theirs) = (localEphemeral, remoteEphemeralKey)
        case (.ss, _): (ours, theirs) = (localStatic, remoteStaticKey)
        case (.es, true), (.se, false): (ours, theirs) = (localEphemeral, remoteStaticKey)
        case (.es, false), (.se, true): (ours, theirs) = (localStatic, remoteEphemeralKey)
        default: return
        }
        guard let ours else { throw .missingLocalStaticKey }
        guard let theirs else { throw .missingRemoteStaticKey }
        let shared: [UInt8]
        do {
            shared = try crypto.dh(privateKey: ours.privateKey, publicKey: theirs)
        } catch {
            throw .invalidPublicKey
        }
        try symmetric.mixKey(shared)
    }

    private mutating func mixPreSharedKey() throws(NoiseError) {
        guard nextPreSharedKey < preSharedKeys.count else { throw .missingPreSharedKey }
        try symmetric.mixKeyAndHash(preSharedKeys[nextPreSharedKey])
        nextPreSharedKey += 1
    }

    /// Split(): the transport session, once the last handshake message has been written or read.
    /// For a one-way pattern only the initiator-to-responder direction exists.
    public func split() throws(NoiseError) -> NoiseSession {
        guard isComplete else { throw .handshakeNotComplete }
        let (initiatorToResponder, responderToInitiator) = try symmetric.split()
        let isInitiator = role == .initiator
        var sending: CipherState? = isInitiator ? initiatorToResponder : responderToInitiator
        var receiving: CipherState? = isInitiator ? responderToInitiator : initiatorToResponder
        if pattern.isOneWay {
            if isInitiator { receiving = nil } else { sending = nil }
        }
        return NoiseSession(handshakeHash: handshakeHash, remoteStaticKey: remoteStaticKey,
                            sending: sending, receiving: receiving)
    }
}

/// A completed handshake's transport state: one CipherState per direction (Noise section 5.3,
/// Split), the handshake hash and the peer's static key.
public struct NoiseSession: Sendable {
    /// The handshake hash, identical on both sides: for channel binding.
    public let handshakeHash: [UInt8]
    /// The peer's static public key, if the pattern sent or pre-shared one.
    public let remoteStaticKey: [UInt8]?
    /// The cipher state for what this side sends; nil for the responder of a one-way pattern.
    public var sending: CipherState?
    /// The cipher state for what this side receives; nil for the initiator of a one-way pattern.
    public var receiving: CipherState?

    public init(handshakeHash: [UInt8], remoteStaticKey: [UInt8]?, sending: CipherState?, receiving: CipherState?) {
        self.handshakeHash = handshakeHash
        self.remoteStaticKey = remoteStaticKey
        self.sending = sending
        self.receiving = receiving
    }

    /// Encrypts the next transport message (counting nonce). Throws `messageTooLong` above 65535
    /// bytes of ciphertext, `nonceExhausted` at nonce 2^64-1, `oneWayPattern` without a sending
    /// direction.
    public mutating func encrypt(_ plaintext: [UInt8], associatedData: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        guard var cipher = sending else { throw .oneWayPattern }
        let limit = HandshakeState.maximumMessageLength - CipherState.tagLength
        guard plaintext.count <= limit else { throw .messageTooLong(length: plaintext.count, limit: limit) }
        let ciphertext = try cipher.encrypt(plaintext, associatedData: associatedData)
        sending = cipher
        return ciphertext
    }

    /// Decrypts the next transport message (counting nonce); on failure nothing changes.
    public mutating func decrypt(_ ciphertext: [UInt8], associatedData: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        guard var cipher = receiving else { throw .oneWayPattern }
        guard ciphertext.count <= HandshakeState.maximumMessageLength else {
            throw .messageTooLong(length: ciphertext.count, limit: HandshakeState.maximumMessageLength)
        }
        let plaintext = try cipher.decrypt(ciphertext, associatedData: associatedData)
        receiving = cipher
        return plaintext
    }

    /// Rekeys the sending direction (section 11.3); the peer must rekey its receiving direction at
    /// the same message.
    public mutating func rekeySending() throws(NoiseError) {
        guard var cipher = sending else { throw .oneWayPattern }
        try cipher.rekey()
        sending = cipher
    }

    /// Rekeys the receiving direction (section 11.3).
    public mutating func rekeyReceiving() throws(NoiseError) {
        guard var cipher = receiving else { throw .oneWayPattern }
        try cipher.rekey()
        receiving = cipher
    }
}
