/// The text of an identity key file (Specs/chat-protocol.md section 4.10): the client's
/// (`$XDG_CONFIG_HOME/datagram-chat/identity.key`) and the relay's (`relay --key FILE`).
///
/// ```
/// datagram-chat identity v1
/// private 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
/// public 8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f
/// ```
///
/// Exactly these three lines, in this order, each ended by a line feed (the last one's is optional);
/// lower- or upper-case hex. The `public` line is there for people and tools; the loader checks it
/// against the key derived from `private` (which needs X25519, so it happens in DatagramRuntime).
/// The file is secret: mode 0600, refused when group or others may read it.
public struct IdentityKeyFile: Hashable, Sendable {
    /// The first line.
    public static let header = "datagram-chat identity v1"

    /// The 32-byte X25519 private key. Secret: never print it.
    public var privateKey: [UInt8]
    /// The 32-byte public key the file states.
    public var publicKey: IdentityKey

    /// Wraps a key pair.
    public init(privateKey: [UInt8], publicKey: IdentityKey) {
        self.privateKey = privateKey
        self.publicKey = publicKey
    }

    /// The file's text.
    public var text: String {
        "\(Self.header)\nprivate \(HexText.text(privateKey))\npublic \(publicKey.hex)\n"
    }

    /// Parses a file's text; the error says what is wrong, on which line (never quoting a key).
    public init(parsing text: String) throws(IdentityFileError) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        if lines.last == "" { lines.removeLast() }
        guard lines.first == Substring(Self.header) else { throw .badHeader }
        guard lines.count == 3 else { throw .wrongLineCount(lines.count) }
        func field(_ line: Int, _ name: String) throws(IdentityFileError) -> [UInt8] {
            let parts = lines[line].split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { throw .badLine(line + 1, expected: name) }
            guard let bytes = HexText.bytes(parts[1]), bytes.count == IdentityKey.length else { throw .badKey(line + 1) }
            return bytes
        }
        let privateKey = try field(1, "private")
        guard let publicKey = IdentityKey(bytes: try field(2, "public")) else { throw .badKey(3) }
        self.init(privateKey: privateKey, publicKey: publicKey)
    }
}

/// Why an identity key file was refused.
public enum IdentityFileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The first line is not `IdentityKeyFile.header`.
    case badHeader
    /// Not three lines.
    case wrongLineCount(Int)
    /// Line `n` is not `expected <hex>`.
    case badLine(Int, expected: String)
    /// Line `n` does not hold 64 hex digits.
    case badKey(Int)
    /// The `public` line is not the public key of the `private` line.
    case publicKeyMismatch
    /// Group or others may read the file (`mode` is its permission bits).
    case readableByOthers(mode: UInt32)
    /// The file could not be read or written (`problem` in words).
    case system(String)

    public var description: String {
        switch self {
        case .badHeader: "the first line is not \"\(IdentityKeyFile.header)\""
        case let .wrongLineCount(count): "expected 3 lines (header, private, public), found \(count)"
        case let .badLine(line, expected): "line \(line) should be \"\(expected) <64 hex digits>\""
        case let .badKey(line): "line \(line) does not hold a 32-byte key in 64 hex digits"
        case .publicKeyMismatch: "the public key is not the one of the private key"
        case let .readableByOthers(mode):
            "its mode is \(String(mode & 0o777, radix: 8)): a private key must be readable by its owner only (chmod 600)"
        case let .system(problem): problem
        }
    }
}
