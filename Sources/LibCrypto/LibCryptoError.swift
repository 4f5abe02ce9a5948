/// Why a libcrypto operation failed. Bad input (a key of the wrong length, a forged ciphertext, a
/// low-order public key) is an error to handle, never a trap.
public enum LibCryptoError: Error, Equatable, Sendable {
    /// A key, nonce or other fixed-length input has the wrong length.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// An input longer than libcrypto's `int` lengths allow.
    case inputTooLong(what: String)
    /// The AEAD tag did not verify: the ciphertext, its associated data or its nonce was altered, or
    /// the key is wrong. No plaintext is returned.
    case authenticationFailed
    /// X25519 refused the peer's public key (its result would be all zeros: a low-order point).
    case invalidPublicKey
    /// The system random source failed.
    case randomSourceFailed
    /// libcrypto failed in `function` (an allocation, typically); the message is OpenSSL's.
    case libraryFailure(function: String)
}
