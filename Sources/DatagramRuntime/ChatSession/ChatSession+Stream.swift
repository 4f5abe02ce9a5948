import Chat
import Datagram

/// The TCP link of a session: the stream and its sources (created under the session's lock, firing
/// on its queue), the frame decoder, and when something was last read.
struct StreamHandles {
    var stream: TCPStream
    var readSource: ReadSource
    var writeSource: WriteSource
    var decoder = FrameDecoder()
    var lastRead: Timestamp
}

extension SessionCore {
    /// Starts a non-blocking connect; the result arrives on the session's queue.
    mutating func connectStream(session: ChatSession, at now: Timestamp) {
        tearDownStream()
        streamGeneration += 1
        let generation = streamGeneration
        TCPStream.connect(to: session.configuration.relay, queue: session.queue) { [weak session] result in
            session?.streamConnected(result, generation: generation)
        }
    }

    /// Cancels the stream's sources; the read source's cancel handler closes the stream, once
    /// Dispatch no longer watches its descriptor.
    mutating func tearDownStream() {
        guard let handles = stream else { return }
        handles.writeSource.cancel()
        handles.readSource.cancel()
        stream = nil
    }

    /// Frames `request` and writes it; a full output buffer puts it in the backlog.
    mutating func transmitStream(_ request: ClientMessage, chatID: UInt64, session: ChatSession, at now: Timestamp) {
        guard let handles = stream else {
            if !request.isPerConnection { ledger.held.append(request) }
            return
        }
        let frame = Framing.frame(request.encoded())
        do throws(SystemError) {
            switch try handles.stream.write(frame) {
            case .flushed:
                break
            case .buffered:
                handles.writeSource.setEnabled(true)
            case .refused:
                handles.writeSource.setEnabled(true)
                backlog.append(request)
                return
            }
            ledger.statistics.streamBytesSent += frame.count
            if chatID != 0 {
                ledger.unacknowledged.append(SentMessage(key: chatID, chatID: chatID, message: request))
            }
        } catch {
            if !request.isPerConnection { ledger.held.append(request) }
            linkLost("write failed: \(error)", session: session, at: now)
        }
    }

    /// Sends heartbeats, and gives up a stream that has gone silent or a connect that hangs.
    mutating func streamHousekeeping(session: ChatSession, at now: Timestamp) {
        let configuration = session.configuration
        if case .connecting(let since) = ledger.phase, stream == nil, now - since > .seconds(5) {
            streamGeneration += 1
            linkLost("connecting took too long", session: session, at: now)
            return
        }
        guard let handles = stream else { return }
        if now - handles.lastRead > configuration.streamSilenceLimit {
            linkLost("nothing heard from the relay for \(configuration.streamSilenceLimit)", session: session, at: now)
            return
        }
        if lastHeartbeat.map({ now - $0 >= configuration.heartbeatInterval }) ?? true {
            lastHeartbeat = now
            let heartbeat = ClientMessage.heartbeat(timestamp: UInt64(max(0, now.microsecondsSinceOrigin)),
                                                    roundTripTime: ledger.statistics.heartbeatRoundTripTime)
            transmitStream(heartbeat, chatID: 0, session: session, at: now)
        }
    }
}

extension ChatSession {
    /// A connect attempt finished (on `queue`).
    func streamConnected(_ result: Result<TCPStream, SystemError>, generation: Int) {
        let now = clock.now()
        state.withLock { core in
            guard generation == core.streamGeneration, case .connecting = core.ledger.phase else {
                if case .success(let stream) = result { stream.close() }
                return
            }
            switch result {
            case .failure(let error):
                core.linkLost("cannot connect: \(error)", session: self, at: now)
            case .success(let stream):
                let readSource = ReadSource(fileDescriptor: stream.fileDescriptor, queue: queue,
                                            onCancel: { stream.close() }) { [weak self] in
                    self?.streamReadable(generation: generation)
                }
                let writeSource = WriteSource(fileDescriptor: stream.fileDescriptor, queue: queue) { [weak self] in
                    self?.streamWritable(generation: generation)
                }
                core.stream = StreamHandles(stream: stream, readSource: readSource, writeSource: writeSource, lastRead: now)
                core.lastHeartbeat = now
                core.transmitStream(core.ledger.hello(configuration), chatID: 0, session: self, at: now)
            }
        }
        deliverEvents()
    }

    /// Reads what the stream has, splits it into frames and handles each (on `queue`).
    func streamReadable(generation: Int) {
        let now = clock.now()
        state.withLock { core in
            guard generation == core.streamGeneration, var handles = core.stream else { return }
            var buffer: [UInt8] = []
            var ended: String?
            reading: while true {
                do throws(SystemError) {
                    switch try handles.stream.read(into: &buffer) {
                    case .bytes: continue
                    case .drained: break reading
                    case .endOfStream: ended = "the relay closed the connection"; break reading
                    }
                } catch {
                    ended = "read failed: \(error)"
                    break reading
                }
            }
            if !buffer.isEmpty { handles.lastRead = now }
            core.ledger.statistics.streamBytesReceived += buffer.count
            handles.decoder.append(buffer)
            var frames: [[UInt8]] = []
            do throws(FrameError) {
                while let frame = try handles.decoder.nextFrame() { frames.append(frame) }
            } catch {
                ended = "bad frame from the relay: \(error)"
            }
            core.stream = handles
            for frame in frames { core.handleRelayBytes(frame, session: self, at: now) }
            if let ended { core.linkLost(ended, session: self, at: now) }
        }
        deliverEvents()
    }

    /// Flushes the output buffer when the socket can take more, then retries the backlog (on `queue`).
    func streamWritable(generation: Int) {
        let now = clock.now()
        state.withLock { core in
            guard generation == core.streamGeneration, let handles = core.stream else { return }
            do throws(SystemError) {
                if try handles.stream.flush() == 0 { handles.writeSource.setEnabled(false) }
            } catch {
                core.linkLost("write failed: \(error)", session: self, at: now)
                return
            }
            core.retryBacklog(session: self, at: now)
        }
        deliverEvents()
    }
}
