import Datagram
import Testing

// Inputs found by the libFuzzer targets in Fuzz/ (tools/fuzz.sh), replayed through the public API.
// The fuzzer's own reproducer for each is kept in Fuzz/reproducers/<target>/.
//
// A test whose crash is not fixed yet is `.disabled` (a trap cannot be caught by `withKnownIssue`: it
// would end the whole test run). Remove the trait in the commit that lands the fix.

@Suite("Fuzz regressions: Connection")
struct ConnectionFuzzRegressionTests {
    /// Two DATA packets for one message that disagree about its fragment count: fragment 1 of 2, then
    /// fragment 2 of 3, after a real cookie handshake. Found by the `connection` target
    /// (Fuzz/reproducers/connection/reorder-fragment-count-mismatch); it trapped in
    /// `PartialMessage.contains`, called from `ReorderBuffer.admission` before the count was checked.
    /// Issue 8, item 1.
    @Test("DATA fragments of one message with different fragment counts are refused, and the connection carries on")
    func fragmentCountMismatchAfterHandshake() throws {
        var now = Timestamp.milliseconds(1)
        let id = ConnectionID(rawValue: 0x1234_ABCD)
        let jar = CookieJar(secret: (0x1111, 0x2222))
        let address: [UInt8] = [10, 0, 0, 1, 0x13, 0x88]
        var client = Connection(role: .client, id: id, now: now)

        // The handshake, as a real client and the relay's front door do it.
        let firstHello = client.pollTransmit(at: now)
        let hello = try #require(firstHello)
        guard case let .reply(cookie) = jar.respond(to: hello, from: address, at: now) else {
            Issue.record("the first HELLO must be answered with a COOKIE"); return
        }
        client.handleDatagram(cookie, at: now)
        let secondHello = client.pollTransmit(at: now)
        let helloWithCookie = try #require(secondHello)
        #expect(jar.respond(to: helloWithCookie, from: address, at: now) == .accept(id))
        var server = Connection(role: .server, id: id, now: now)
        server.handleDatagram(helloWithCookie, at: now)
        while server.pollTransmit(at: now) != nil {}
        while server.pollEvent() != nil {}

        // The attack: two packets numbered ahead of the client's (so the client's own stay new), for
        // message 1 (ahead of the head, so its fragments wait in the reorder buffer).
        func data(_ packetNumber: UInt32, index: UInt16, count: UInt16) -> [UInt8] {
            let fragment = FragmentHeader(channel: .reliableOrdered, messageNumber: 1, fragmentIndex: index, fragmentCount: count)
            let size = index == count - 1 ? 45 : Limits.maximumFragmentPayload
            return Packet(header: PacketHeader(connectionID: id, packetNumber: packetNumber),
                          body: .data(fragment, payload: [UInt8](repeating: 0x41, count: size)[...])).emit()
        }
        now = now + .milliseconds(1)
        server.handleDatagram(data(100, index: 1, count: 2), at: now)
        server.handleDatagram(data(101, index: 2, count: 3), at: now)

        // The real client still gets its message through.
        try client.send(Array("still here".utf8), at: now)
        for _ in 0..<100 {
            var moved = false
            while let datagram = client.pollTransmit(at: now) { server.handleDatagram(datagram, at: now); moved = true }
            while let datagram = server.pollTransmit(at: now) { client.handleDatagram(datagram, at: now); moved = true }
            if !moved {
                guard let deadline = [client.nextDeadline, server.nextDeadline].compactMap({ $0 }).min() else { break }
                now = max(now, deadline)
                client.handleTimeout(at: now)
                server.handleTimeout(at: now)
            }
            var delivered: [[UInt8]] = []
            while let event = server.pollEvent() {
                if case let .message(bytes, _) = event { delivered.append(bytes) }
            }
            if !delivered.isEmpty {
                #expect(delivered == [Array("still here".utf8)])
                return
            }
        }
        Issue.record("the client's message was never delivered after the attack")
    }
}
