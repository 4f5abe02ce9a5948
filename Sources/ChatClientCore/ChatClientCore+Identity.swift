import Chat
import Datagram
import Noise

/// This user's long-term key and what it needs for end-to-end private messages.
public struct ClientIdentity: Sendable {
    /// The X25519 key pair of the identity key file (secret half never leaves the process).
    public var keyPair: NoiseKeyPair
    /// The primitives (`LibCrypto.LibCryptoNoise()` in the program; any `NoiseCryptography` in tests).
    public var crypto: any NoiseCryptography
    /// The contacts pinned so far (`known_contacts`).
    public var contacts: KnownKeys
    /// The first-seen date written with new pins (`2026-11-30`).
    public var pinDate: String

    /// An identity; `contacts` defaults to none pinned.
    public init(keyPair: NoiseKeyPair, crypto: any NoiseCryptography, contacts: KnownKeys = KnownKeys(kind: .contacts),
                pinDate: String = "-") {
        self.keyPair = keyPair
        self.crypto = crypto
        self.contacts = contacts
        self.pinDate = pinDate
    }

    /// The public key.
    public var publicKey: IdentityKey? { IdentityKey(bytes: keyPair.publicKey) }
}

/// What happened with keys and end-to-end private messages, for the UI (and, for pins, the file).
public enum IdentityEvent: Sendable, Hashable {
    /// The answer to `/whois`: `decision` compares the key with the contact's pin (first contact: pinned now).
    case whois(WhoisEntry, decision: PinDecision)
    /// A contact's key was pinned on first use (save `contacts`).
    case contactPinned(name: String, key: IdentityKey)
    /// A contact presented a key other than the pinned one: warn loudly. Nothing sealed goes to it and
    /// nothing sealed with it is shown until `/trust NAME`.
    case contactKeyChanged(name: String, expected: IdentityKey, got: IdentityKey)
    /// The user accepted `key` for `name` (`/trust`); save `contacts`.
    case trusted(name: String, key: IdentityKey)
    /// A sealed private message was opened: the key inside is the one pinned for `from`.
    case privateMessage(from: String, text: String)
    /// A sealed private message the relay kept (an offline message, or one sent again after a relay
    /// restart) was opened: as `privateMessage`, with `time`, when the relay took it in (milliseconds
    /// since the epoch, UTC).
    case pastPrivateMessage(from: String, text: String, time: UInt64)
    /// A sealed private message was dropped and counted (`reason` in words); it is not shown.
    case sealedRejected(from: String, reason: String)
    /// Private messages to `to` went in plain text, readable by the relay (`reason`: who has no key).
    case sentInPlainText(to: String, count: Int, reason: String)
    /// Private messages to `to` were not sent (`reason`: no such user, or the key changed and was not trusted).
    case notSent(to: String, count: Int, reason: String)
    /// A sealed private message left as message `id` (its acknowledgement and DELIVERED name that id).
    case sealedSent(id: UInt64, to: String, text: String)
}

/// Sealing and opening one end-to-end private message (Specs/noise.md section 6.1): one
/// `Noise_X_25519_ChaChaPoly_SHA256` handshake message from the sender's static key to the recipient's.
public enum PrivateMessageSealing {
    /// The sealed bytes of `text` with `sealedID`, from `sender` to `recipient`. `ephemeral` is for
    /// test vectors only; otherwise a fresh ephemeral key is generated for every message.
    public static func seal(_ text: String, sealedID: UInt64, from sender: NoiseKeyPair, to recipient: IdentityKey,
                            crypto: any NoiseCryptography, ephemeral: NoiseKeyPair? = nil) throws(NoiseError) -> [UInt8] {
        var state = try HandshakeState(pattern: .x, role: .initiator, prologue: SealedPrivateFormat.prologue,
                                       localStatic: sender, localEphemeral: ephemeral, remoteStatic: recipient.bytes, crypto: crypto)
        return try state.writeMessage(SealedPrivateFormat.payload(sealedID: sealedID, text: text))
    }

