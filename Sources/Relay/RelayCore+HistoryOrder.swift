import Chat
import Datagram

// Order behind history reads (Specs/chat-protocol.md, section 4.11, "Order across restarts"). The host reads a
// history only at the end of an input, after saving its batch; one input may hold many requests
// (a batch of datagrams, a stream's bytes). So that a user who joins (or rejoins after a restart)
// never sees a line said after the join before the history the join asked for, everything the
// relay sends that user after asking for a read waits behind the read, in order, and the answer
// takes the read's place; lines said after the read was asked are left out of the answer (they
// reach the user live, behind it).

/// A history line by who said it: a session's message ids are handled once, so this names one line.
struct HistoryLineKey: Hashable, Sendable {
    var sender: SenderID
    var messageID: UInt64
}

/// A history read asked for and not answered yet.
struct PendingHistoryRead: Sendable {
    /// The history key read (a room's canonical name, or a session's private key).
    var room: String
    /// Lines appended to that history since the read was asked: sent live, so not in the answer.
    var laterLines: Set<HistoryLineKey> = []

    /// Later lines remembered per read; beyond this (an input of more than this many lines in one
    /// room), the rest may come twice (in the answer and live), never not at all.
    static let maximumLaterLines = 4_096
}

/// What waits to be sent to one user behind unanswered history reads, in the order it was sent.
struct HeldOutput: Sendable {
    enum Item: Sendable {
        /// An encoded relay message for that channel.
        case message([UInt8], Channel)
        /// The place of the answer to this read.
        case answer(ticket: UInt64)
    }

    var items: [Item] = []
    /// Bytes of the messages held.
    var bytes = 0
}

extension RelayCore {
    /// Asks the host for a history read (`takeHistoryQueries`) and holds, from now on, what this user
    /// is sent behind its answer.
    mutating func askHistory(_ query: HistoryQuery) {
        guard peers[query.endpoint] != nil else { return }
        var query = query
        query.ticket = nextHistoryTicket
        nextHistoryTicket += 1
        historyReads[query.ticket] = PendingHistoryRead(room: query.room)
        var held = peers[query.endpoint]?.heldOutput ?? HeldOutput()
        held.items.append(.answer(ticket: query.ticket))
        peers[query.endpoint]?.heldOutput = held
        historyQueries.append(query)
    }

    /// True when a message for `endpoint` must wait behind a history read.
    @inline(__always)   // called per message sent: a call copied all of `RelayCore` as `self`
    func isHeldForHistory(_ endpoint: Endpoint) -> Bool {
        !historyReads.isEmpty && peers[endpoint]?.heldOutput != nil
    }

    /// Holds an encoded message for `endpoint` behind its unanswered history reads. Held output
    /// counts against the same limit as the user's send queue (UDP) or stream (TCP): beyond it the
    /// user is disconnected after the input (send queue overflow), never silently shortened.
    mutating func hold(_ bytes: [UInt8], channel: Channel, for endpoint: Endpoint) {
        guard var held = peers[endpoint]?.heldOutput else { return }
        held.items.append(.message(bytes, channel))
        held.bytes += bytes.count
        peers[endpoint]?.heldOutput = held
        let limit = endpoint.transport == .udp ? configuration.connection.sendQueueLimit : configuration.streamSendQueueLimit
        if held.bytes > limit {
            log(.warning, "\(endpoint): \(held.bytes) bytes held behind a history read (limit \(limit))")
            overflowedPeers.append(endpoint)
        }
    }

    /// A line was appended to the history `room`: the reads of it still unanswered leave it out.
    mutating func noteLaterLine(in room: String, sender: SenderID, messageID: UInt64) {
        guard !historyReads.isEmpty else { return }
        for ticket in historyReads.keys where historyReads[ticket]?.room == room {
            guard (historyReads[ticket]?.laterLines.count ?? 0) < PendingHistoryRead.maximumLaterLines else { continue }
            historyReads[ticket]?.laterLines.insert(HistoryLineKey(sender: sender, messageID: messageID))
        }
    }

    /// The lines said after `query` was asked, which its answer leaves out.
    func laterLines(of query: HistoryQuery) -> Set<HistoryLineKey> {
        historyReads[query.ticket]?.laterLines ?? []
    }

    /// Puts `answer` (encoded HISTORY_LINE or ERROR messages) in the place of the read `ticket` and
    /// sends what no longer waits behind a read. The read is forgotten, answered or not (the user
    /// may have left, or moved to another address).
    mutating func answerHistoryRead(_ ticket: UInt64, asked endpoint: Endpoint, with answer: [[UInt8]], at now: Timestamp) {
        historyReads[ticket] = nil
        guard let holder = historyHolder(of: ticket, askedBy: endpoint), var held = peers[holder]?.heldOutput else { return }
        guard let index = held.items.firstIndex(where: { if case .answer(ticket) = $0 { true } else { false } }) else { return }
        held.items.replaceSubrange(index...index, with: answer.map { .message($0, .reliableOrdered) })
        held.bytes += answer.reduce(0) { $0 + $1.count }
        // Send from the front up to the next read still unanswered.
        let ready = Array(held.items.prefix { if case .message = $0 { true } else { false } })
        held.items.removeFirst(ready.count)
        for case let .message(bytes, _) in ready { held.bytes -= bytes.count }
        peers[holder]?.heldOutput = held.items.isEmpty ? nil : held
        for case let .message(bytes, channel) in ready where !overflowedPeers.contains(holder) {
            sendNow(encoded: bytes, to: holder, at: now, channel: channel)
        }
    }

    /// Where the user who asked for the read `ticket` is now: at `endpoint`, or (moved by a path
    /// check since) wherever its held output names the read.
    func historyHolder(of ticket: UInt64, askedBy endpoint: Endpoint) -> Endpoint? {
        func waits(_ peer: Peer) -> Bool {
            peer.heldOutput?.items.contains { if case .answer(ticket) = $0 { true } else { false } } ?? false
        }
        if let peer = peers[endpoint], waits(peer) { return endpoint }
        return peers.values.first(where: waits)?.endpoint
    }
}
