/// What a pin check decided for a key a peer presented (Specs/chat-protocol.md section 4.10).
public enum PinDecision: Hashable, Sendable {
    /// Nothing is pinned for this address or name: trust on first use; the caller pins the key
    /// (`KnownKeys.pinning`) and proceeds.
    case firstContact
    /// The key is the pinned one.
    case match
    /// Another key is pinned, on line `line` of the file, first seen on `firstSeen`: refuse.
    case mismatch(expected: IdentityKey, got: IdentityKey, line: Int, firstSeen: String)
}

/// The hook the transport calls with the relay's static key once it has read Noise message 2, before
/// it writes message 3 (Specs/noise.md section 4.2): `.mismatch` stops the handshake.
public typealias RelayPinCheck = @Sendable (_ relayAddress: String, _ key: IdentityKey) -> PinDecision

/// A known_hosts-like file of pinned keys, one line per relay address (`known_relays`) or per
/// contact name (`known_contacts`):
///
/// ```
/// # comments and blank lines are kept
/// 127.0.0.1:9000 79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a 2026-11-30
/// ```
///
/// Fields are separated by single spaces: the address or name, the key in 64 hex digits, the date it
/// was first seen. A contact's name is stored as `ChatNames.canonical` spells it. A line that does not
/// parse is kept as it is and counted in `malformedLines` (never silently dropped).
public struct KnownKeys: Hashable, Sendable {
    /// Relays by address, or contacts by name.
    public enum Kind: Hashable, Sendable {
        /// `known_relays`: the address as the user typed it (`host:port`).
        case relays
        /// `known_contacts`: names, compared as ChatNames.canonical compares them.
        case contacts
    }

    /// One line of the file.
    enum Line: Hashable, Sendable {
        case pin(label: String, key: IdentityKey, firstSeen: String)
        case other(String)
    }

    /// What the file pins.
    public let kind: Kind
    var lines: [Line] = []
    /// The line numbers (1-based) of lines that are neither comments, blank nor pins.
    public private(set) var malformedLines: [Int] = []

    /// An empty file of `kind`.
    public init(kind: Kind) { self.kind = kind }

    /// Parses a file's text.
    public init(kind: Kind, parsing text: String) {
        self.kind = kind
        var rows = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if rows.last == "" { rows.removeLast() }
        for (index, row) in rows.enumerated() {
            let trimmed = row.hasSuffix("\r") ? String(row.dropLast()) : row
            if trimmed.isEmpty || trimmed.hasPrefix("#") {
                lines.append(.other(trimmed))
                continue
            }
            let fields = trimmed.split(separator: " ")
            guard fields.count == 3, let key = IdentityKey(hex: fields[1]) else {
                malformedLines.append(index + 1)
                lines.append(.other(trimmed))
                continue
            }
            lines.append(.pin(label: normalized(String(fields[0])), key: key, firstSeen: String(fields[2])))
        }
    }

    /// The file's text.
    public var text: String {
        lines.map { line in
            switch line {
            case let .pin(label, key, firstSeen): "\(label) \(key.hex) \(firstSeen)\n"
            case let .other(text): "\(text)\n"
            }
        }.joined()
    }

    /// The key pinned for `label` (an address or a name), its line number and first-seen date.
    public func pin(for label: String) -> (key: IdentityKey, line: Int, firstSeen: String)? {
        let wanted = normalized(label)
        for (index, line) in lines.enumerated() {
            if case let .pin(label, key, firstSeen) = line, label == wanted { return (key, index + 1, firstSeen) }
        }
        return nil
    }

    /// Compares `key` with the pin for `label`.
    public func decide(_ label: String, key: IdentityKey) -> PinDecision {
        guard let pinned = pin(for: label) else { return .firstContact }
        return pinned.key == key ? .match : .mismatch(expected: pinned.key, got: key, line: pinned.line, firstSeen: pinned.firstSeen)
    }

    /// A copy with `key` pinned for `label`, first seen `date`: a new last line, or the pin's own line
    /// replaced (accepting a new key).
    public func pinning(_ label: String, key: IdentityKey, date: String) -> KnownKeys {
        var copy = self
        let wanted = normalized(label)
        let line = Line.pin(label: wanted, key: key, firstSeen: date.isEmpty ? "-" : date)
        if let index = lines.firstIndex(where: { if case let .pin(label, _, _) = $0 { label == wanted } else { false } }) {
            copy.lines[index] = line
        } else {
            copy.lines.append(line)
        }
        return copy
    }

    /// A copy without the pin for `label`.
    public func removing(_ label: String) -> KnownKeys {
        var copy = self
        let wanted = normalized(label)
        copy.lines.removeAll { if case let .pin(label, _, _) = $0 { label == wanted } else { false } }
        return copy
    }

    /// The number of pins.
    public var count: Int { lines.count { if case .pin = $0 { true } else { false } } }

    private func normalized(_ label: String) -> String {
        switch kind {
        case .relays: label
        case .contacts: ChatNames.canonical(label)
        }
    }
}

/// The messages a client prints when a pinned key changed (Specs/chat-protocol.md section 4.10).
public enum PinMessages {
    /// The refusal when the relay at `address` presented `got` while `expected` is pinned on `line`
    /// of `file`. `fingerprint` turns a key into its `Fingerprint`.
    public static func relayKeyChanged(address: String, expected: IdentityKey, got: IdentityKey, file: String, line: Int,
                                       firstSeen: String, fingerprint: (IdentityKey) -> String) -> String {
        """
        REFUSED: the relay at \(address) presented a different identity key than the one pinned for it.
          pinned:    \(fingerprint(expected)) (\(file), line \(line), first seen \(firstSeen))
          presented: \(fingerprint(got))
        Someone may be intercepting the connection, or the relay's key was replaced. Nothing was sent.
        If you know the relay's key changed (compare the fingerprint it prints at start), accept the new key with
          chat --accept-new-relay-key ...   or delete line \(line) of \(file)
        """
    }

    /// The warning when `name`'s key is not the one pinned for it.
    public static func contactKeyChanged(name: String, expected: IdentityKey, got: IdentityKey,
                                         fingerprint: (IdentityKey) -> String) -> String {
        """
        WARNING: \(SafeText.sanitized(name))'s identity key CHANGED.
          pinned:    \(fingerprint(expected))
          presented: \(fingerprint(got))
        Someone may be impersonating \(SafeText.sanitized(name)), or they have a new key. No sealed private message will be \
        sent to or accepted from this key until you compare the fingerprint with them out of band and type /trust \(SafeText.sanitized(name)).
        """
    }
}