    /// Opens `sealed` with the recipient's key pair: the sender's static key inside and the payload
    /// bytes. Throws when it does not open (forged, corrupted, not for this key).
    public static func open(_ sealed: [UInt8], recipient: NoiseKeyPair,
                            crypto: any NoiseCryptography) throws(NoiseError) -> (sender: IdentityKey, payload: [UInt8]) {
        var state = try HandshakeState(pattern: .x, role: .responder, prologue: SealedPrivateFormat.prologue,
                                       localStatic: recipient, crypto: crypto)
        let payload = try state.readMessage(sealed)
        guard let remote = state.remoteStaticKey, let key = IdentityKey(bytes: remote) else { throw .missingRemoteStaticKey }
        return (key, payload)
    }
}

/// The identity part of a session's state.
struct IdentityState: Sendable {
    var identity: ClientIdentity?
    /// The high half of every sealed id this run sends (Specs/noise.md section 6.1).
    let runTag: UInt32
    /// Texts waiting for the recipient's key, by canonical name, oldest first.
    var waiting: [String: [String]] = [:]
    /// Canonical names with a WHOIS in flight.
    var lookups: Set<String> = []
    /// Canonical names the user asked `/whois` for.
    var userLookups: Set<String> = []
    /// Keys presented that differ from the pin, by canonical name, until `/trust`.
    var changedKeys: [String: IdentityKey] = [:]
    /// Names asked again after a reconnection, until when an answer "nobody" means "not back yet":
    /// after a relay restart the recipient may reconnect later than this client.
    var lookupRetryUntil: [String: Timestamp] = [:]
    /// Names to ask again at `nextLookupRetry` (their last answer was "nobody" within the window).
    var retryNames: Set<String> = []
    var nextLookupRetry: Timestamp?
    /// Duplicate filter of opened messages: (sender key, run tag) -> highest message id seen.
    var highestSeen: [SealedSender: UInt32] = [:]
    var seenOrder: [SealedSender] = []

    /// At most this many texts wait for keys.
    static let waitingLimit = 256
    /// How long after a reconnection a recipient found absent is asked for again, and how often.
    static let lookupRetryWindow: Duration = .seconds(20)
    static let lookupRetryInterval: Duration = .seconds(1)
    /// At most this many (key, run) pairs are remembered by the duplicate filter.
    static let filterLimit = 1024

    var waitingCount: Int { waiting.values.reduce(0) { $0 + $1.count } }
}

struct SealedSender: Hashable, Sendable {
    var key: IdentityKey
    var runTag: UInt32
}

extension ChatClientCore {
    /// True when this session can send and open sealed private messages.
    public var hasIdentity: Bool { identityState.identity != nil }

    /// The contacts pinned so far, for saving to `known_contacts`.
    public var contacts: KnownKeys? { identityState.identity?.contacts }

    /// Sends `text` to `name` end to end (Specs/noise.md section 6.1): asks the relay for the
    /// recipient's key (WHOIS), checks it against the contact's pin, then seals and sends. Without an
    /// identity (a plaintext session) the message goes as a plain PRIVATE at once, and an event says so.
    /// - Returns: the message id when the message was sent now; nil when it waits for the key.
    public mutating func sendSealedPrivate(_ text: String, to name: String, at now: Timestamp) throws(ChatSendError) -> UInt64? {
        guard hasIdentity else {
            let id = try sendPrivate(text, to: name, at: now)
            show(.identity(.sentInPlainText(to: name, count: 1, reason: "this session has no identity key (plaintext)")))
            finish(at: now)
            return id
        }
        let size = text.utf8.count
        guard size <= ChatLimits.maximumTextLength else { throw .textTooLong(bytes: size, limit: ChatLimits.maximumTextLength) }
        guard ledger.phase != .closed else { throw .sessionClosed }
        let pending = identityState.waitingCount
        guard !isWindowFull, pending < IdentityState.waitingLimit else { throw .queueFull(waiting: waitingCount + pending) }
        let key = ChatNames.canonical(name)
        identityState.waiting[key, default: []].append(text)
        lookUp(name, at: now)
        finish(at: now)
        return nil
    }

    /// `/whois NAME`: asks the relay; the answer comes as `.identity(.whois)` with the pin decision.
    public mutating func whois(_ name: String, at now: Timestamp) {
        identityState.userLookups.insert(ChatNames.canonical(name))
        lookUp(name, at: now)
        finish(at: now)
    }

