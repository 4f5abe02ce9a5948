import Chat
import Datagram

// Accounts and offline private messages (Specs/chat-protocol.md, section 4.11.5): a registered name
// belongs to its identity keys (and to whoever proves its password with /identify); a PRIVATE to a
// registered user who is not connected waits in the user's mailbox until their next login.
extension RelayCore {
    /// Accounts the relay keeps at most.
    public static let maximumAccounts = 100_000
    /// Offline messages kept per recipient, and their bytes.
    public static let maximumMailboxMessages = 1_000
    public static let maximumMailboxBytes = 1 << 20
    /// Bytes of offline messages kept for all recipients together.
    public static let maximumOfflineBytes = 64 << 20

    /// The account that owns `name` (its skeleton, so look-alikes too), with its key.
    func account(protecting name: String) -> (key: String, account: Account)? {
        let key = ChatNames.skeleton(name)
        return accounts[key].map { (key, $0) }
    }

    /// Whether `peer` may use the account stored under `key`: its identity key is one of the
    /// account's, or it proved the password in this session.
    func owns(_ key: String, _ account: Account, peer: Peer) -> Bool {
        if let identity = peer.identityKey, account.keys.contains(identity) { return true }
        return peer.identifiedAccount == key
    }

    /// The ERROR `nameRegistered` text when `name` (or a look-alike) is registered to someone else
    /// than `peer`; nil when it is free to take.
    func registrationRefusal(_ name: String, peer: Peer) -> String? {
        guard let (key, account) = account(protecting: name), !owns(key, account, peer: peer) else { return nil }
        let alike = ChatNames.canonical(name) == ChatNames.canonical(account.name) ? "" : " (it looks like \(quoted(account.name)))"
        return "The name \(quoted(name)) is registered\(alike): join under another name and use /identify \(account.name) PASSWORD"
    }

    /// ACCOUNT: register, identify, unregister, password, drop.
    mutating func handleAccount(_ request: AccountRequest, from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        for password in [request.password, request.newPassword] where password.utf8.count > AccountRequest.maximumPasswordLength {
            return sendError(.badRequest, "A password has at most \(AccountRequest.maximumPasswordLength) bytes", to: endpoint, at: now)
        }
        switch request.action {
        case .register: register(peer, password: request.password, at: now)
        case .identify: identify(peer, name: request.name, password: request.password, at: now)
        case .unregister: unregister(peer, at: now)
        case .password: changePassword(peer, old: request.password, new: request.newPassword, at: now)
        case .drop: dropAccount(request.name, by: peer, at: now)
        }
    }

    private mutating func register(_ peer: Peer, password: String, at now: Timestamp) {
        let endpoint = peer.endpoint
        if let (key, account) = account(protecting: peer.name) {
            return owns(key, account, peer: peer)
                ? sendError(.badRequest, "The name \(quoted(account.name)) is already registered to you", to: endpoint, at: now)
                : sendError(.nameRegistered, registrationRefusal(peer.name, peer: peer) ?? "", to: endpoint, at: now)
        }
        if isAdministratorName(peer.name), !isAdministrator(endpoint) {
            // Otherwise whoever registered an administrator's name first would hold its rights for good.
            return sendError(.notOperator, "\(quoted(peer.name)) is a relay administrator's name: type /oper TOKEN before /register",
                             to: endpoint, at: now)
        }
        guard peer.identityKey != nil || !password.isEmpty else {
            return sendError(.badRequest, "A session without an identity key (plaintext) registers with a password: /register PASSWORD",
                             to: endpoint, at: now)
        }
        guard accounts.count < Self.maximumAccounts else {
            return sendError(.serverFull, "This relay keeps no more accounts", to: endpoint, at: now)
        }
        var account = Account(name: peer.name, keys: peer.identityKey.map { [$0] } ?? [])
        if !password.isEmpty {
            guard let hash = newPasswordHash(password, for: endpoint, at: now) else { return }
            account.password = hash
        }
        let key = ChatNames.skeleton(peer.name)
        save(account, as: key)
        peers[endpoint]?.identifiedAccount = key
        log(.info, .membership, at: now, "\(quoted(peer.name)) [\(endpoint)] registered the name (\(account.keys.count) key(s), "
            + "\(account.password == nil ? "no password" : "a password"))")
        send(.notice(Notice(kind: .account, name: peer.name, detail: "registered" + (isStoring ? "" : " until the relay stops (it keeps no data directory)"))),
             to: endpoint, at: now)
    }

