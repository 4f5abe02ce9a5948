import Chat
import Datagram

/// Limits that hold under attack (Specs/chat-protocol.md, section 6.1).
///
/// - **Per address.** At most `maximumConnectionsPerAddress` connections and
///   `maximumHandshakesPerAddress` connections not yet welcomed from one address (an IPv4 address,
///   or an IPv6 /64), so one host cannot fill the relay's peer slots.
/// - **HELLO deadline.** A connection without an accepted HELLO `helloTimeout` after it was set up
///   gets ERROR notJoined and is closed (UDP: CLOSE code 2), so slots cannot be held without joining.
/// - **Rooms.** At most `maximumRoomsPerUser` rooms per user and `maximumRooms` on the relay.
/// - **Replies fit.** ROOM_LIST and WHO_LIST are paged so that every message fits
///   `ChatLimits.maximumChatMessageSize` (what a sealed TCP frame carries), and an ERROR never echoes more than `echoLimit` bytes of a
///   field it was sent, nor carries more than `errorTextLimit` bytes of text.
/// - **Stalled receivers.** A congested receiver that holds back the senders in its rooms and makes
///   no progress (drains less than a quarter of its cap) for `stalledReceiverTimeout` is
///   disconnected, so one reader that stops cannot freeze its rooms.
/// - **Rate limit.** Each sender has a token bucket (`RateLimit`); one that runs dry is pushed back
///   like a held-back sender until it has refilled, told once with NOTICE rateLimited.
extension RelayCore {
    /// The most bytes of a client's field an ERROR repeats back.
    public static let echoLimit = 64
    /// The most bytes of text in an ERROR the relay sends.
    public static let errorTextLimit = 1_024

    // MARK: - Per-address limits and the HELLO deadline

    /// Why a new connection from `endpoint` must be refused now, or nil: shutting down, the relay is
    /// full, or its address has too many connections or handshakes.
    mutating func refusalReason(for endpoint: Endpoint) -> String? {
        if isShuttingDown { return "shutting down" }
        if peers.count >= configuration.maximumPeers { return "server full: \(peers.count) peers" }
        guard let refusal = addressRefusal(for: endpoint) else { return nil }
        statistics.addressLimitRefusals += 1
        return refusal
    }

    /// Packets a connection has heard from its peer, including DATA refused while the peer was pushed
    /// back: a pushed-back peer is still heard (its keepalives and retransmissions count).
    static func packetsHeard(_ statistics: Connection.Statistics?) -> Int {
        guard let statistics else { return 0 }
        return statistics.packetsReceived + statistics.dataRefused
    }

    /// Why a new connection from `endpoint` must be refused because of its address, or nil.
    func addressRefusal(for endpoint: Endpoint) -> String? {
        let key = AddressKey(endpoint)
        let connected = addressPeers[key] ?? []
        if let limit = configuration.maximumConnectionsPerAddress, connected.count >= limit {
            return "too many connections from \(key): \(connected.count)"
        }
        // Counting handshakes walks this address's connections, so only when they could reach the limit.
        if let limit = configuration.maximumHandshakesPerAddress, connected.count >= limit {
            let handshakes = connected.count { peers[$0]?.isJoined == false }
            if handshakes >= limit { return "too many handshakes in progress from \(key): \(handshakes)" }
        }
        return nil
    }

    /// Records a new connection for the per-address counts and starts its HELLO deadline.
    mutating func trackLimits(ofNew endpoint: Endpoint, at now: Timestamp) {
        addressPeers[AddressKey(endpoint), default: []].insert(endpoint)
        helloDeadlines[endpoint] = now + configuration.helloTimeout
    }

    /// Forgets everything the limits hold about a peer that is gone.
    mutating func forgetLimits(of endpoint: Endpoint) {
        let key = AddressKey(endpoint)
        addressPeers[key]?.remove(endpoint)
        if addressPeers[key]?.isEmpty == true { addressPeers[key] = nil }
        helloDeadlines[endpoint] = nil
        congestedSince[endpoint] = nil
        senderBuckets[endpoint] = nil
        rateLimitedUntil[endpoint] = nil
    }