    /// `/trust NAME`: accepts the changed key `name` last presented, pins it, and sends what waited.
    /// - Returns: false when no changed key is known for `name`.
    @discardableResult
    public mutating func trust(_ name: String, at now: Timestamp) -> Bool {
        let canonical = ChatNames.canonical(name)
        guard let key = identityState.changedKeys.removeValue(forKey: canonical), var identity = identityState.identity else { return false }
        identity.contacts = identity.contacts.pinning(name, key: key, date: identity.pinDate)
        identityState.identity = identity
        show(.identity(.trusted(name: name, key: key)))
        if identityState.waiting[canonical] != nil { lookUp(name, at: now) }
        finish(at: now)
        return true
    }

    /// After a reconnection: every WHOIS whose answer has not come is asked again, once. A relay
    /// that was killed may have taken a WHOIS in without answering it (over TCP nothing acknowledges
    /// a WHOIS), and the private messages waiting for that key would otherwise wait forever. The
    /// WHOIS waits with what is held (the rejoin grace), so that the recipient, reconnecting too
    /// after a relay restart, holds its name again when it is asked.
    ///
    /// For `IdentityState.lookupRetryWindow` after the reconnection, an answer "nobody" for a name with
    /// messages waiting means "not back yet": the messages keep waiting and the name is asked again
    /// every `lookupRetryInterval`; only after the window are they reported as not sent.
    mutating func repeatLookups(at now: Timestamp) {
        let names = identityState.lookups.union(identityState.retryNames)
        guard !names.isEmpty else { return }
        ledger.held.removeAll { if case .whois = $0 { true } else { false } }
        identityState.retryNames = []
        identityState.nextLookupRetry = nil
        identityState.lookups = names
        for name in names.sorted() {
            if identityState.waiting[name] != nil { identityState.lookupRetryUntil[name] = now + IdentityState.lookupRetryWindow }
            ledger.held.append(.whois(name: name))
        }
    }

    /// Asks again for the names found absent within their retry window, when it is time.
    mutating func retryLookupsIfDue(at now: Timestamp) {
        guard let due = identityState.nextLookupRetry, due <= now else { return }
        identityState.nextLookupRetry = nil
        let names = identityState.retryNames
        identityState.retryNames = []
        for name in names.sorted() { lookUp(name, at: now) }
    }

    private mutating func lookUp(_ name: String, at now: Timestamp) {
        guard identityState.lookups.insert(ChatNames.canonical(name)).inserted else { return }
        submit(.whois(name: name), at: now)
    }

    /// WHOIS_REPLY: pin or check the key, then seal what waited (or send it plain, or drop it).
    mutating func handleWhoisReply(_ entry: WhoisEntry, at now: Timestamp) {
        let canonical = ChatNames.canonical(entry.asked)
        identityState.lookups.remove(canonical)
        let texts = identityState.waiting.removeValue(forKey: canonical) ?? []
        let asked = identityState.userLookups.remove(canonical) != nil
        let retryUntil = identityState.lookupRetryUntil.removeValue(forKey: canonical)
        if !entry.isFound, !texts.isEmpty, let retryUntil, now < retryUntil {
            // After a relay restart the recipient may not be back yet: ask again shortly.
            identityState.waiting[canonical] = texts
            identityState.lookupRetryUntil[canonical] = retryUntil
            identityState.retryNames.insert(canonical)
            identityState.nextLookupRetry = identityState.nextLookupRetry ?? now + IdentityState.lookupRetryInterval
            return
        }
        guard entry.isFound else {
            if asked { show(.identity(.whois(entry, decision: .firstContact))) }
            if !texts.isEmpty { show(.identity(.notSent(to: entry.asked, count: texts.count, reason: "no such user"))) }
            return
        }
        guard let key = entry.key else {
            if asked { show(.identity(.whois(entry, decision: .firstContact))) }
            if !texts.isEmpty {
                for text in texts { _ = try? sendPrivate(text, to: entry.name, at: now) }
                show(.identity(.sentInPlainText(to: entry.name, count: texts.count,
                                                reason: "\(entry.name) has no identity key (plaintext session)")))
            }
            return
        }
        let decision = check(entry.name, key: key)
        if asked { show(.identity(.whois(entry, decision: decision))) }
        guard !texts.isEmpty else { return }
        if case .mismatch = decision {
            // Kept until /trust; nothing goes to a changed key.
            identityState.waiting[canonical] = texts
            show(.identity(.notSent(to: entry.name, count: texts.count,
                                    reason: "the key changed; they wait until you type /trust \(entry.name)")))
            return
        }
        for text in texts { sendSealed(text, to: entry.name, key: key, at: now) }
    }

