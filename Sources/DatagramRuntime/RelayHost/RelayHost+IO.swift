import Transport
import Chat
import Datagram
import Relay

extension RelayHost {
    /// The most datagrams one readable event handles before letting the timer and streams run.
    static let datagramBatchLimit = 256

    /// Reads a batch of datagrams and feeds them to the core in one step.
    func handleDatagramsReadable() {
        // recvmmsg: up to 32 datagrams per system call (UDPSocket+Batch.swift).
        var datagrams: [(bytes: [UInt8], from: Endpoint)] = []
        do throws(SystemError) {
            datagrams = try udp.receiveBatch(maximum: Self.datagramBatchLimit).map { ($0.bytes, Endpoint($0.from, transport: .udp)) }
        } catch {
            logger.warning("recvmmsg: \(error)")
        }
        guard !datagrams.isEmpty else { return }
        step { core, now in core.handleDatagrams(datagrams, at: now) }
    }

    /// Accepts every pending connection, gives each its sources, and tells the core.
    func handleAcceptable() {
        var opened: [Endpoint] = []
        while true {
            let stream: TCPStream
            do throws(SystemError) {
                let limit = state.withLock { $0.core.configuration.streamSendQueueLimit }
                guard let accepted = try listener.accept(outputLimit: limit * 2 + 2 * ChatLimits.maximumMessageSize) else { break }
                stream = accepted
            } catch {
                logger.warning("accept: \(error)")
                break
            }
            let endpoint = Endpoint(stream.peerAddress, transport: .tcp)
            state.withLock { host in
                let readSource = ReadSource(fileDescriptor: stream.fileDescriptor, queue: queue,
                                            onCancel: { stream.close() }) { [weak self] in
                    self?.handleStreamReadable(endpoint)
                }
                let writeSource = WriteSource(fileDescriptor: stream.fileDescriptor, queue: queue) { [weak self] in
                    self?.handleStreamWritable(endpoint)
                }
                host.streams[endpoint] = StreamEntry(stream: stream, readSource: readSource, writeSource: writeSource)
            }
            opened.append(endpoint)
        }
        guard !opened.isEmpty else { return }
        step { core, now in
            for endpoint in opened { core.handleStreamOpened(endpoint, at: now) }
        }
    }

    /// The most bytes read from one stream per readable event.
    static let streamReadLimit = ChatLimits.maximumMessageSize + ChatLimits.frameHeaderSize

    /// Reads what a stream has and feeds it to the core; end of stream or an error closes it.
    func handleStreamReadable(_ endpoint: Endpoint) {
        guard let stream = state.withLock({ $0.streams[endpoint]?.stream }) else { return }
        var buffer: [UInt8] = []
        var isEnded = false
        // At most one largest frame and its header per wake-up: a stream the core has paused (held
        // back, rate limited) then holds at most this much undecoded, and the source fires again.
        reading: while buffer.count < Self.streamReadLimit {
            do throws(SystemError) {
                switch try stream.read(into: &buffer, maximumCount: Self.streamReadLimit - buffer.count) {
                case .bytes: continue
                case .drained: break reading
                case .endOfStream: isEnded = true; break reading
                }
            } catch {
                logger.debug("\(endpoint): read: \(error)")
                isEnded = true
                break reading
            }
        }
        step { core, now in
            if !buffer.isEmpty { core.handleStreamBytes(buffer, from: endpoint, at: now) }
            if isEnded { core.handleStreamClosed(endpoint, at: now) }
        }
        if isEnded { removeStream(endpoint) }
    }

    /// Writes out a stream's buffer; reports what is left to the core; closes it when asked and empty.
    func handleStreamWritable(_ endpoint: Endpoint) {
        guard let entry = state.withLock({ $0.streams[endpoint] }) else { return }
        let pending: Int
        do throws(SystemError) {
            pending = try entry.stream.flush()
        } catch {
            logger.debug("\(endpoint): write: \(error)")
            step { core, now in core.handleStreamClosed(endpoint, at: now) }
            removeStream(endpoint)
            return
        }
        if pending == 0 {
            state.withLock { $0.streams[endpoint]?.writeSource.setEnabled(false) }
            if entry.isClosing { closeStream(endpoint) }
        }
        // The core learns the backlog going down as well as up, so congestion ends when it drains.
        step { core, now in core.handleStreamBacklog(pending, for: endpoint, at: now) }
        finishShutdownIfDone()
    }

