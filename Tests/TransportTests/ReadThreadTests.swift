import Synchronization
import Testing
import Transport

/// `ReadThread`: a descriptor's own thread that runs the handler on the owner's queue, one wake-up per
/// datagram instead of Dispatch's two (issue 13).
@Suite("A socket's reader thread")
struct ReadThreadTests {
    @Test func everyDatagramIsReadOnTheQueueInOrderAndCancelRunsOnCancelOnce() async throws {
        let receiver = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let sender = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let queue = SerialQueue(label: "test.read-thread")
        let received = Mutex<[UInt8]>([])
        let cancelled = Mutex(0)
        let reader = try ReadThread(fileDescriptor: receiver.fileDescriptor, queue: queue,
                                    onCancel: { cancelled.withLock { $0 += 1 }; receiver.close() }) {
            queue.preconditionOnQueue()
            while let datagram = try? receiver.receive() {
                received.withLock { $0.append(contentsOf: datagram.bytes) }
            }
        }
        let address = try receiver.localAddress
        for byte in UInt8(0)..<100 { _ = try sender.send([byte], to: address) }
        #expect(await eventually { received.withLock { $0.count } == 100 })
        #expect(received.withLock { $0 } == Array(0..<100))
        reader.cancel()
        reader.cancel()
        #expect(await eventually { cancelled.withLock { $0 } == 1 })
        // Nothing is read after the cancellation: the descriptor is closed and the thread is gone.
        _ = try? sender.send([200], to: address)
        try await Task.sleep(for: .milliseconds(20))
        #expect(received.withLock { $0.count } == 100)
        #expect(cancelled.withLock { $0 } == 1)
        sender.close()
    }

    @Test func theHandlerMayCancelItsOwnReader() async throws {
        let receiver = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let sender = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let queue = SerialQueue(label: "test.read-thread.self-cancel")
        let calls = Mutex(0)
        let closed = Mutex(false)
        let holder = Mutex<ReadThread?>(nil)
        let reader = try ReadThread(fileDescriptor: receiver.fileDescriptor, queue: queue,
                                    onCancel: { closed.withLock { $0 = true }; receiver.close() }) {
            calls.withLock { $0 += 1 }
            // Reads nothing: level-triggered, it would be called again at once if it were not cancelled.
            holder.withLock { $0?.cancel() }
        }
        holder.withLock { $0 = reader }
        _ = try sender.send([1], to: try receiver.localAddress)
        #expect(await eventually { closed.withLock { $0 } })
        #expect(calls.withLock { $0 } == 1)
        holder.withLock { $0 = nil }
        sender.close()
    }
}
