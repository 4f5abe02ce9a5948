/// Every way a Noise operation can fail. Nothing a peer sends traps; it ends up as one of these.
public enum NoiseError: Error, Equatable, Sendable {
    // Setting up.
    /// The protocol name or pattern name is not one this implementation knows.
    case unknownPattern(String)
    /// The pattern needs this side's static key pair and none was given.
    case missingLocalStaticKey
    /// The pattern needs the peer's static public key in advance (a pre-message) and none was given.
    case missingRemoteStaticKey
    /// The pattern has a pre-message ephemeral key and none was given.
    case missingEphemeralKey
    /// The pattern has more psk tokens than pre-shared keys were given.
    case missingPreSharedKey
    /// A key given at set-up has the wrong length (`expected` bytes).
    case invalidKeyLength(expected: Int, actual: Int)

    // Driving the handshake.
    /// writeMessage when it is the peer's turn to write, or readMessage when it is ours.
    case notOurTurn
    /// The handshake is complete: no more handshake messages; call `split()`.
    case handshakeComplete
    /// `split()` before the last handshake message.
    case handshakeNotComplete
    /// A message (or payload) longer than Noise's 65535-byte limit.
    case messageTooLong(length: Int, limit: Int)
    /// A handshake message shorter than its tokens and tag need.
    case messageTooShort(length: Int, minimum: Int)
    /// A ciphertext failed authentication: tampered, truncated, forged, or under a different key.
    case decryptionFailed
    /// The peer's public key is one the DH function rejects (for 25519, a low-order point).
    case invalidPublicKey
    /// The cryptography implementation failed (the system random source, an allocation).
    case cryptographyFailure(String)

    // Transport.
    /// The nonce reached 2^64-1, which Noise reserves: this cipher state can send or receive no
    /// more (rekeying does not reset the nonce; a new handshake is needed long before this).
    case nonceExhausted
    /// A one-way pattern's transport state has no cipher in this direction.
    case oneWayPattern
}
