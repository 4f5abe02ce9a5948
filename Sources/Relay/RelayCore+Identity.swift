import Chat
import Datagram

// Identities (Specs/chat-protocol.md section 4.10): the relay knows a peer by the static key it proved
// in its Noise handshake (`Peer.identityKey`, set by the transport), answers WHOIS with it, and
// forwards sealed private messages without being able to read them.
extension RelayCore {
    /// The ERROR `nameKeyMismatch` text when `holder` holds a name under an identity key other than
    /// `newcomer`'s (a key against none counts as another key); nil when the keys agree or neither
    /// side has one.
    func keyRefusal(_ name: String, holder: Peer, newcomer: IdentityKey?) -> String? {
        guard holder.identityKey != nil || newcomer != nil, holder.identityKey != newcomer else { return nil }
        return newcomer == nil
            ? "The name \(quoted(name)) is held by a user with an identity key; a session without one cannot take it"
            : "The name \(quoted(name)) is held by another identity key; pick another name"
    }

    /// Sets the identity key the peer at `endpoint` proved (the Noise transport's hook, and tests').
    mutating func setIdentityKey(_ key: IdentityKey?, for endpoint: Endpoint) {
        peers[endpoint]?.identityKey = key
    }

    /// The joined peer holding exactly `name` (a look-alike is not that user).
    func holder(ofName name: String) -> Endpoint? {
        guard let endpoint = names[ChatNames.skeleton(name)], let peer = peers[endpoint], peer.isJoined,
              ChatNames.canonical(peer.name) == ChatNames.canonical(name) else { return nil }
        return endpoint
    }

    /// WHOIS: the holder's name, transport and identity key, or an answer with an empty name.
    mutating func handleWhois(_ name: String, from endpoint: Endpoint, at now: Timestamp) {
        let asked = String(name.utf8.prefix(ChatLimits.maximumNameLength)) ?? ""
        guard let found = holder(ofName: name), let peer = peers[found] else {
            // An absent registered user: the account's most recently added key, so that a sealed
            // private message can wait for them (section 4.11.5).
            if let (_, account) = account(protecting: name), ChatNames.canonical(name) == ChatNames.canonical(account.name),
               let key = account.keys.last {
                return send(.whoisReply(WhoisEntry(asked: asked, name: account.name, transport: .udp, key: key)), to: endpoint, at: now)
            }
            return send(.whoisReply(WhoisEntry(asked: asked, name: "", transport: .udp, key: nil)), to: endpoint, at: now)
        }
        send(.whoisReply(WhoisEntry(asked: asked, name: peer.name, transport: found.transport, key: peer.identityKey)),
             to: endpoint, at: now)
    }

    /// SEALED_PRIVATE: forwarded as SEALED_PRIVATE_MESSAGE, bytes unchanged, when both sides have an
    /// identity key; refused with `noIdentityKey` otherwise (the client then decides whether to send in
    /// plain text), `noSuchUser` for nobody, `messageTooLarge` for a length outside what a sealed text
    /// can have. The relay never logs or inspects the sealed bytes. With a data directory the bytes are
    /// kept under the recipient's session like a PRIVATE (section 4.11), and sent again after a
    /// restart as SEALED_PAST_MESSAGE.
    mutating func handleSealedPrivate(to target: String, messageID: UInt64, sealed: [UInt8], from endpoint: Endpoint, at now: Timestamp) {
        guard let sender = peers[endpoint] else { return }
        guard sealed.count >= SealedPrivateFormat.minimumLength, sealed.count <= SealedPrivateFormat.maximumLength else {
            return sendError(.messageTooLarge, "A sealed private message has \(SealedPrivateFormat.minimumLength) to "
                             + "\(SealedPrivateFormat.maximumLength) bytes, not \(sealed.count)", messageID: messageID, to: endpoint, at: now)
        }
        guard sender.identityKey != nil else {
            return sendError(.noIdentityKey, "Your session has no identity key (plaintext): send a plain private message",
                             messageID: messageID, to: endpoint, at: now)
        }
        guard let recipient = holder(ofName: target), let holder = peers[recipient] else {
            if storeOffline(to: target, from: sender, messageID: messageID, flags: [], text: "", sealed: sealed, at: now) { return }
            return sendError(.noSuchUser, "No such user: \(quoted(target))", messageID: messageID, to: endpoint, at: now)
        }
        guard holder.identityKey != nil else {
            return sendError(.noIdentityKey, "\(quoted(holder.name)) has no identity key (plaintext session)",
                             messageID: messageID, to: endpoint, at: now)
        }
        statistics.privateMessagesRouted += 1
        statistics.deliveries += 1
        send(.sealedPrivateMessage(from: sender.name, sender: sender.senderID, messageID: messageID, sealed: sealed),
             to: recipient, at: now)
        awaitReceipt(at: recipient, from: sender.senderID, messageID: messageID)
        recordPrivate(to: holder, from: sender, messageID: messageID, flags: [], text: "", sealed: sealed)
    }
}
