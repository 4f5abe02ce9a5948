import Chat
import LibCrypto

/// The relay's derivation of sender ids from session secrets (Specs/chat-protocol.md, section 4.6),
/// with SHA-256 from libcrypto. `RelayCore` is pure and receives it as a function.
public enum SenderIDDerivation {
    /// `SenderID(deriving: secret, sha256: SHA256.hash)`.
    public static let sha256: @Sendable (SessionSecret) -> SenderID = { SenderID(deriving: $0, sha256: SHA256.hash) }
}