    /// Carries out the core's actions, outside the lock, in order.
    ///
    /// A stream that fails a write is reported to the core only after the whole list: the list holds
    /// frames the core sealed with consecutive nonces for other streams, and a step run in the middle
    /// would seal and write its own frames (the departure notice) ahead of them. The receiver would
    /// then find a frame sealed with a later nonce than it expects, and close its session.
    func perform(_ actions: [RelayAction]) {
        var backlogs: [Endpoint: Int] = [:]
        var failedStreams: [Endpoint] = []
        // Consecutive datagrams go out together, in one sendmmsg per 32 (UDPSocket+Batch.swift).
        var datagrams: [(bytes: [UInt8], to: SocketAddress)] = []
        func sendDatagrams() {
            guard !datagrams.isEmpty else { return }
            if let failure = udp.sendBatch(datagrams).failure { logger.debug("sendmmsg: \(failure)") }
            datagrams.removeAll(keepingCapacity: true)
        }
        for action in actions {
            if case let .sendDatagram(bytes, to) = action {
                datagrams.append((bytes, to.socketAddress))
                continue
            }
            sendDatagrams()
            switch action {
            case .sendDatagram:
                break
            case let .sendStream(bytes, to):
                switch write(bytes, to: to) {
                case .written(let pending): if pending > 0 { backlogs[to] = pending }
                case .gone: break
                case .failed: failedStreams.append(to); backlogs[to] = nil
                }
            case let .closeStream(endpoint):
                requestClose(endpoint)
            case let .log(level, line):
                logger.log(level, line)
            }
        }
        sendDatagrams()
        guard !backlogs.isEmpty || !failedStreams.isEmpty else { return }
        step { core, now in
            for (endpoint, pending) in backlogs { core.handleStreamBacklog(pending, for: endpoint, at: now) }
            for endpoint in failedStreams { core.handleStreamClosed(endpoint, at: now) }
        }
    }

    /// What became of one write.
    enum WriteOutcome {
        /// Written or buffered; the bytes left waiting.
        case written(pending: Int)
        /// The stream is gone or closing; nothing was written.
        case gone
        /// The write failed or went over the buffer's limit: the stream is removed, and the caller
        /// must tell the core (`handleStreamClosed`) once it has performed the rest of its actions.
        case failed
    }

    /// Appends `bytes` to a stream.
    private func write(_ bytes: [UInt8], to endpoint: Endpoint) -> WriteOutcome {
        guard let entry = state.withLock({ $0.streams[endpoint] }), !entry.isClosing else { return .gone }
        do throws(SystemError) {
            switch try entry.stream.write(bytes) {
            case .flushed:
                return .written(pending: 0)
            case .buffered(let pending):
                state.withLock { $0.streams[endpoint]?.writeSource.setEnabled(true) }
                return .written(pending: pending)
            case .refused(let pending, let limit):
                logger.warning("\(endpoint): \(pending) bytes unwritten, over \(limit); closing the stream")
            }
        } catch {
            logger.debug("\(endpoint): write: \(error)")
        }
        removeStream(endpoint)
        return .failed
    }

    /// Closes a stream once its buffer is written (at once when it is empty).
    private func requestClose(_ endpoint: Endpoint) {
        let isEmpty = state.withLock { host -> Bool in
            host.streams[endpoint]?.isClosing = true
            return (host.streams[endpoint]?.stream.pendingOutputBytes ?? 0) == 0
        }
        if isEmpty { closeStream(endpoint) }
    }

    /// Shuts down the sending side (the client reads end of stream) and forgets the stream.
    private func closeStream(_ endpoint: Endpoint) {
        if let stream = state.withLock({ $0.streams[endpoint]?.stream }) {
            try? stream.shutdownOutput()
        }
        removeStream(endpoint)
    }

    /// Cancels a stream's sources; the read source's cancel handler closes the descriptor.
    func removeStream(_ endpoint: Endpoint) {
        state.withLock { host in
            guard let entry = host.streams.removeValue(forKey: endpoint) else { return }
            host.pausedStreams.remove(endpoint)
            entry.writeSource.cancel()
            entry.readSource.cancel()
        }
    }

    /// After shutdown: once the core is finished and every stream is written out, or the deadline has
    /// passed, close the sockets and call the completion (once).
    func finishShutdownIfDone() {
        let now = clock.now()
        let completion = state.withLock { host -> (@Sendable () -> Void)? in
            guard let completion = host.shutdownCompletion, !host.isShutDown, let deadline = host.shutdownDeadline else {
                return nil
            }
            let isDrained = host.core.isFinished && host.streams.values.allSatisfy { $0.stream.pendingOutputBytes == 0 }
            guard isDrained || deadline <= now else { return nil }
            host.isShutDown = true
            host.timer?.cancel()
            host.udpReader?.cancel()
            host.listenerSource?.cancel()
            for entry in host.streams.values {
                entry.writeSource.cancel()
                entry.readSource.cancel()
            }
            host.streams = [:]
            return completion
        }
        guard let completion else { return }
        logger.info(isDrainedMessage(now: now))
        queue.async(execute: completion)
    }

    private func isDrainedMessage(now: Timestamp) -> String {
        "stopped; \(statistics.joinsAccepted) joins, \(statistics.messagesRouted) messages routed, "
            + "\(statistics.deliveries) deliveries"
    }
}
