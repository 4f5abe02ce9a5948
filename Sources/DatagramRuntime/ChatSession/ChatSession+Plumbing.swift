import Chat
import ChatClientCore
import Datagram
import LinkSimulator
import Synchronization
import Transport

// The shell's plumbing: everything ChatSession does on its queue between the system and the core.
// Every step feeds the core under the lock and performs the core's actions outside it.
extension ChatSession {
    /// Runs `flush` on `queue` soon (once, however often it is asked for before it runs).
    func scheduleFlush() {
        let isNeeded = state.withLock { shell -> Bool in
            guard !shell.isFlushScheduled else { return false }
            shell.isFlushScheduled = true
            return true
        }
        if isNeeded { queue.async { [self] in flush() } }
    }

    /// Sends datagrams taken with `takeReadyDatagrams`, from the calling thread, outside the lock: a
    /// chat line goes out at once instead of after a hop to `queue` (a worker thread's wake-up, a
    /// good part of the one-way latency at 0 % loss: issue 13). Two threads may then send at the
    /// same moment; Datagram takes datagrams in any order.
    func send(_ ready: ReadyDatagrams) {
        guard let socket = ready.socket, !ready.datagrams.isEmpty else { return }
        var sent = 0
        var dropped = 0
        var failure: SystemError?
        for datagram in ready.datagrams {
            do throws(SystemError) {
                if try socket.send(datagram, to: configuration.relay) { sent += 1 } else { dropped += 1 }
            } catch {
                failure = error
            }
        }
        state.withLock { shell in
            shell.driverStatistics.datagramsSent += sent
            shell.driverStatistics.sendsDropped += dropped
            if let failure {
                shell.driverStatistics.socketErrors += 1
                shell.driverStatistics.lastSocketError = failure
            }
        }
    }

    /// The timer fired (on `queue`).
    func tick() {
        let now = clock.now()
        state.withLock { shell in
            shell.core.handleTimeout(at: now)
            while let delayed = shell.path.pollIncoming(at: now) { shell.core.handleDatagram(delayed, at: now) }
        }
        flush()
    }

    /// The UDP socket is readable (on `queue`): reads a batch from the relay's address, feeds it.
    func datagramsReadable() {
        guard let socket = state.withLock({ $0.socket }) else { return }
        var batch: [[UInt8]] = []
        var others = 0
        var failure: SystemError?
        while batch.count + others < 256 {
            do throws(SystemError) {
                guard let (bytes, sender) = try socket.receive() else { break }
                if sender == configuration.relay { batch.append(bytes) } else { others += 1 }
            } catch {
                failure = error
                break
            }
        }
        let now = clock.now()
        state.withLock { shell in
            shell.driverStatistics.datagramsReceived += batch.count
            shell.driverStatistics.datagramsFromOtherAddresses += others
            if let failure {
                shell.driverStatistics.socketErrors += 1
                shell.driverStatistics.lastSocketError = failure
                // A closed descriptor would make the level-triggered source fire forever.
                if socket.isClosed { shell.readSource?.cancel() }
            }
            var arrived: [[UInt8]] = []
            arrived.reserveCapacity(batch.count)
            for datagram in batch {
                if let direct = shell.path.sendIncoming(datagram, at: now) { arrived.append(direct) }
            }
            shell.core.handleDatagrams(arrived, at: now)
        }
        flush()
    }

    /// Takes the core's actions under the lock and performs them outside it, on `queue`, until
    /// there are none; then re-arms the timer and answers waiters whose time came.
    func flush() {
        queue.preconditionOnQueue()
        while true {
            let now = clock.now()
            var framesInHand = 0
            let (steps, onEvent, finished) = state.withLock { shell -> ([Step], (@Sendable (ChatSessionEvent) -> Void)?, [@Sendable () -> Void]) in
                shell.isFlushScheduled = false
                var steps: [Step] = []
                while let action = shell.core.pollAction() {
                    if case .sendDatagram(let datagram) = action {
                        if let socket = shell.socket, let direct = shell.path.sendOutgoing(datagram, at: now) {
                            steps.append(.datagram(direct, socket))
                        }
                    } else {
                        if case .sendFrame(let frame) = action { framesInHand += frame.count }
                        steps.append(.action(action))
                    }
                }
                if let socket = shell.socket {
                    while let delayed = shell.path.pollOutgoing(at: now) { steps.append(.datagram(delayed, socket)) }
                }
                let finished = shell.takeFinishedWaiters(at: now)
                if shell.core.isClosed, !shell.isStopped, shell.leaveCompletion == nil {
                    shell.stop()
                } else if !shell.isStopped {
                    let deadlines = [shell.core.nextDeadline, shell.path.nextDeliveryTime] + shell.drainWaiters.map(\.deadline)
                    shell.timer?.arm(at: deadlines.compactMap { $0 }.min(), now: now)
                }
                return (steps, shell.onEvent, finished)
            }
            if steps.isEmpty && finished.isEmpty { return }
            for step in steps { perform(step, onEvent: onEvent, framesInHand: &framesInHand, at: now) }
            for callback in finished { callback() }
        }
    }

