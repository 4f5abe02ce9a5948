import Chat
import Datagram

extension RelayCore {
    /// A TCP client connected from `endpoint` (whose transport must be `.tcp`).
    public mutating func handleStreamOpened(_ endpoint: Endpoint, at now: Timestamp) {
        if peers[endpoint] != nil { removePeer(endpoint, departure: .connectionLost, at: now) }
        if let refusal = refusalReason(for: endpoint) {
            statistics.peersRefused += 1
            log(.warning, .refused, at: now, "\(endpoint): refused (\(refusal))")
            let message: RelayMessage = isShuttingDown
                ? .notice(Notice(kind: .serverShutdown, detail: shutdownReason ?? ""))
                : .error(code: .serverFull, messageID: 0, text: peers.count >= configuration.maximumPeers
                    ? "The relay is full (\(peers.count) users)" : "Refused: \(refusal)")
            actions.append(.sendStream(Framing.frame(message.encoded()), to: endpoint))
            actions.append(.closeStream(endpoint))
            return
        }
        addPeer(endpoint, connection: nil, connectionID: nil, at: now)
        streamSeals[endpoint] = nil
        log(.debug, "\(endpoint): stream opened")
    }

    /// Bytes arrived on a TCP stream: any split of any number of frames.
    ///
    /// A length prefix over the limit closes this stream alone (its frame boundaries are lost); a
    /// frame that is not a chat message is counted and dropped and the stream stays open.
    public mutating func handleStreamBytes(_ bytes: [UInt8], from endpoint: Endpoint, at now: Timestamp) {
        guard peers[endpoint]?.frames != nil else {
            log(.debug, "\(endpoint): \(bytes.count) bytes for an unknown stream ignored")
            return
        }
        peers[endpoint]?.frames?.append(bytes)
        decodeFrames(from: endpoint, at: now)
        flushConnections(at: now)
    }

    /// Handles the whole frames a stream's decoder holds, until it runs out or the sender is rate
    /// limited (the rest wait in the decoder, and the host stops reading the stream, until the limit
    /// is released).
    mutating func decodeFrames(from endpoint: Endpoint, at now: Timestamp) {
        while peers[endpoint] != nil, !isRateLimited(endpoint) {
            let frame: [UInt8]?
            do {
                frame = try peers[endpoint]?.frames?.nextFrame()
            } catch {
                statistics.malformedDropped += 1
                log(.warning, "\(endpoint): \(error); closing the stream")
                removePeer(endpoint, departure: .protocolError("\(error)"), at: now)
                break
            }
            guard let frame else { break }
            guard let message = openStreamFrame(frame, from: endpoint, at: now) else { continue }
            handleChatMessage(message, from: endpoint, at: now)
        }
        reschedule(endpoint)
    }

    /// The TCP stream from `endpoint` ended (closed by the client, reset, or failed).
    public mutating func handleStreamClosed(_ endpoint: Endpoint, at now: Timestamp) {
        guard peers[endpoint] != nil else { return }
        peers[endpoint]?.frames = nil
        removePeer(endpoint, departure: .connectionLost, at: now, isStreamOpen: false)
        flushConnections(at: now)
    }

    /// After writing to a TCP stream, and after each flush, the driver reports how many bytes it still
    /// holds for it. Over half the limit the peer counts as congested (RelayCore+Backpressure.swift). Over
    /// `streamSendQueueLimit`, the user is disconnected with the notice "send queue overflow": a
    /// reader that cannot keep up never makes the relay's memory grow and never loses messages silently.
    public mutating func handleStreamBacklog(_ pendingBytes: Int, for endpoint: Endpoint, at now: Timestamp) {
        updateCongestion(of: endpoint, queuedBytes: pendingBytes, at: now)
        reschedule(endpoint)
        pruneStaleWakeUps()
        guard peers[endpoint] != nil, pendingBytes > configuration.streamSendQueueLimit else { return }
        log(.warning, "\(endpoint): \(pendingBytes) bytes unwritten, over the limit of \(configuration.streamSendQueueLimit)")
        statistics.sendQueueOverflows += 1
        removePeer(endpoint, departure: .sendQueueOverflow, at: now)
        flushConnections(at: now)
    }
}
