/// Turns relay messages into irssi-style lines for a terminal.
///
/// ```
/// 12:00:01 <alice> hello
/// 12:00:01 * alice waves
/// 12:00:01 *bob* psst
/// 12:00:01 -!- bob [127.0.0.1:53122 udp] has joined #lobby
/// 12:00:01 -!- bob has quit [timeout]
/// 12:00:01 -!- Error: No such user: carol
/// ```
///
/// The caller formats the time (the renderer reads no clock). Every string that came from the network
/// passes through `SafeText.sanitized` first. A message in a room other than `currentRoom` names it:
/// `<alice:#rust> hi`. Messages with nothing to show (HEARTBEAT_ECHO, RECEIVED) give no lines.
public enum ChatRenderer {
    /// The lines to print for `message`, received at `time`, while `currentRoom` is the active room.
    public static func render(_ message: RelayMessage, time: String, currentRoom: String?) -> [String] {
        switch message {
        case let .welcome(name, _, peerTimeout):
            return [status("Connected as \(clean(name)); peers silent for \(seconds(peerTimeout)) time out", time: time)]
        case let .message(room, from, _, _, flags, text):
            let speaker = room == currentRoom ? clean(from) : "\(clean(from)):\(clean(room))"
            return [spoken(speaker: speaker, text: text, flags: flags, time: time)]
        case let .privateMessage(from, _, _, flags, text):
            let line = flags.contains(.action) ? "* \(clean(from)) \(clean(text))" : "*\(clean(from))* \(clean(text))"
            return ["\(time) \(line)"]
        case let .notice(notice):
            return [status(describe(notice), time: time)]
        case let .error(code, _, text):
            return [error(text.isEmpty ? "\(code)" : clean(text), time: time)]
        case let .roomList(rooms):
            guard !rooms.isEmpty else { return [status("No rooms", time: time)] }
            return rooms.map { status("\(clean($0.name))  \($0.memberCount) \($0.memberCount == 1 ? "user" : "users")", time: time) }
        case let .whoList(room, entries):
            guard !entries.isEmpty else { return [status("Nobody in \(room.isEmpty ? "the relay" : clean(room))", time: time)] }
            return entries.map { status(describe($0), time: time) }
        case let .banList(room, entries):
            let place = room.isEmpty ? "the relay" : clean(room)
            guard !entries.isEmpty else { return [status("No bans in \(place)", time: time)] }
            return entries.map { entry in
                let expiry = entry.secondsLeft == 0 ? "permanent" : "\(entry.secondsLeft) s left"
                let reason = entry.reason.isEmpty ? "" : ": \(clean(entry.reason))"
                return status("Ban in \(place): \(clean(entry.mask)) by \(clean(entry.setBy)) (\(expiry))\(reason)", time: time)
            }
        case let .whoisReply(entry):
            guard entry.isFound else { return [error("No such user: \(clean(entry.asked))", time: time)] }
            let key = entry.key.map { "identity key \($0.hex)" } ?? "no identity key (plaintext session)"
            return [status("\(clean(entry.name)) (\(entry.transport)): \(key)", time: time)]
            // A sealed private message is shown only once the client has opened it (ChatClientCore).
        case let .history(line) where line.room.isEmpty:
            // A private message sent again after a relay restart, marked with when it was said.
            let said = clean(line.text), from = clean(line.from)
            return ["\(time) [\(utcDateTime(line.time))] " + (line.flags.contains(.action) ? "* \(from) \(said)" : "*\(from)* \(said)")]
        case let .history(line):
            // Marked with when it was said (UTC), so it is never taken for something said now.
            let speaker = line.room == currentRoom ? clean(line.from) : "\(clean(line.from)):\(clean(line.room))"
            return [spoken(speaker: speaker, text: line.text, flags: line.flags, time: "\(time) [\(utcDateTime(line.time))]")]
        case let .delivered(to, messageID):
            return [status("\(Ticks.delivered) delivered to \(clean(to)) (message \(messageID))", time: time)]
        case .heartbeatEcho, .received, .sealedPrivateMessage, .sealedPastMessage, .storedUpTo:
            return []
        case .fileOffered, .fileAccepted, .fileCancelled, .fileChunk, .fileCredit, .fileDone:
            return renderFileMessage(message, time: time)
        }
    }

