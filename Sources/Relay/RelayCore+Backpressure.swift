import Chat
import Datagram

/// Backpressure: a relay between a fast sender and a slow receiver must neither queue without bound
/// nor drop what it has acknowledged. It behaves like a router with an active queue instead.
///
/// A peer whose outgoing queue (UDP: its connection's unacknowledged bytes; TCP: bytes the host
/// could not write yet) rises above half its cap is *congested*. While it is, every sender that shares
/// a room with it is *held back*:
///
/// - a UDP sender's DATA packets are refused before they are acknowledged
///   (`Connection.isAcceptingData`), so its own loss recovery sends them again later and its
///   congestion controller slows down, exactly as if a router's queue had dropped them; the
///   acknowledgements those packets carry are still used, so two senders holding each other back
///   cannot deadlock;
/// - a TCP sender's stream is not read (the host asks `isHeldBack`), so TCP's flow control pushes back.
///
/// When the congested peer's queue falls below half its cap again, the senders go on. The hard cap
/// (disconnect with "send queue overflow") remains for a peer that stops reading altogether.
extension RelayCore {
    /// True while `sender` is pushed back: it has used up its rate limit (RelayCore+Limits.swift), or
    /// it shares a room with a congested peer other than itself.
    public func isHeldBack(_ sender: Endpoint) -> Bool {
        if isRateLimited(sender) { return true }
        guard !congestedPeers.isEmpty, let rooms = peers[sender]?.rooms, !rooms.isEmpty else { return false }
        for congested in congestedPeers where congested != sender {
            guard let theirRooms = peers[congested]?.rooms else { continue }
            if theirRooms.contains(where: rooms.contains) { return true }
        }
        return false
    }

    /// True while any peer is congested or rate limited (the host then re-checks which streams to read).
    public var hasCongestion: Bool { !congestedPeers.isEmpty || !rateLimitedUntil.isEmpty }

    /// Records how many bytes wait for `endpoint` and whether that makes it congested.
    ///
    /// A congested peer that makes no progress (drains less than a quarter of its cap) for
    /// `stalledReceiverTimeout` while it holds others back has stopped reading, and is disconnected
    /// (RelayCore+Limits.swift); a slow reader that keeps draining only slows its rooms down.
    mutating func updateCongestion(of endpoint: Endpoint, queuedBytes: Int, at now: Timestamp) {
        let limit = endpoint.transport == .udp
            ? connectionConfiguration.sendQueueLimit : configuration.streamSendQueueLimit
        if queuedBytes > limit / 2, peers[endpoint] != nil {
            if congestedPeers.insert(endpoint).inserted {
                congestedSince[endpoint] = CongestionMark(since: now, queuedBytes: queuedBytes)
                statistics.congestionEpisodes += 1
                log(.debug, "\(endpoint): \(queuedBytes) bytes queued; holding back senders in its rooms")
            } else if let mark = congestedSince[endpoint] {
                if queuedBytes <= mark.queuedBytes - limit / 4 {
                    congestedSince[endpoint] = CongestionMark(since: now, queuedBytes: queuedBytes)
                } else if queuedBytes > mark.queuedBytes {
                    congestedSince[endpoint]?.queuedBytes = queuedBytes
                }
            }
        } else if congestedPeers.remove(endpoint) != nil {
            congestedSince[endpoint] = nil
        }
    }

    /// Sets whether a UDP sender's DATA is taken in now; counts what is refused. During a shutdown
    /// drain no new DATA is taken in at all (Specs/chat-protocol.md, section 4.3, step 5).
    mutating func applyBackpressure(to sender: Endpoint, datagram: [UInt8]) {
        let isHeld = isHeldBack(sender) || isShuttingDown
        connections[sender]?.isAcceptingData = !isHeld
        if isHeld, PacketHeader.peek(datagram)?.type == .data { statistics.dataHeldBack += 1 }
    }
}
