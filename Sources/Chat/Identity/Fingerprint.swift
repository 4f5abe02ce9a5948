/// What a user compares out of band to check an identity key (Specs/chat-protocol.md section 4.10):
/// `SHA256:` followed by the unpadded standard base64 of SHA-256 over the 32 key bytes, as OpenSSH
/// prints host key fingerprints (`SHA256:` + 43 characters).
///
/// The `Chat` target computes no hash: the caller passes SHA-256 (libcrypto's, through LibCrypto).
public enum Fingerprint {
    /// The prefix naming the hash.
    public static let prefix = "SHA256:"

    /// The fingerprint of `key`; `sha256` must return the 32-byte SHA-256 digest of its input.
    public static func of(_ key: IdentityKey, sha256: ([UInt8]) -> [UInt8]) -> String {
        prefix + base64(sha256(key.bytes), padded: false)
    }

    /// Standard base64 (RFC 4648 section 4), with or without `=` padding.
    public static func base64(_ bytes: [UInt8], padded: Bool) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var text = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << (16 - 8 * offset) }
            let characters = chunk.count + 1
            for position in 0..<4 {
                if position < characters {
                    text.append(alphabet[Int((value >> (18 - 6 * position)) & 0x3F)])
                } else if padded {
                    text.append("=")
                }
            }
            index += 3
        }
        return text
    }
}

extension IdentityKey {
    /// Parses 64 hexadecimal digits (either case); nil for anything else.
    public init?(hex: some StringProtocol) {
        guard let bytes = HexText.bytes(hex), let key = IdentityKey(bytes: bytes) else { return nil }
        self = key
    }
}

/// Hexadecimal text of key files and pin files.
public enum HexText {
    /// The bytes of an even number of hex digits; nil for any other character or an odd count.
    public static func bytes(_ text: some StringProtocol) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// Lower-case hex.
    public static func text(_ bytes: [UInt8]) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var text = ""
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