    /// The earliest time a limit needs to look at `endpoint` again, or nil.
    /// (Called on every reschedule, so it allocates nothing and skips what cannot apply.)
    func limitWakeTime(of peer: Peer) -> Timestamp? {
        limitWakeTime(of: peer.endpoint, isJoined: peer.isJoined, isDraining: peer.drainDeadline != nil)
    }

    /// The same from the fields it needs (the timers read them in place, without copying the peer).
    /// Inlined: called from a mutating method, a non-mutating call copied all of `RelayCore` (1.7 KB)
    /// to pass it as `self`.
    @inline(__always)
    func limitWakeTime(of endpoint: Endpoint, isJoined: Bool, isDraining: Bool) -> Timestamp? {
        var earliest: Timestamp?
        func consider(_ time: Timestamp) { if earliest.map({ time < $0 }) ?? true { earliest = time } }
        if !isJoined, !isDraining, let deadline = helloDeadlines[endpoint] { consider(deadline) }
        if !congestedSince.isEmpty, let mark = congestedSince[endpoint] { consider(mark.since + configuration.stalledReceiverTimeout) }
        if !rateLimitedUntil.isEmpty, let until = rateLimitedUntil[endpoint] { consider(until) }
        return earliest
    }

    /// Runs the limits' timers for a peer that is due: releases an expired rate limit (and reads on
    /// what its stream holds), closes a connection past its HELLO deadline, disconnects a stalled
    /// receiver.
    mutating func enforceLimits(on endpoint: Endpoint, at now: Timestamp) {
        if let until = rateLimitedUntil[endpoint], until <= now {
            rateLimitedUntil[endpoint] = nil
            if endpoint.transport == .tcp { decodeFrames(from: endpoint, at: now) }
        }
        guard let peer = peers[endpoint] else { return }
        if !peer.isJoined, peer.drainDeadline == nil, let deadline = helloDeadlines[endpoint], deadline <= now {
            statistics.helloTimeouts += 1
            log(.info, "\(endpoint): no HELLO within \(Self.describe(configuration.helloTimeout)); closing")
            sendError(.notJoined, "No HELLO within \(Self.describe(configuration.helloTimeout)); closing", to: endpoint, at: now)
            removePeer(endpoint, departure: .noHello(configuration.helloTimeout), at: now)
            return
        }
        if let mark = congestedSince[endpoint], mark.since + configuration.stalledReceiverTimeout <= now {
            guard holdsOthersBack(endpoint) else {
                congestedSince[endpoint]?.since = now
                return
            }
            disconnectStalledReceiver(endpoint, at: now)
        }
    }

    // MARK: - Stalled receivers

    /// True while `endpoint` shares a room with another peer (so its congestion holds that peer back).
    func holdsOthersBack(_ endpoint: Endpoint) -> Bool {
        guard let rooms = peers[endpoint]?.rooms else { return false }
        return rooms.contains { (self.rooms[$0]?.members.count ?? 0) > 1 }
    }

