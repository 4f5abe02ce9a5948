import Chat
import LibCrypto
import Noise
import Transport

/// This side's long-term X25519 key pair, loaded from (or created in) an identity key file
/// (Specs/chat-protocol.md section 4.10): the client's `$XDG_CONFIG_HOME/datagram-chat/identity.key`,
/// the relay's `relay --key FILE`.
public struct LocalIdentity: Sendable, CustomStringConvertible {
    /// The key pair for Noise (the private key is secret: never printed, never logged).
    public let keyPair: NoiseKeyPair
    /// The public key.
    public let publicKey: IdentityKey
    /// The file it came from.
    public let path: String

    /// The Noise primitives over libcrypto (`25519_ChaChaPoly_SHA256`).
    public static var crypto: any NoiseCryptography { LibCryptoNoise() }

    /// The public key's fingerprint, `SHA256:...`.
    public var fingerprint: String { IdentityFingerprints.of(publicKey) }

    /// The path and fingerprint; never the private key.
    public var description: String { "identity \(fingerprint) (\(path))" }

    /// Loads the key at `path`, or creates one there (mode 0600, atomically) when there is no file.
    /// Refuses, with an error that names the file and says what is wrong, a file group or others
    /// may read, a malformed one, or one whose public line is not its private key's.
    /// - Returns: the identity and whether it was created now.
    public static func loadOrCreate(at path: String) throws(IdentityLoadError) -> (identity: LocalIdentity, created: Bool) {
        do {
            return (try load(at: path), false)
        } catch let error where error.isMissing {
            let pair: NoiseKeyPair
            do { pair = try LibCryptoNoise().generateKeyPair() } catch {
                throw IdentityLoadError(path: path, problem: .system("cannot generate a key: \(error)"))
            }
            guard let publicKey = IdentityKey(bytes: pair.publicKey) else {
                throw IdentityLoadError(path: path, problem: .system("generated a public key of the wrong length"))
            }
            var file = IdentityKeyFile(privateKey: pair.privateKey, publicKey: publicKey)
            defer { secureZero(&file.privateKey) }
            do {
                try SecretFiles.createExclusively(file.text, at: path)
            } catch let failure where failure.code == EEXISTCode {
                return (try load(at: path), false)    // another run created it first: use theirs
            } catch {
                throw IdentityLoadError(path: path, problem: .system(failure: error))
            }
            return (LocalIdentity(keyPair: pair, publicKey: publicKey, path: path), true)
        }
    }

    /// Loads the key at `path`; see `loadOrCreate`.
    public static func load(at path: String) throws(IdentityLoadError) -> LocalIdentity {
        let contents: SecretFiles.Contents
        do { contents = try SecretFiles.read(path) } catch {
            throw IdentityLoadError(path: path, problem: .system(failure: error), isMissing: error.isMissing)
        }
        guard contents.mode & 0o077 == 0 else {
            throw IdentityLoadError(path: path, problem: .readableByOthers(mode: contents.mode))
        }
        var file: IdentityKeyFile
        do { file = try IdentityKeyFile(parsing: contents.text) } catch {
            throw IdentityLoadError(path: path, problem: error)
        }
        defer { secureZero(&file.privateKey) }
        let pair: NoiseKeyPair
        do { pair = try LibCryptoNoise().keyPair(privateKey: file.privateKey) } catch {
            throw IdentityLoadError(path: path, problem: .badKey(2))
        }
        guard pair.publicKey == file.publicKey.bytes else {
            throw IdentityLoadError(path: path, problem: .publicKeyMismatch)
        }
        return LocalIdentity(keyPair: pair, publicKey: file.publicKey, path: path)
    }
}

/// errno EEXIST without importing Glibc here.
private let EEXISTCode: Int32 = 17

extension IdentityFileError {
    static func system(failure: SecretFiles.Failure) -> IdentityFileError { .system(failure.problem) }
}

/// An identity key file that was refused, with the file's path.
public struct IdentityLoadError: Error, Sendable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// What is wrong with it.
    public var problem: IdentityFileError
    /// True when the file does not exist.
    public var isMissing = false

    public var description: String { "identity key file \(path): \(problem)" }
}

