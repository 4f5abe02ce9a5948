import Chat
import Datagram
@testable import Relay
import Testing

// Issue 11, Specs/chat-protocol.md section 4.11.5: accounts on top of identity keys (register,
// identify from a second device, unregister, password, an administrator's drop), name protection
// including look-alikes, rate-limited password attempts, and offline private messages. Scripted time,
// a cheap deterministic stand-in for scrypt, the in-memory store.

private let aliceKey = IdentityKey(bytes: [UInt8](repeating: 0xA1, count: 32))!
private let phoneKey = IdentityKey(bytes: [UInt8](repeating: 0xA2, count: 32))!
private let eveKey = IdentityKey(bytes: [UInt8](repeating: 0xEE, count: 32))!

/// Not scrypt: a keyed mix good enough to tell passwords apart, so the transcripts run fast.
private let testHashing = PasswordHashing(
    cost: PasswordCost(n: 16, r: 1, p: 1),
    derive: { password, salt, cost in
        var state: UInt64 = 0xCBF2_9CE4_8422_2325 ^ cost.n
        var out: [UInt8] = []
        for byte in salt + [0xFF] + password { state = (state ^ UInt64(byte)) &* 0x100_0000_01B3 }
        for _ in 0..<32 { state = (state ^ 0x5A) &* 0x100_0000_01B3; out.append(UInt8(truncatingIfNeeded: state >> 29)) }
        return out
    },
    salt: { [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7] })

private extension RelayHarness {
    static func accounts(_ store: MemoryRelayStorage? = nil, configuration: RelayConfiguration = RelayConfiguration()) -> RelayHarness {
        var relay = RelayHarness(configuration: configuration)
        relay.core.passwordHashing = testHashing
        relay.core.wallClock = StorageClock(now: relay.now, unixMilliseconds: 1_790_000_000_000)
        if let store {
            relay.core.attachStorage(try! store.load(clock: StorageClock(now: relay.now, unixMilliseconds: 1_790_000_000_000)), at: relay.now)
        }
        return relay
    }

    /// What the host does after an input: saves the batch, then answers the history reads.
    mutating func persist(to store: MemoryRelayStorage) {
        let batch = core.takeStorageActions()
        if !batch.isEmpty { try! store.perform(batch, clock: StorageClock(now: now, unixMilliseconds: 1_790_000_000_000)) }
        for query in core.takeHistoryQueries() {
            core.handleHistory(try! store.history(room: query.room, limit: query.limit, since: query.since), for: query, at: now)
        }
        collect()
    }

    /// Joins over TCP from `address` with `key` (nil: plaintext) and returns the endpoint and what it got.
    mutating func join(_ name: String, port: UInt16, key: IdentityKey?, address: [UInt8] = [127, 0, 0, 1]) -> (Endpoint, [RelayMessage]) {
        let endpoint = Endpoint(transport: .tcp, address: address, port: port)
        open(endpoint)
        core.setIdentityKey(key, for: endpoint)
        send(.hello(Hello(sessionSecret: SessionSecret(rawValue: UInt64(port) << 8 | UInt64(address.last ?? 0)), name: name)), from: endpoint)
        return (endpoint, take(endpoint))
    }

    mutating func account(_ request: AccountRequest, from endpoint: Endpoint) -> [RelayMessage] {
        send(.account(request), from: endpoint)
        return take(endpoint)
    }
}

private extension [RelayMessage] {
    var errorCodes: [ErrorCode] { compactMap(\.errorCode) }
    var welcomed: Bool { contains { if case .welcome = $0 { true } else { false } } }
    var accountNotices: [String] { compactMap { $0.notice?.kind == .account ? $0.notice?.detail : nil } }
}