    private mutating func identify(_ peer: Peer, name: String, password: String, at now: Timestamp) {
        let endpoint = peer.endpoint
        let nameKey = "name " + ChatNames.skeleton(name), addressKey = "address \(AddressKey(endpoint))"
        if let until = [passwordAttempts.blockedUntil(nameKey, at: now), passwordAttempts.blockedUntil(addressKey, at: now)].compactMap({ $0 }).max() {
            return sendError(.tooManyAttempts, "Too many wrong passwords for \(quoted(name)) or from your address: try again in "
                             + "\(Self.describe(until - now))", to: endpoint, at: now)
        }
        guard let (key, account) = account(protecting: name), ChatNames.canonical(name) == ChatNames.canonical(account.name) else {
            return sendError(.notRegistered, "The name \(quoted(name)) is not registered", to: endpoint, at: now)
        }
        guard let saved = account.password, let hashing = passwordHashing, hashing.verify(password, against: saved) else {
            passwordAttempts.recordFailure(nameKey, at: now)
            passwordAttempts.recordFailure(addressKey, at: now)
            statistics.failedPasswordAttempts += 1
            log(.info, .membership, at: now, "\(quoted(peer.name)) [\(endpoint)] failed to identify as \(quoted(account.name))")
            return sendError(.badPassword, account.password == nil ? "The account \(quoted(account.name)) has no password: log in with its key"
                             : "Wrong password for \(quoted(account.name))", to: endpoint, at: now)
        }
        passwordAttempts.clear(nameKey)
        var updated = account
        if let identity = peer.identityKey, !updated.keys.contains(identity) {
            if updated.keys.count >= Account.maximumKeys { updated.keys.removeFirst() }
            updated.keys.append(identity)
            save(updated, as: key)
        }
        peers[endpoint]?.identifiedAccount = key
        log(.info, .membership, at: now, "\(quoted(peer.name)) [\(endpoint)] identified as \(quoted(account.name))")
        send(.notice(Notice(kind: .account, name: account.name, detail: peer.identityKey == nil ? "identified"
                                                                                            : "identified; this device's key logs in from now on")),
             to: endpoint, at: now)
        if ChatNames.canonical(peer.name) == ChatNames.canonical(account.name) {
            deliverOfflineMessages(to: endpoint, at: now)
        } else {
            handleNick(account.name, from: endpoint, at: now)
        }
    }

    /// The session at `peer` owns the account of the name it holds, or is told why not.
    private mutating func ownedAccount(_ peer: Peer, at now: Timestamp) -> (key: String, account: Account)? {
        guard let (key, account) = account(protecting: peer.name), ChatNames.canonical(peer.name) == ChatNames.canonical(account.name) else {
            sendError(.notRegistered, "Your name \(quoted(peer.name)) is not registered", to: peer.endpoint, at: now)
            return nil
        }
        guard owns(key, account, peer: peer) else {
            sendError(.notRegistered, "The account \(quoted(account.name)) is not yours: use /identify first", to: peer.endpoint, at: now)
            return nil
        }
        return (key, account)
    }

    private mutating func unregister(_ peer: Peer, at now: Timestamp) {
        guard let (key, account) = ownedAccount(peer, at: now) else { return }
        remove(account: key)
        log(.info, .membership, at: now, "\(quoted(peer.name)) [\(peer.endpoint)] unregistered the name")
        send(.notice(Notice(kind: .account, name: account.name, detail: "unregistered")), to: peer.endpoint, at: now)
    }

    private mutating func changePassword(_ peer: Peer, old: String, new: String, at now: Timestamp) {
        let endpoint = peer.endpoint
        guard let (key, account) = ownedAccount(peer, at: now) else { return }
        // The account's key needs no old password; a session that proved the password does.
        let byKey = peer.identityKey.map { account.keys.contains($0) } ?? false
        if !byKey {
            guard let saved = account.password, let hashing = passwordHashing, hashing.verify(old, against: saved) else {
                passwordAttempts.recordFailure("name " + key, at: now)
                passwordAttempts.recordFailure("address \(AddressKey(endpoint))", at: now)
                statistics.failedPasswordAttempts += 1
                return sendError(.badPassword, "Wrong old password for \(quoted(account.name)): /password OLD NEW", to: endpoint, at: now)
            }
        }
        var updated = account
        if new.isEmpty {
            guard !updated.keys.isEmpty else {
                return sendError(.badRequest, "An account without identity keys keeps its password: give a new one", to: endpoint, at: now)
            }
            updated.password = nil
        } else {
            guard let hash = newPasswordHash(new, for: endpoint, at: now) else { return }
            updated.password = hash
        }
        save(updated, as: key)
        log(.info, .membership, at: now, "\(quoted(peer.name)) [\(endpoint)] changed the account's password")
        send(.notice(Notice(kind: .account, name: account.name, detail: new.isEmpty ? "password removed" : "password changed")),
             to: endpoint, at: now)
    }

    private mutating func dropAccount(_ name: String, by actor: Peer, at now: Timestamp) {
        guard isAdministrator(actor.endpoint) else {
            return sendError(.notOperator, "Only a relay administrator can drop an account", to: actor.endpoint, at: now)
        }
        guard let (key, account) = account(protecting: name), ChatNames.canonical(name) == ChatNames.canonical(account.name) else {
            return sendError(.notRegistered, "The name \(quoted(name)) is not registered", to: actor.endpoint, at: now)
        }
        remove(account: key)
        log(.info, .moderation, at: now, "\(quoted(actor.name)) [\(actor.endpoint)] dropped the account \(quoted(account.name))")
        send(.notice(Notice(kind: .account, name: account.name, detail: "dropped")), to: actor.endpoint, at: now)
    }

