/// A peer's long-term public key: the X25519 static key it proves in the Noise handshake
/// (Specs/noise.md). 32 bytes. The relay knows every peer by it, accounts are bound to it, and
/// end-to-end private messages are sealed to it.
///
/// This type only carries the bytes; fingerprints (which need SHA-256) are computed where
/// libcrypto is linked.
public struct IdentityKey: Hashable, Sendable, CustomStringConvertible {
    /// The length of an X25519 public key.
    public static let length = 32

    /// The 32 key bytes.
    public let bytes: [UInt8]

    /// Wraps 32 key bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.length else { return nil }
        self.bytes = bytes
    }

    /// Lower-case hexadecimal, 64 digits.
    public var hex: String {
        let digits: [Character] = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(Self.length * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }

    /// The key in hexadecimal (public keys are not secret).
    public var description: String { hex }
}