/// Specs/chat-protocol.md, section 4.11.5: after /register, a HELLO or NICK for the name from another key is refused with
/// nameRegistered, which says to use /identify; the owner's key logs in without a password.
@Test func aRegisteredNameIsRefusedToOtherKeysAndTheOwnersKeyLogsInWithoutAPassword() {
    var relay = RelayHarness.accounts()
    let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
    #expect(relay.account(AccountRequest(.register), from: alice).accountNotices == ["registered until the relay stops (it keeps no data directory)"])
    relay.send(.quit(reason: ""), from: alice)

    let (eve, answer) = relay.join("alice", port: 2, key: eveKey)
    #expect(answer.errorCodes == [.nameRegistered] && !answer.welcomed)
    if case let .error(_, _, text) = answer.first { #expect(text.contains("/identify alice PASSWORD")) }
    let (eve2, _) = relay.join("eve", port: 3, key: eveKey)
    relay.send(.nick("ALICE"), from: eve2)
    #expect(relay.take(eve2).errorCodes == [.nameRegistered])
    _ = eve

    let (back, welcome) = relay.join("alice", port: 4, key: aliceKey)
    #expect(welcome.welcomed && welcome.errorCodes.isEmpty)
    _ = back
}

/// Specs/chat-protocol.md, section 4.11.5 (and 6.2): a look-alike of a registered name (`a1ice`, `ALICE`) is refused too.
@Test func aLookAlikeOfARegisteredNameIsRefused() {
    var relay = RelayHarness.accounts()
    let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
    _ = relay.account(AccountRequest(.register), from: alice)
    relay.send(.quit(reason: ""), from: alice)
    let (_, answer) = relay.join("a1ice", port: 2, key: eveKey)
    #expect(answer.errorCodes == [.nameRegistered])
    if case let .error(_, _, text) = answer.first { #expect(text.contains("looks like \"alice\"")) }
    let (_, second) = relay.join("ALICE", port: 3, key: eveKey)
    #expect(second.errorCodes == [.nameRegistered])
}

/// Specs/chat-protocol.md, section 4.11.5: a second device joins under another name, proves the password with
/// /identify NAME PASSWORD, gets the name, and its key logs in without a password from then on.
@Test func identifyFromASecondKeyAddsTheKeyAndGivesTheName() {
    var relay = RelayHarness.accounts()
    let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
    _ = relay.account(AccountRequest(.register, password: "correct horse"), from: alice)
    relay.send(.quit(reason: ""), from: alice)

    let (phone, refused) = relay.join("alice", port: 2, key: phoneKey)
    #expect(refused.errorCodes == [.nameRegistered])
    relay.send(.hello(Hello(sessionSecret: SessionSecret(rawValue: 0x22), name: "guest-42")), from: phone)
    #expect(relay.take(phone).welcomed)
    let answer = relay.account(AccountRequest(.identify, name: "alice", password: "correct horse"), from: phone)
    #expect(answer.accountNotices == ["identified; this device's key logs in from now on"])
    #expect(answer.contains { $0.notice?.kind == .nickChanged && $0.notice?.detail == "alice" })
    #expect(relay.core.accounts[ChatNames.skeleton("alice")]?.keys == [aliceKey, phoneKey])
    relay.send(.quit(reason: ""), from: phone)
    let (_, again) = relay.join("alice", port: 3, key: phoneKey)
    #expect(again.welcomed)
}

/// Specs/chat-protocol.md, section 4.11.5: a wrong password is refused with badPassword; after five failures in a minute the
/// name is blocked with tooManyAttempts (from any address), and so is the address (for any name),
/// until the minute is over.
@Test func wrongPasswordsAreRefusedAndRateLimitedPerNameAndPerAddress() {
    var relay = RelayHarness.accounts()
    let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
    _ = relay.account(AccountRequest(.register, password: "correct horse"), from: alice)
    let (bob, _) = relay.join("bob", port: 9, key: nil)
    _ = relay.account(AccountRequest(.register, password: "bobs secret"), from: bob)
    let (eve, _) = relay.join("eve", port: 2, key: eveKey, address: [10, 0, 0, 66])
    for _ in 0..<5 {
        #expect(relay.account(AccountRequest(.identify, name: "alice", password: "guess"), from: eve).errorCodes == [.badPassword])
    }
    #expect(relay.account(AccountRequest(.identify, name: "alice", password: "correct horse"), from: eve).errorCodes == [.tooManyAttempts])
    // The address is blocked for another name too; another address is blocked for this name.
    #expect(relay.account(AccountRequest(.identify, name: "bob", password: "bobs secret"), from: eve).errorCodes == [.tooManyAttempts])
    let (other, _) = relay.join("mallory", port: 3, key: nil, address: [10, 0, 0, 77])
    #expect(relay.account(AccountRequest(.identify, name: "alice", password: "correct horse"), from: other).errorCodes == [.tooManyAttempts])
    #expect(relay.core.statistics.failedPasswordAttempts == 5)
    relay.advance(by: .seconds(61))
    // The minute is over: the right password works again (the name itself is held by bob's session).
    let late = relay.account(AccountRequest(.identify, name: "bob", password: "bobs secret"), from: eve)
    #expect(late.accountNotices.count == 1 && late.errorCodes == [.nameKeyMismatch])
    #expect(relay.logs.allSatisfy { !$0.contains("correct horse") && !$0.contains("guess") && !$0.contains("bobs secret") })
}

/// Specs/chat-protocol.md, section 4.11.5: /unregister frees the name; /identify for an unregistered name is notRegistered.
@Test func unregisterFreesTheName() {
    var relay = RelayHarness.accounts()
    let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
    _ = relay.account(AccountRequest(.register), from: alice)
    let (eve, _) = relay.join("eve", port: 2, key: eveKey)
    #expect(relay.account(AccountRequest(.unregister), from: eve).errorCodes == [.notRegistered])
    #expect(relay.account(AccountRequest(.unregister), from: alice).accountNotices == ["unregistered"])
    #expect(relay.core.accounts.isEmpty)
    relay.send(.quit(reason: ""), from: alice)
    relay.send(.nick("alice"), from: eve)
    #expect(relay.take(eve).errorCodes.isEmpty)
    #expect(relay.account(AccountRequest(.identify, name: "zed", password: "whatever"), from: eve).errorCodes == [.notRegistered])
}

/// Specs/chat-protocol.md, section 4.11.5: /password NEW from the account's key needs no old password; a session that
/// identified by password must give the old one.
@Test func aPasswordIsChangedWithTheKeyOrTheOldPassword() {
    var relay = RelayHarness.accounts()
    let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
    _ = relay.account(AccountRequest(.register, password: "first pass"), from: alice)
    #expect(relay.account(AccountRequest(.password, newPassword: "second pass"), from: alice).accountNotices == ["password changed"])
    relay.send(.quit(reason: ""), from: alice)
    let (laptop, _) = relay.join("guest", port: 2, key: nil)
    #expect(relay.account(AccountRequest(.identify, name: "alice", password: "first pass"), from: laptop).errorCodes == [.badPassword])
    #expect(relay.account(AccountRequest(.identify, name: "alice", password: "second pass"), from: laptop).accountNotices == ["identified"])
    #expect(relay.account(AccountRequest(.password, password: "wrong", newPassword: "third pass"), from: laptop).errorCodes == [.badPassword])
    #expect(relay.account(AccountRequest(.password, password: "second pass", newPassword: "third pass"), from: laptop).accountNotices
            == ["password changed"])
    #expect(relay.account(AccountRequest(.password, password: "third pass", newPassword: "abc"), from: laptop).errorCodes == [.badRequest])
}

/// Specs/chat-protocol.md, section 4.11.5: a relay administrator drops an account; anyone else is refused with notOperator.
@Test func anAdministratorDropsAnAccount() {
    var configuration = RelayConfiguration()
    configuration.administrators = ["teacher"]
    var relay = RelayHarness.accounts(configuration: configuration)
    let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
    _ = relay.account(AccountRequest(.register), from: alice)
    let (eve, _) = relay.join("eve", port: 2, key: eveKey)
    #expect(relay.account(AccountRequest(.drop, name: "alice"), from: eve).errorCodes == [.notOperator])
    let (teacher, _) = relay.join("teacher", port: 3, key: nil)
    #expect(relay.account(AccountRequest(.drop, name: "alice"), from: teacher).accountNotices == ["dropped"])
    #expect(relay.core.accounts.isEmpty)
}

/// Specs/chat-protocol.md, section 4.11.5: a session without an identity key registers and identifies with a password only.
@Test func aPlaintextSessionRegistersAndIdentifiesWithAPasswordOnly() {
    var relay = RelayHarness.accounts()
    let (carol, _) = relay.join("carol", port: 1, key: nil)
    #expect(relay.account(AccountRequest(.register), from: carol).errorCodes == [.badRequest])
    #expect(relay.account(AccountRequest(.register, password: "carols pw"), from: carol).accountNotices.first?.hasPrefix("registered") == true)
    #expect(relay.core.accounts[ChatNames.skeleton("carol")]?.keys == [])
    relay.send(.quit(reason: ""), from: carol)
    let (_, refused) = relay.join("carol", port: 2, key: nil)
    #expect(refused.errorCodes == [.nameRegistered])
    let (guest, _) = relay.join("guest", port: 3, key: nil)
    let answer = relay.account(AccountRequest(.identify, name: "carol", password: "carols pw"), from: guest)
    #expect(answer.accountNotices == ["identified"])
    #expect(relay.core.accounts[ChatNames.skeleton("carol")]?.keys == [], "no key to add")
    #expect(answer.contains { $0.notice?.kind == .nickChanged && $0.notice?.detail == "carol" })
}

/// Specs/chat-protocol.md, section 4.11.5: a PRIVATE to a registered user who is not connected is stored (NOTICE
/// storedOffline to the sender) and delivered at their next login, after WELCOME, oldest first, as
/// HISTORY lines with an empty room and the original time; the sender, still connected, gets DELIVERED.
@Test func anOfflinePrivateMessageIsStoredAndDeliveredInOrderAtTheNextLogin() {
    var relay = RelayHarness.accounts()
    let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
    _ = relay.account(AccountRequest(.register), from: alice)
    relay.send(.quit(reason: ""), from: alice)
    let (bob, _) = relay.join("bob", port: 2, key: nil)
    relay.send(.privateMessage(to: "alice", messageID: 1, flags: [], text: "first"), from: bob)
    relay.advance(by: .seconds(5))
    relay.send(.privateMessage(to: "Alice", messageID: 2, flags: [.action], text: "waves"), from: bob)
    let told = relay.take(bob)
    #expect(told.compactMap(\.notice).map(\.kind) == [.storedOffline, .storedOffline])
    #expect(told.compactMap(\.notice).map(\.detail) == ["1", "2"])
    #expect(told.errorCodes.isEmpty)
    relay.advance(by: .seconds(60))

    let (_, login) = relay.join("alice", port: 3, key: aliceKey)
    let welcomeIndex = login.firstIndex { if case .welcome = $0 { true } else { false } }
    let lines: [PastMessage] = login.compactMap { if case let .history(line) = $0 { line } else { nil } }
    #expect(lines.map(\.text) == ["first", "waves"])
    #expect(lines.map(\.room) == ["", ""])
    #expect(lines.map(\.time) == [1_790_000_000_000, 1_790_000_005_000])
    #expect(lines[1].flags == [.action] && lines[0].from == "bob")
    let historyIndex = login.firstIndex { if case .history = $0 { true } else { false } }
    #expect(welcomeIndex! < historyIndex!)
    let receipts = relay.take(bob).compactMap { if case let .delivered(to, id) = $0 { "\(to) \(id)" } else { nil } }
    #expect(receipts == ["alice 1", "alice 2"])
    #expect(relay.core.mailboxes.isEmpty)
}

/// Specs/chat-protocol.md, section 4.11.5: to an unregistered absent user, or to a look-alike of a registered name, a
/// PRIVATE is still noSuchUser.
@Test func aPrivateMessageToAnUnregisteredAbsentUserIsStillNoSuchUser() {
    var relay = RelayHarness.accounts()
    let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
    _ = relay.account(AccountRequest(.register), from: alice)
    relay.send(.quit(reason: ""), from: alice)
    let (bob, _) = relay.join("bob", port: 2, key: nil)
    relay.send(.privateMessage(to: "nobody", messageID: 1, flags: [], text: "hi"), from: bob)
    relay.send(.privateMessage(to: "\u{0430}lice", messageID: 2, flags: [], text: "hi"), from: bob)
    #expect(relay.take(bob).errorCodes == [.noSuchUser, .noSuchUser])
}

/// Specs/chat-protocol.md, section 4.11.5: a mailbox holds at most 1,000 messages (and 1 MiB): the next is refused with
/// mailboxFull, naming the message.
@Test func aFullMailboxRefusesTheNextMessageWithAClearError() {
    var relay = RelayHarness.accounts()
    let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
    _ = relay.account(AccountRequest(.register), from: alice)
    relay.send(.quit(reason: ""), from: alice)
    let (bob, _) = relay.join("bob", port: 2, key: nil)
    for id in 1...UInt64(RelayCore.maximumMailboxMessages) {
        relay.send(.privateMessage(to: "alice", messageID: id, flags: [], text: "m\(id)"), from: bob)
        relay.advance(by: .seconds(1))
    }
    #expect(relay.take(bob).errorCodes.isEmpty)
    relay.send(.privateMessage(to: "alice", messageID: 1_001, flags: [], text: "one too many"), from: bob)
    let answer = relay.take(bob)
    #expect(answer.errorCodes == [.mailboxFull])
    if case let .error(_, id, _) = answer.first { #expect(id == 1_001) }
    #expect(relay.core.mailboxes[ChatNames.skeleton("alice")]?.count == 1_000)
}

/// Specs/chat-protocol.md, section 4.11.5: accounts and mailboxes are saved through storage actions and loaded after a
/// restart: the name is still protected and the message is delivered. Passwords are never saved in clear.
@Test func accountsAndOfflineMessagesSurviveARestart() {
    let store = MemoryRelayStorage()
    do {
        var relay = RelayHarness.accounts(store)
        let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
        _ = relay.account(AccountRequest(.register, password: "restart pw"), from: alice)
        relay.send(.quit(reason: ""), from: alice)
        let (bob, _) = relay.join("bob", port: 2, key: nil)
        relay.send(.privateMessage(to: "alice", messageID: 1, flags: [], text: "while you were away"), from: bob)
        relay.persist(to: store)
    }
    #expect(store.accounts.values.allSatisfy { bytes in !String(decoding: bytes, as: UTF8.self).contains("restart pw") })
    var relay = RelayHarness.accounts(store)
    let (_, refused) = relay.join("alice", port: 3, key: eveKey)
    #expect(refused.errorCodes == [.nameRegistered])
    var (alice, login) = relay.join("alice", port: 4, key: aliceKey)
    relay.persist(to: store)
    login += relay.take(alice)
    #expect(login.contains { if case let .history(line) = $0 { line.text == "while you were away" } else { false } })
    relay.persist(to: store)
    #expect(store.offlineMessages.isEmpty)
}

/// Specs/chat-protocol.md, section 4.11.5: an account's saved form round-trips; damaged bytes are refused, never trusted.
@Test func anAccountsSavedFormRoundTripsAndDamageIsDetected() {
    let account = Account(name: "alice", keys: [aliceKey, phoneKey],
                          password: PasswordHash(cost: .relayDefault, salt: [1, 2, 3], hash: [UInt8](repeating: 9, count: 32)))
    #expect(Account(storageBytes: account.storageBytes) == account)
    #expect(Account(storageBytes: Account(name: "bob").storageBytes) == Account(name: "bob"))
    let bytes = account.storageBytes
    for cut in 0..<bytes.count { #expect(Account(storageBytes: Array(bytes.prefix(cut))) == nil) }
    #expect(Account(storageBytes: bytes + [0]) == nil)
}

/// Specs/chat-protocol.md, section 4.11.5: WHOIS for an absent registered user answers with the
/// account's newest key; a SEALED_PRIVATE to them is stored as it came (NOTICE storedOffline) and
/// delivered, bytes unchanged, as SEALED_PAST_MESSAGE with the time it was stored, after WELCOME at
/// their next login with a key; a plaintext session that owns the account by password is not given it (it cannot open it).
@Test func aSealedPrivateMessageToAnAbsentRegisteredUserWaitsForTheirKey() {
    var relay = RelayHarness.accounts()
    let (alice, _) = relay.join("alice", port: 1, key: aliceKey)
    _ = relay.account(AccountRequest(.register, password: "alice pw"), from: alice)
    relay.send(.quit(reason: ""), from: alice)
    let (bob, _) = relay.join("bob", port: 2, key: eveKey)
    relay.send(.whois(name: "alice"), from: bob)
    #expect(relay.take(bob) == [.whoisReply(WhoisEntry(asked: "alice", name: "alice", transport: .udp, key: aliceKey))])
    let sealed = [UInt8](repeating: 0x5E, count: SealedPrivateFormat.minimumLength + 10)
    relay.send(.sealedPrivate(to: "alice", messageID: 4, sealed: sealed), from: bob)
    #expect(relay.take(bob).compactMap(\.notice).map(\.kind) == [.storedOffline])

    let (laptop, _) = relay.join("guest", port: 3, key: nil)
    _ = relay.account(AccountRequest(.identify, name: "alice", password: "alice pw"), from: laptop)
    #expect(relay.core.mailboxes[ChatNames.skeleton("alice")]?.count == 1, "kept for a session that can open it")
    let keptAt = relay.core.mailboxes[ChatNames.skeleton("alice")]?.first?.unixMilliseconds ?? 0
    #expect(keptAt >= 1_790_000_000_000, "stored with the relay's wall-clock time")
    relay.send(.quit(reason: ""), from: laptop)

    let (_, login) = relay.join("alice", port: 4, key: aliceKey)
    #expect(login.contains(.sealedPastMessage(from: "bob", sender: RelayHarness.sender(UInt64(2) << 8 | 1), messageID: 4,
                                              time: UInt64(keptAt), sealed: sealed)), "bytes unchanged, with the time it was stored")
    #expect(relay.core.mailboxes.isEmpty)
    #expect(relay.take(bob).contains(.delivered(to: "alice", messageID: 4)))
}