    /// Compares `key` with the pin for `name`: pins on first contact; on a change, remembers the key
    /// for `/trust` and warns.
    private mutating func check(_ name: String, key: IdentityKey) -> PinDecision {
        guard var identity = identityState.identity else { return .firstContact }
        let decision = identity.contacts.decide(name, key: key)
        switch decision {
        case .firstContact:
            identity.contacts = identity.contacts.pinning(name, key: key, date: identity.pinDate)
            identityState.identity = identity
            show(.identity(.contactPinned(name: name, key: key)))
        case let .mismatch(expected, got, _, _):
            let isNew = identityState.changedKeys.updateValue(got, forKey: ChatNames.canonical(name)) != got
            if isNew { show(.identity(.contactKeyChanged(name: name, expected: expected, got: got))) }
        case .match:
            break
        }
        return decision
    }

    private mutating func sendSealed(_ text: String, to name: String, key: IdentityKey, at now: Timestamp) {
        guard let identity = identityState.identity else { return }
        let id = ledger.takeMessageID()
        let sealedID = UInt64(identityState.runTag) << 32 | (id & 0xFFFF_FFFF)
        do {
            let sealed = try PrivateMessageSealing.seal(text, sealedID: sealedID, from: identity.keyPair, to: key, crypto: identity.crypto)
            ledger.statistics.messagesSent += 1
            ledger.statistics.sealedSent += 1
            submit(.sealedPrivate(to: name, messageID: id, sealed: sealed), at: now)
            show(.identity(.sealedSent(id: id, to: name, text: text)))
        } catch {
            show(.identity(.notSent(to: name, count: 1, reason: "sealing failed: \(error)")))
        }
    }

    /// SEALED_PRIVATE_MESSAGE: opens it, checks the key inside against the pin for `from`, drops
    /// duplicates by (sender key, run tag, id); shows it, or drops and counts it with a reason.
    /// SEALED_PAST_MESSAGE (`time` given) is handled the same way, shown with its time and not
    /// answered with RECEIPT (the relay sends DELIVERED for an offline message itself; Specs/chat-protocol.md 4.11).
    mutating func handleSealedPrivateMessage(from: String, sender relaySender: SenderID, messageID: UInt64, sealed: [UInt8],
                                             time: UInt64? = nil, at now: Timestamp) {
        func reject(_ reason: String) {
            ledger.statistics.sealedRejected += 1
            show(.identity(.sealedRejected(from: from, reason: reason)))
        }
        guard let identity = identityState.identity else { return reject("this session has no identity key to open it") }
        let payload: [UInt8]
        let senderKey: IdentityKey
        do {
            (senderKey, payload) = try PrivateMessageSealing.open(sealed, recipient: identity.keyPair, crypto: identity.crypto)
        } catch {
            return reject("it could not be opened (forged or corrupted)")
        }
        guard let (sealedID, text) = SealedPrivateFormat.parse(payload: payload) else { return reject("its contents are malformed") }
        if case .mismatch = check(from, key: senderKey) {
            return reject("it is sealed with a key other than the one pinned for \(from)")
        }
        let sender = SealedSender(key: senderKey, runTag: UInt32(truncatingIfNeeded: sealedID >> 32))
        let number = UInt32(truncatingIfNeeded: sealedID)
        if let highest = identityState.highestSeen[sender], number <= highest {
            ledger.statistics.duplicatesSuppressed += 1
            return
        }
        if identityState.highestSeen[sender] == nil {
            identityState.seenOrder.append(sender)
            if identityState.seenOrder.count > IdentityState.filterLimit {
                identityState.highestSeen[identityState.seenOrder.removeFirst()] = nil
            }
        }
        identityState.highestSeen[sender] = number
        ledger.statistics.messagesReceived += 1
        if let time {
            show(.identity(.pastPrivateMessage(from: from, text: text, time: time)))
            return
        }
        show(.identity(.privateMessage(from: from, text: text)))
        // Receipts work for sealed private messages as for plain ones (Specs/chat-protocol.md 4.11).
        if ledger.sendsReceipts { submit(.receipt(sender: relaySender, messageID: messageID), at: now) }
    }
}