    private mutating func disconnectStalledReceiver(_ endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint] else { return }
        let timeout = configuration.stalledReceiverTimeout
        statistics.stalledReceiversDisconnected += 1
        log(.warning, "\(peer.name) [\(endpoint)] held back its rooms for \(Self.describe(timeout)) without reading; disconnected")
        let departure = Departure.stalled(timeout)
        if let notice = departure.notice(name: peer.name) { send(.notice(notice), to: endpoint, at: now) }
        removePeer(endpoint, departure: departure, at: now)
    }

    // MARK: - Rate limit

    /// True while `endpoint` has used up its rate limit and is pushed back.
    func isRateLimited(_ endpoint: Endpoint) -> Bool { rateLimitedUntil[endpoint] != nil }

    /// Charges one decoded chat message to its sender's bucket (HEARTBEAT is free). A sender that
    /// runs dry is pushed back until its bucket is full enough again, and told the first time.
    mutating func chargeRateLimit(for endpoint: Endpoint, message: ClientMessage, size: Int, at now: Timestamp) {
        guard let limit = configuration.rateLimit, peers[endpoint] != nil else { return }
        if case .heartbeat = message { return }
        // File chunks are paced by the recipient's credit (section 4.12), not by the chat rate limit.
        if case .fileChunk = message { return }
        var bucket = senderBuckets[endpoint] ?? SenderBucket(full: limit, at: now)
        bucket.refill(limit, at: now)
        bucket.messages -= SenderBucket.unit
        bucket.bytes -= Int64(size) * SenderBucket.unit
        defer { senderBuckets[endpoint] = bucket }
        guard bucket.messages < 0 || bucket.bytes < 0 else { return }
        let wait = max(Self.ceilingDivide(-bucket.messages, Int64(limit.messagesPerSecond)),
                       Self.ceilingDivide(-bucket.bytes, Int64(limit.bytesPerSecond)))
        if rateLimitedUntil[endpoint] == nil { statistics.rateLimitEpisodes += 1 }
        rateLimitedUntil[endpoint] = now + .microseconds(max(1, wait))
        if !bucket.hasBeenWarned {
            bucket.hasBeenWarned = true
            let detail = "over \(limit.messagesPerSecond) messages or \(limit.bytesPerSecond) bytes per second"
            log(.info, "\(endpoint): rate limited (\(detail))")
            send(.notice(Notice(kind: .rateLimited, detail: detail)), to: endpoint, at: now)
        }
        reschedule(endpoint)
    }

    private static func ceilingDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value <= 0 ? 0 : (value + divisor - 1) / divisor
    }

    // MARK: - Rooms

    /// Why `peer` may not join one more room (creating one if `isNew`), or nil.
    func roomLimitRefusal(for peer: Peer, creatingRoom isNew: Bool) -> String? {
        let perUser = min(max(1, configuration.maximumRoomsPerUser), ChatLimits.maximumRoomsPerUser)
        if peer.rooms.count >= perUser { return "You are already in \(perUser) rooms" }
        if isNew, rooms.count >= configuration.maximumRooms {
            return "The relay has its maximum of \(configuration.maximumRooms) rooms; join an existing one"
        }
        return nil
    }

    // MARK: - Replies that fit

    /// Sends ROOM_LIST, in as many messages as it takes to keep each within the maximum message size.
    mutating func sendRoomList(to endpoint: Endpoint, at now: Timestamp) {
        let list = rooms.values.map { RoomSummary(name: $0.name, memberCount: $0.members.count) }.sorted { $0.name < $1.name }
        let pages = Self.pages(of: list, headerSize: 3) { 2 + $0.name.utf8.count + 4 }
        if pages.count > 1 { statistics.pagedReplies += 1 }
        for page in pages { send(.roomList(page), to: endpoint, at: now) }
    }

    /// Sends WHO_LIST for `room`, in as many messages as it takes to keep each within the maximum
    /// message size and `maximumWhoEntriesPerMessage` entries.
    mutating func sendWhoList(room: String, entries: [WhoEntry], to endpoint: Endpoint, at now: Timestamp) {
        let room = Self.echo(room)
        let pages = Self.pages(of: entries, headerSize: 1 + 2 + room.utf8.count + 2,
                               maximumCount: max(1, configuration.maximumWhoEntriesPerMessage)) { entry in
            2 + entry.name.utf8.count + 1 + 2 + entry.endpoint.utf8.count + 4 + 1 + entry.rooms.reduce(0) { $0 + 2 + $1.utf8.count }
        }
        if pages.count > 1 { statistics.pagedReplies += 1 }
        for page in pages { send(.whoList(room: room, entries: page), to: endpoint, at: now) }
    }

    /// Splits `items` into pages whose encoded size (`headerSize` plus each item's `size`) stays within
    /// `ChatLimits.maximumChatMessageSize` and whose count fits a `u16`; always at least one page.
    static func pages<Item>(of items: [Item], headerSize: Int, maximumCount: Int = Int(UInt16.max),
                            size: (Item) -> Int) -> [[Item]] {
        var pages: [[Item]] = [[]]
        var used = headerSize
        for item in items {
            let itemSize = size(item)
            if !pages[pages.count - 1].isEmpty,
               used + itemSize > ChatLimits.maximumChatMessageSize || pages[pages.count - 1].count >= min(maximumCount, Int(UInt16.max)) {
                pages.append([])
                used = headerSize
            }
            pages[pages.count - 1].append(item)
            used += itemSize
        }
        return pages
    }

    /// A client's field as an ERROR may repeat it: at most `echoLimit` bytes, cut at a character
    /// boundary and marked with `…` when cut.
    public static func echo(_ field: String) -> String {
        bounded(field, to: echoLimit)
    }

    /// `text` cut to at most `limit` bytes of UTF-8 (including the `…` that marks a cut).
    static func bounded(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var result = ""
        var used = 0
        let mark = "…"
        for character in text {
            let size = character.utf8.count
            guard used + size + mark.utf8.count <= limit else { break }
            result.append(character)
            used += size
        }
        return result + mark
    }

    /// `5 s` or `1500 ms`.
    static func describe(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1_000 == 0 ? "\(milliseconds / 1_000) s" : "\(milliseconds) ms"
    }
}