    private mutating func newPasswordHash(_ password: String, for endpoint: Endpoint, at now: Timestamp) -> PasswordHash? {
        guard password.utf8.count >= AccountRequest.minimumPasswordLength else {
            sendError(.badRequest, "A password has at least \(AccountRequest.minimumPasswordLength) bytes", to: endpoint, at: now)
            return nil
        }
        guard let hashing = passwordHashing, let hash = hashing.hash(password) else {
            sendError(.badRequest, "This relay cannot hash passwords now", to: endpoint, at: now)
            return nil
        }
        return hash
    }

    private mutating func save(_ account: Account, as key: String) {
        accounts[key] = account
        if isStoring { storageActions.append(.saveAccount(name: key, account)) }
    }

    private mutating func remove(account key: String) {
        accounts[key] = nil
        mailboxBytes -= mailboxes[key]?.reduce(0) { $0 + $1.cost } ?? 0
        mailboxes[key] = nil
        for endpoint in orderedEndpoints() where peers[endpoint]?.identifiedAccount == key { peers[endpoint]?.identifiedAccount = nil }
        if isStoring {
            storageActions.append(.saveAccount(name: key, nil))
            storageActions.append(.clearOffline(account: key))
        }
    }
}

extension RelayCore {
    /// A PRIVATE to `target`, who holds no name now: stored when `target` is a registered name
    /// (exactly, not a look-alike), answered with NOTICE storedOffline. Returns false when the name is
    /// not registered (the caller answers noSuchUser).
    mutating func storeOffline(to target: String, from sender: Peer, messageID: UInt64, flags: MessageFlags, text: String,
                               sealed: [UInt8]? = nil, at now: Timestamp) -> Bool {
        guard let (key, account) = account(protecting: target), ChatNames.canonical(target) == ChatNames.canonical(account.name) else {
            return false
        }
        let message = OfflineMessage(from: sender.name, sender: sender.senderID, messageID: messageID, flags: flags, text: text, sealed: sealed)
        let box = mailboxes[key] ?? []
        let bytes = box.reduce(0) { $0 + $1.cost }
        guard box.count < Self.maximumMailboxMessages, bytes + message.cost <= Self.maximumMailboxBytes,
              mailboxBytes + message.cost <= Self.maximumOfflineBytes else {
            sendError(.mailboxFull, "The offline mailbox of \(quoted(account.name)) is full (\(Self.maximumMailboxMessages) messages or "
                      + "\(Self.maximumMailboxBytes >> 20) MiB): the message was not stored", messageID: messageID, to: sender.endpoint, at: now)
            return true
        }
        var stored = message
        stored.unixMilliseconds = wallClock?.unixMilliseconds(of: now) ?? 0
        mailboxes[key, default: []].append(stored)
        mailboxBytes += message.cost
        statistics.offlineMessagesStored += 1
        if isStoring { storageActions.append(.storeOffline(account: key, stored)) }
        send(.notice(Notice(kind: .storedOffline, name: account.name, detail: String(messageID))), to: sender.endpoint, at: now)
        return true
    }

    /// After WELCOME, an identify or a NICK: when the session at `endpoint` owns the registered name
    /// it holds, its mailbox is sent, oldest first, and emptied: plain messages as HISTORY lines with an
    /// empty room and their original time, sealed ones as SEALED_PAST_MESSAGE with their bytes
    /// unchanged and their original time (only to a session with an identity key: a plaintext session leaves them waiting).
    /// Each sender still connected is sent DELIVERED.
    mutating func deliverOfflineMessages(to endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint], peer.isJoined, let (key, account) = account(protecting: peer.name),
              ChatNames.canonical(peer.name) == ChatNames.canonical(account.name), owns(key, account, peer: peer),
              let all = mailboxes[key], !all.isEmpty else { return }
        let box = peer.identityKey == nil ? all.filter { $0.sealed == nil } : all
        guard !box.isEmpty else { return }
        let kept = all.filter { message in !box.contains(message) }
        mailboxes[key] = kept.isEmpty ? nil : kept
        mailboxBytes -= box.reduce(0) { $0 + $1.cost }
        if isStoring {
            storageActions.append(.clearOffline(account: key))
            for message in kept { storageActions.append(.storeOffline(account: key, message)) }
        }
        for message in box {
            statistics.deliveries += 1
            if let sealed = message.sealed {
                send(.sealedPastMessage(from: message.from, sender: message.sender, messageID: message.messageID,
                                        time: UInt64(clamping: max(0, message.unixMilliseconds)), sealed: sealed),
                     to: endpoint, at: now)
            } else {
                send(.history(PastMessage(room: "", from: message.from, sender: message.sender, messageID: message.messageID,
                                      flags: message.flags, text: message.text, time: UInt64(clamping: max(0, message.unixMilliseconds)),
                                      isAsked: false)), to: endpoint, at: now)
            }
            if let target = joinedEndpoint(of: message.sender) {
                statistics.receiptsDelivered += 1
                send(.delivered(to: peer.name, messageID: message.messageID), to: target, at: now)
            }
        }
        log(.info, .membership, at: now, "\(quoted(peer.name)) [\(endpoint)] was given \(box.count) offline message(s)")
    }
}