    /// `2026-11-30 19:58:01` (UTC) for a time in milliseconds since the epoch.
    public static func utcDateTime(_ milliseconds: UInt64) -> String {
        let seconds = Int64(clamping: milliseconds / 1_000)
        let days = seconds / 86_400, secondOfDay = seconds % 86_400
        // Howard Hinnant's civil-from-days.
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
    }

    /// The line for what this user just said (printed locally: the relay does not echo it).
    public static func ownMessage(name: String, text: String, flags: MessageFlags, room: String,
                                  currentRoom: String?, time: String) -> String {
        spoken(speaker: room == currentRoom ? clean(name) : "\(clean(name)):\(clean(room))", text: text, flags: flags, time: time)
    }

    /// The line for a private message this user just sent: `12:00:01 ->*bob* psst`.
    public static func ownPrivateMessage(to: String, text: String, time: String) -> String {
        "\(time) ->*\(clean(to))* \(clean(text))"
    }

    /// A status line: `12:00:01 -!- text`.
    public static func status(_ text: String, time: String) -> String {
        "\(time) -!- \(text)"
    }

    /// An error line: `12:00:01 -!- Error: text`.
    public static func error(_ text: String, time: String) -> String {
        status("Error: \(text)", time: time)
    }

    private static func spoken(speaker: String, text: String, flags: MessageFlags, time: String) -> String {
        flags.contains(.action) ? "\(time) * \(speaker) \(clean(text))" : "\(time) <\(speaker)> \(clean(text))"
    }

    private static func describe(_ notice: Notice) -> String {
        let name = clean(notice.name), room = clean(notice.room)
        let reason = notice.detail.isEmpty ? "" : " [\(clean(notice.detail))]"
        switch notice.kind {
        case .joined:
            let endpoint = notice.endpoint.isEmpty ? "" : " [\(clean(notice.endpoint))]"
            return "\(name)\(endpoint) has joined \(room)"
        case .left: return "\(name) has left \(room)\(reason)"
        case .quit: return "\(name) has quit\(reason)"
        case .timedOut: return "\(name) has quit [timeout]"
        case .nickChanged: return "\(name) is now known as \(clean(notice.detail))"
        case .roomJoined: return "You are now in \(room)"
        case .roomParted: return "You have left \(room)\(reason)"
        case .serverShutdown: return "The relay is shutting down\(reason); reconnecting will resend what it missed"
        case .sessionResumed: return "Your session \(name) was resumed by another connection; this one is closed"
        case .rateLimited: return "You are sending too fast\(reason); the relay is slowing you down (nothing is lost)"
        case .moderation:
            if name.isEmpty { return clean(notice.detail) }
            return room.isEmpty ? "\(name) \(clean(notice.detail))" : "[\(room)] \(name) \(clean(notice.detail))"
        case .topic:
            return "Topic of \(room): \(clean(notice.detail))\(name.isEmpty ? "" : " (set by \(name))")"
        case .killed: return "You were disconnected by \(name)\(reason); not reconnecting"
        case .account: return "Account \(name): \(clean(notice.detail))"
        case .storedOffline: return "\(name) is offline: your message was stored and will be delivered at their next login"
        }
    }

    private static func describe(_ entry: WhoEntry) -> String {
        let rtt = entry.roundTripTime.map { "rtt \(milliseconds($0)) ms" } ?? "rtt unknown"
        let rooms = entry.rooms.map(clean).joined(separator: " ")
        let endpoint = entry.endpoint.isEmpty ? "" : " \(clean(entry.endpoint))"
        return "\(clean(entry.name))  \(entry.transport)\(endpoint)  \(rtt)  \(rooms)"
    }

    private static func clean(_ text: String) -> String { SafeText.sanitized(text) }

    /// `1.234` for 1234 µs: three decimals without Foundation's formatter.
    static func milliseconds(_ duration: Duration) -> String {
        let micros = max(0, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    private static func seconds(_ duration: Duration) -> String {
        let millis = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return millis % 1000 == 0 ? "\(millis / 1000) s" : "\(milliseconds(duration)) ms"
    }
}

/// The receipt marks (Specs/chat-protocol.md, section 4.11): `✓` the relay has the message, `✓✓`
/// it was shown to its recipient; `[v]` and `[vv]` where the terminal does not speak UTF-8.
public enum Ticks {
    /// Set once at start by the client from its locale.
    nonisolated(unsafe) public static var isASCII = false
    public static var stored: String { isASCII ? "[v]" : "✓" }
    public static var delivered: String { isASCII ? "[vv]" : "✓✓" }
}
