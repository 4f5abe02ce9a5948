import Testing
import Transport

/// `recvmmsg` / `sendmmsg` batches and their one-call-per-datagram fallback give the same datagrams,
/// in the same order, from the same senders (UDPSocket+Batch.swift).
@Suite("Batched UDP system calls")
struct BatchedUDPTests {
    @Test func batchedSendAndReceiveCarryEveryDatagramInOrder() throws {
        try exchange(batching: true)
    }

    @Test func theForcedFallbackCarriesEveryDatagramInOrder() throws {
        try exchange(batching: false)
    }

    @Test func aBatchOnAnEmptySocketIsEmpty() throws {
        let socket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        defer { socket.close() }
        #expect(try socket.receiveBatch().isEmpty)
        socket.disableBatching()
        #expect(!socket.isBatching)
        #expect(try socket.receiveBatch().isEmpty)
    }

    @Test func aDatagramLongerThanABatchSlotIsCutToTheSlot() throws {
        let sender = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let receiver = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        defer { sender.close(); receiver.close() }
        try sender.send([UInt8](repeating: 7, count: 3_000), to: try receiver.localAddress)
        let received = try receiver.receiveBatch()
        #expect(received.map(\.bytes.count) == [UDPSocket.batchSlotSize])
    }

    /// 70 datagrams (more than two batches; empty, 1,200-byte and in between), alternating between two
    /// receivers, sent in one `sendBatch` and read back with `receiveBatch` of at most 50 at a time.
    private func exchange(batching: Bool) throws {
        let sender = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let first = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let second = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        defer { sender.close(); first.close(); second.close() }
        if !batching { [sender, first, second].forEach { $0.disableBatching() } }
        let receivers = [first, second]
        let datagrams = (0..<70).map { index -> (bytes: [UInt8], to: SocketAddress) in
            let size = index == 0 ? 0 : index == 1 ? 1_200 : index * 7
            return ([UInt8](repeating: UInt8(index), count: size), try! receivers[index % 2].localAddress)
        }
        let result = sender.sendBatch(datagrams)
        #expect(result.sent == 70)
        #expect(result.dropped == 0)
        #expect(result.failure == nil)
        let from = try sender.localAddress
        for (which, receiver) in receivers.enumerated() {
            var received: [[UInt8]] = []
            for _ in 0..<10 {
                let batch = try receiver.receiveBatch(maximum: 50)
                #expect(batch.count <= 50)
                #expect(batch.allSatisfy { $0.from == from })
                received += batch.map(\.bytes)
                if batch.isEmpty { break }
            }
            let expected = datagrams.enumerated().filter { $0.offset % 2 == which }.map(\.element.bytes)
            #expect(received == expected)
        }
        #expect(sender.isBatching == batching)
    }
}
