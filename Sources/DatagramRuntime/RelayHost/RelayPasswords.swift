import LibCrypto
import Relay

/// The relay's password hashing for accounts (Specs/chat-protocol.md, section 4.11.5): libcrypto's
/// scrypt at N = 2^14, r = 8, p = 1, with 16-byte salts from the system's random source.
public enum RelayPasswords {
    public static let hashing = PasswordHashing(
        cost: .relayDefault,
        derive: { password, salt, cost in
            // A saved cost is checked before use: libcrypto refuses what needs more than 64 MiB.
            guard cost.n >= 2, cost.n <= 1 << 16, cost.r >= 1, cost.r <= 16, cost.p >= 1, cost.p <= 4 else { return nil }
            return try? Scrypt.derive(password: password, salt: salt, cost: Scrypt.Cost(n: cost.n, r: cost.r, p: cost.p))
        },
        salt: { (try? CryptoRandom.bytes(16)) ?? [] })
}