    /// Performs one step outside the lock. `framesInHand` counts the bytes of this batch's frames not
    /// yet written: the core's budget (`handleStreamOutput`) must include them, or it queues a second
    /// output buffer's worth behind them and a write is refused.
    private func perform(_ step: Step, onEvent: (@Sendable (ChatSessionEvent) -> Void)?, framesInHand: inout Int,
                         at now: Timestamp) {
        switch step {
        case let .datagram(datagram, socket):
            var result: Result<Bool, SystemError>
            do throws(SystemError) { result = .success(try socket.send(datagram, to: configuration.relay)) } catch { result = .failure(error) }
            state.withLock { shell in
                switch result {
                case .success(true): shell.driverStatistics.datagramsSent += 1
                case .success(false): shell.driverStatistics.sendsDropped += 1
                case .failure(let error):
                    shell.driverStatistics.socketErrors += 1
                    shell.driverStatistics.lastSocketError = error
                }
            }
        case .action(.event(let event)):
            onEvent?(event)
        case .action(.openStream):
            let generation = state.withLock { shell -> Int in
                shell.tearDownStream()
                shell.streamGeneration += 1
                return shell.streamGeneration
            }
            TCPStream.connect(to: configuration.relay, queue: queue) { [weak self] result in
                self?.streamConnected(result, generation: generation)
            }
        case .action(.sendFrame(let frame)):
            framesInHand -= frame.count
            guard let stream = state.withLock({ $0.stream }) else { return }
            let pending: Int
            do throws(SystemError) {
                switch try stream.stream.write(frame) {
                case .flushed: pending = 0
                case .buffered(let bytes): pending = bytes; stream.writeSource.setEnabled(true)
                case .refused(let bytes, let limit):
                    // Never with the core's budget kept; if it happens, the frame must not vanish (a
                    // sealed stream would lose its place): the link is given up and everything not
                    // acknowledged goes again on the next one.
                    state.withLock { shell in
                        shell.tearDownStream()
                        shell.core.handleStreamEnded(
                            reason: "a \(frame.count)-byte frame did not fit the output buffer (\(bytes) of \(limit) bytes waiting)",
                            at: now)
                    }
                    return
                }
            } catch {
                state.withLock { $0.core.handleStreamEnded(reason: "write failed: \(error)", at: now) }
                return
            }
            state.withLock { $0.core.handleStreamOutput(pendingBytes: pending + framesInHand, at: now) }
        case .action(.finishStream):
            let stream = state.withLock { shell -> StreamHandles? in
                defer { shell.tearDownStream() }
                return shell.stream
            }
            if let stream {
                _ = try? stream.stream.flush()
                try? stream.stream.shutdownOutput()
            }
        case .action(.closeStream):
            state.withLock { $0.tearDownStream() }
        case .action(.left):
            let completion = state.withLock { shell -> (@Sendable () -> Void)? in
                defer { shell.leaveCompletion = nil }
                return shell.leaveCompletion
            }
            completion?()
        case .action(.status), .action(.sendDatagram):
            break
        }
    }

    /// A connect attempt finished (on `queue`).
    func streamConnected(_ result: Result<TCPStream, SystemError>, generation: Int) {
        let now = clock.now()
        state.withLock { shell in
            guard generation == shell.streamGeneration, !shell.core.isClosed else {
                if case .success(let stream) = result { stream.close() }
                return
            }
            switch result {
            case .failure(let error):
                shell.core.handleStreamEnded(reason: "cannot connect: \(error)", at: now)
            case .success(let stream):
                let readSource = ReadSource(fileDescriptor: stream.fileDescriptor, queue: queue,
                                            onCancel: { stream.close() }) { [weak self] in
                    self?.streamReadable(generation: generation)
                }
                let writeSource = WriteSource(fileDescriptor: stream.fileDescriptor, queue: queue) { [weak self] in
                    self?.streamWritable(generation: generation)
                }
                shell.stream = StreamHandles(stream: stream, readSource: readSource, writeSource: writeSource)
                shell.core.handleStreamConnected(at: now)
            }
        }
        flush()
    }

    /// Reads what the stream has and feeds it to the core (on `queue`).
    func streamReadable(generation: Int) {
        guard let handles = state.withLock({ $0.streamGeneration == generation ? $0.stream : nil }) else { return }
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
        let now = clock.now()
        state.withLock { shell in
            guard generation == shell.streamGeneration else { return }
            shell.core.handleStreamBytes(buffer, at: now)
            if let ended { shell.core.handleStreamEnded(reason: ended, at: now) }
        }
        flush()
    }

    /// Flushes the output buffer when the socket can take more (on `queue`).
    func streamWritable(generation: Int) {
        guard let handles = state.withLock({ $0.streamGeneration == generation ? $0.stream : nil }) else { return }
        let now = clock.now()
        do throws(SystemError) {
            let pending = try handles.stream.flush()
            if pending == 0 { handles.writeSource.setEnabled(false) }
            state.withLock { $0.core.handleStreamOutput(pendingBytes: pending, at: now) }
        } catch {
            state.withLock { $0.core.handleStreamEnded(reason: "write failed: \(error)", at: now) }
        }
        flush()
    }
}
