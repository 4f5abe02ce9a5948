import Testing
import Transport

/// `EventPoll` (epoll through dlsym, with `epoll_event` laid out by hand) reports exactly the sockets
/// that have input, with the tokens they were added with.
@Suite("epoll set")
struct EventPollTests {
    @Test func onlyTheSocketsWithInputComeBackWithTheirTokens() throws {
        let sender = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        let receivers = try (0..<5).map { _ in try UDPSocket(bindingTo: .loopbackIPv4(port: 0)) }
        defer { ([sender] + receivers).forEach { $0.close() } }
        let readiness = try EventPoll(batch: 3)
        for (index, receiver) in receivers.enumerated() {
            try readiness.add(receiver.fileDescriptor, token: UInt64(1_000_000_000_000 + index))
        }
        var tokens: [UInt64] = []
        #expect(readiness.wait(timeoutMilliseconds: 0) { tokens.append($0) } == 0)

        try sender.send([1], to: receivers[1].localAddress)
        try sender.send([2], to: receivers[3].localAddress)
        var waited = 0
        while Set(tokens).count < 2 && waited < 100 {
            readiness.wait(timeoutMilliseconds: 50) { tokens.append($0) }
            waited += 1
        }
        #expect(Set(tokens) == [1_000_000_000_001, 1_000_000_000_003])

        // Level-triggered: still readable until read; gone once removed.
        readiness.remove(receivers[1].fileDescriptor)
        tokens = []
        readiness.wait(timeoutMilliseconds: 0) { tokens.append($0) }
        #expect(tokens == [1_000_000_000_003])
        _ = try receivers[3].receive()
        tokens = []
        #expect(readiness.wait(timeoutMilliseconds: 0) { tokens.append($0) } == 0)
    }
}
