/// The format of an end-to-end sealed private message (Specs/noise.md section 6.1,
/// Specs/chat-protocol.md section 4.10): one `Noise_X_25519_ChaChaPoly_SHA256` handshake message from
/// the sender's static key to the recipient's, whose payload is `sealed id` (u64) then the UTF-8 text.
///
/// The sealed id's high 32 bits are a random tag the sender draws once per run, its low 32 bits the
/// message id the session gave the message; the recipient filters duplicates by (sender key, tag) with
/// the highest low half seen, so a replay (by the relay or anyone) is dropped, and a sender's new run
/// (whose message ids start at 1 again) is not taken for a replay.
public enum SealedPrivateFormat {
    /// The Noise prologue: `datagram-chat private`, `0x00`, the chat protocol version.
    public static let prologue: [UInt8] = Array("datagram-chat private".utf8) + [0, ChatLimits.protocolVersion]
    /// X's message before the payload: ephemeral key (32), encrypted static key (32 + 16); then the
    /// payload's 16-byte tag.
    public static let overhead = 32 + 48 + 16
    /// The smallest sealed message: an empty text.
    public static let minimumLength = overhead + 8
    /// The largest: a text of `ChatLimits.maximumTextLength` bytes.
    public static let maximumLength = overhead + 8 + ChatLimits.maximumTextLength

    /// The payload sealed for `text`.
    public static func payload(sealedID: UInt64, text: String) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: sealedID >> (56 - 8 * $0)) } + Array(text.utf8)
    }

    /// The sealed id and the text of an opened payload; nil when it is shorter than 8 bytes, its text
    /// is not UTF-8 or longer than the limit.
    public static func parse(payload: [UInt8]) -> (sealedID: UInt64, text: String)? {
        guard payload.count >= 8, payload.count - 8 <= ChatLimits.maximumTextLength else { return nil }
        let sealedID = payload.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard let text = String(validating: payload[8...], as: UTF8.self) else { return nil }
        return (sealedID, text)
    }
}