/// Fingerprints with libcrypto's SHA-256.
public enum IdentityFingerprints {
    /// `SHA256:` + base64 of SHA-256 of the key (Specs/chat-protocol.md section 4.10).
    public static func of(_ key: IdentityKey) -> String { Fingerprint.of(key, sha256: SHA256.hash) }
}

/// Where the chat keeps its identity files (XDG base directories).
public enum IdentityPaths {
    /// An XDG base directory variable, used only when it holds an absolute path (as the XDG
    /// specification says; a relative one is ignored).
    private static func base(_ name: String) -> String? {
        SecretFiles.environment(name).flatMap { $0.hasPrefix("/") ? $0 : nil }
    }

    /// `$XDG_CONFIG_HOME/datagram-chat`, or `$HOME/.config/datagram-chat`.
    public static var configDirectory: String {
        if let config = base("XDG_CONFIG_HOME") { return config + "/datagram-chat" }
        return (SecretFiles.environment("HOME") ?? ".") + "/.config/datagram-chat"
    }

    /// `$XDG_STATE_HOME/datagram-chat/relay`, or `$HOME/.local/state/datagram-chat/relay`.
    public static var relayStateDirectory: String {
        if let state = base("XDG_STATE_HOME") { return state + "/datagram-chat/relay" }
        return (SecretFiles.environment("HOME") ?? ".") + "/.local/state/datagram-chat/relay"
    }

    /// The client's identity key file.
    public static var clientIdentity: String { configDirectory + "/identity.key" }
    /// The client's pinned relay keys.
    public static var knownRelays: String { configDirectory + "/known_relays" }
    /// The client's pinned contact keys.
    public static var knownContacts: String { configDirectory + "/known_contacts" }
    /// The relay's identity key file (`relay --key` default).
    public static var relayIdentity: String { relayStateDirectory + "/identity.key" }
}

/// A pin file on disk: `known_relays` or `known_contacts` (`KnownKeys`).
public struct PinFile: Sendable {
    /// The file.
    public let path: String
    /// Its contents as last loaded or saved.
    public private(set) var keys: KnownKeys

    /// Loads `path` (a missing file is an empty one).
    public init(path: String, kind: KnownKeys.Kind) throws(SecretFiles.Failure) {
        self.path = path
        do {
            keys = KnownKeys(kind: kind, parsing: try SecretFiles.read(path).text)
        } catch where error.isMissing {
            keys = KnownKeys(kind: kind)
        }
    }

    /// Replaces the contents and writes the file atomically (mode 0600).
    public mutating func save(_ keys: KnownKeys) throws(SecretFiles.Failure) {
        try SecretFiles.writeAtomically(keys.text, to: path)
        self.keys = keys
    }

    /// The refusal to print when `relayPinCheck` returned `.mismatch` for `address` (Specs/noise.md 4.2).
    public static func relayKeyChangedMessage(address: String, decision: PinDecision, path: String) -> String? {
        guard case let .mismatch(expected, got, line, firstSeen) = decision else { return nil }
        return PinMessages.relayKeyChanged(address: address, expected: expected, got: got, file: path, line: line,
                                           firstSeen: firstSeen, fingerprint: IdentityFingerprints.of)
    }

    /// The relay pin check for the transport's hook (Specs/noise.md section 4.2): pins on first
    /// contact (saving the file) and reports the decision; `.mismatch` must stop the handshake. With
    /// `acceptNew` (`chat --accept-new-relay-key`) a mismatch replaces the pin and counts as first contact.
    public static func relayPinCheck(path: String, acceptNew: Bool = false) -> RelayPinCheck {
        { address, key in
            guard var file = try? PinFile(path: path, kind: .relays) else {
                return .firstContact
            }
            let decision = file.keys.decide(address, key: key)
            switch decision {
            case .match:
                return .match
            case .mismatch where !acceptNew:
                return decision
            case .firstContact, .mismatch:
                try? file.save(file.keys.pinning(address, key: key, date: SecretFiles.today()))
                return .firstContact
            }
        }
    }
}
