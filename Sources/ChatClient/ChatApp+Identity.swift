import Chat
import ChatClientCore
import Foundation
import DatagramRuntime
import Transport

// Keys, pins and end-to-end private messages in the client's terminal (Specs/chat-protocol.md section 4.10).
extension ChatApp {
    /// Keys, pins and end-to-end private messages (Specs/chat-protocol.md section 4.10).
    func handle(_ event: IdentityEvent) {
        let fingerprint = IdentityFingerprints.of
        switch event {
        case let .whois(entry, decision):
            guard entry.isFound else { return console.print(ChatRenderer.error("No such user: \(SafeText.sanitized(entry.asked))", time: time())) }
            let name = SafeText.sanitized(entry.name)
            guard let key = entry.key else {
                return status("\(name) (\(entry.transport)): no identity key (plaintext session); private messages to \(name) are readable by the relay")
            }
            let verdict = switch decision {
            case .firstContact: "first contact: pinned now"
            case .match: "matches your pin"
            case .mismatch: "CHANGED from your pin (see the warning; /trust \(name) to accept)"
            }
            status("\(name) (\(entry.transport)): identity \(fingerprint(key)) (\(verdict)); compare it with \(name) out of band")
        case let .contactPinned(name, key):
            status("Pinned \(SafeText.sanitized(name))'s identity key on first use: \(fingerprint(key))")
            saveContacts()
        case let .contactKeyChanged(name, expected, got):
            for line in PinMessages.contactKeyChanged(name: name, expected: expected, got: got, fingerprint: fingerprint).split(separator: "\n") {
                console.print(ChatRenderer.error(String(line), time: time()))
            }
        case let .trusted(name, key):
            status("Now trusting \(SafeText.sanitized(name))'s identity key \(fingerprint(key))")
            saveContacts()
        case let .privateMessage(from, text):
            handle(.received(.privateMessage(from: from, sender: SenderID(rawValue: 0), messageID: 0, flags: [], text: text)))
        case let .pastPrivateMessage(from, text, time):
            handle(.received(.history(PastMessage(room: "", from: from, sender: SenderID(rawValue: 0), messageID: 0, flags: [],
                                                  text: text, time: time, isAsked: false))))
        case let .sealedRejected(from, reason):
            console.print(ChatRenderer.error("Dropped a sealed private message claiming to be from \(SafeText.sanitized(from)): \(reason)", time: time()))
        case let .sentInPlainText(to, count, reason):
            status("Sent \(count == 1 ? "a private message" : "\(count) private messages") to \(SafeText.sanitized(to)) in PLAIN TEXT, "
                + "readable by the relay: \(reason)")
        case let .notSent(to, count, reason):
            console.print(ChatRenderer.error("\(count == 1 ? "A private message" : "\(count) private messages") to \(SafeText.sanitized(to)) "
                + "not sent: \(reason)", time: time()))
            // Line mode names them at the end and exits 1, as for any line not sent.
            noteRefused("\(count == 1 ? "a private message" : "\(count) private messages") to \(SafeText.sanitized(to)): \(reason)")
        case let .sealedSent(id, to, text):
            recordSentPrivate(id, to: to, text: text)
        }
    }

    private func saveContacts() {
        guard let contacts = session.contacts else { return }
        do {
            var file = try PinFile(path: IdentityPaths.knownContacts, kind: .contacts)
            try file.save(contacts)
        } catch {
            logger.warning("cannot save \(IdentityPaths.knownContacts): \(error)")
        }
    }
}