/// What per-address limits count by: an IPv4 address, or the /64 of an IPv6 address (an
/// IPv4-mapped IPv6 address counts as its IPv4 address).
struct AddressKey: Hashable, Sendable, CustomStringConvertible {
    let bytes: [UInt8]

    init(_ endpoint: Endpoint) {
        let address = endpoint.address
        if address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF {
            bytes = Array(address[12..<16])
        } else if address.count == 16 {
            bytes = Array(address[0..<8])
        } else {
            bytes = address
        }
    }

    var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: bytes.count - 1, by: 2).map { String(Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}

/// When a congested peer last made progress (drained a quarter of its cap), and its queue then (or
/// the highest since).
struct CongestionMark: Sendable {
    var since: Timestamp
    var queuedBytes: Int
}

/// One sender's token buckets, in millionths of a message and of a byte.
struct SenderBucket: Sendable {
    static let unit: Int64 = 1_000_000
    var messages: Int64
    var bytes: Int64
    var updated: Timestamp
    var hasBeenWarned = false

    init(full limit: RateLimit, at now: Timestamp) {
        messages = Self.capacity(limit.messagesPerSecond, limit)
        bytes = Self.capacity(limit.bytesPerSecond, limit)
        updated = now
    }

    static func capacity(_ perSecond: Int, _ limit: RateLimit) -> Int64 {
        Int64(perSecond) * Int64(limit.burstSeconds) * unit
    }

    /// Adds what `limit` has refilled since the last update, up to the burst.
    mutating func refill(_ limit: RateLimit, at now: Timestamp) {
        let elapsed = now - updated
        guard elapsed > .zero else { return }
        updated = now
        let cappedElapsed = min(elapsed, .seconds(limit.burstSeconds))
        let microseconds = cappedElapsed.components.seconds * 1_000_000 + cappedElapsed.components.attoseconds / 1_000_000_000_000
        messages = min(Self.capacity(limit.messagesPerSecond, limit), messages + microseconds * Int64(limit.messagesPerSecond))
        bytes = min(Self.capacity(limit.bytesPerSecond, limit), bytes + microseconds * Int64(limit.bytesPerSecond))
    }
}
