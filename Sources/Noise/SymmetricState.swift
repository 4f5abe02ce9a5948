/// A SymmetricState (Noise section 5.2): the chaining key ck, the handshake hash h and a
/// CipherState.
public struct SymmetricState: Sendable {
    let crypto: any NoiseCryptography
    private(set) var cipherState: CipherState
    private(set) var chainingKey: [UInt8]
    /// h: the handshake hash so far.
    public private(set) var handshakeHash: [UInt8]

    /// InitializeSymmetric(protocol_name).
    public init(protocolName: String, crypto: any NoiseCryptography) throws(NoiseError) {
        self.crypto = crypto
        let name = Array(protocolName.utf8)
        if name.count <= crypto.hashLength {
            handshakeHash = name + [UInt8](repeating: 0, count: crypto.hashLength - name.count)
        } else {
            handshakeHash = crypto.hash(name)
        }
        chainingKey = handshakeHash
        cipherState = try CipherState(crypto: crypto, key: nil)
    }

    /// MixKey(input_key_material).
    public mutating func mixKey(_ inputKeyMaterial: [UInt8]) throws(NoiseError) {
        let outputs = crypto.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputs: 2)
        chainingKey = outputs[0]
        cipherState = try CipherState(crypto: crypto, key: Array(outputs[1].prefix(CipherState.keyLength)))
    }

    /// MixHash(data).
    public mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = crypto.hash(handshakeHash + data)
    }

    /// MixKeyAndHash(input_key_material): for psk tokens.
    public mutating func mixKeyAndHash(_ inputKeyMaterial: [UInt8]) throws(NoiseError) {
        let outputs = crypto.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputs: 3)
        chainingKey = outputs[0]
        mixHash(outputs[1])
        cipherState = try CipherState(crypto: crypto, key: Array(outputs[2].prefix(CipherState.keyLength)))
    }

    /// HasKey() of the inner CipherState.
    public var hasKey: Bool { cipherState.hasKey }

    /// EncryptAndHash(plaintext).
    public mutating func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let ciphertext = try cipherState.encrypt(plaintext, associatedData: handshakeHash)
        mixHash(ciphertext)
        return ciphertext
    }

    /// DecryptAndHash(ciphertext).
    public mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let plaintext = try cipherState.decrypt(ciphertext, associatedData: handshakeHash)
        mixHash(ciphertext)
        return plaintext
    }

    /// Split(): the initiator's sending and the responder's sending cipher states.
    public func split() throws(NoiseError) -> (initiatorToResponder: CipherState, responderToInitiator: CipherState) {
        let outputs = crypto.hkdf(chainingKey: chainingKey, inputKeyMaterial: [], outputs: 2)
        return (try CipherState(crypto: crypto, key: Array(outputs[0].prefix(CipherState.keyLength))),
                try CipherState(crypto: crypto, key: Array(outputs[1].prefix(CipherState.keyLength))))
    }
}