/// Specs/chat-protocol.md, section 4.8 (and 4.11.5): an administrator named with `--admin` is a
/// registered account once registered: its key makes it an administrator in later sessions without
/// the token. Registering an administrator's name needs the token first, so nobody can squat it.
@Test func aRegisteredAdministratorNeedsNoTokenAndTheNameCannotBeSquatted() {
    var configuration = RelayConfiguration()
    configuration.administrators = ["teacher"]
    configuration.administratorToken = "s3cret-token-0123456789"
    var relay = RelayHarness.accounts(configuration: configuration)
    let (squatter, _) = relay.join("teacher", port: 1, key: eveKey)
    #expect(relay.account(AccountRequest(.register, password: "mine now"), from: squatter).errorCodes == [.notOperator])
    #expect(relay.core.accounts.isEmpty)
    relay.send(.quit(reason: ""), from: squatter)

    let (teacher, _) = relay.join("teacher", port: 2, key: aliceKey)
    relay.send(.moderate(Moderation(.oper, text: "s3cret-token-0123456789")), from: teacher)
    #expect(relay.account(AccountRequest(.register), from: teacher).accountNotices.first?.hasPrefix("registered") == true)
    relay.send(.quit(reason: ""), from: teacher)

    // A later session with the same key: an administrator at once, no token.
    let (again, _) = relay.join("teacher", port: 3, key: aliceKey)
    #expect(relay.core.isAdministrator(again))
    // Another key cannot even take the name.
    let (_, refused) = relay.join("teacher", port: 4, key: eveKey)
    #expect(refused.errorCodes == [.nameRegistered])
}
