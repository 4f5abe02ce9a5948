import Chat
import Datagram
import Relay
import Testing

/// Issue 9.17: no endpoint ever receives a datagram carrying another connection's id.
extension RelayHarness {
    static func connectionID(of datagram: [UInt8]) -> UInt32? {
        PacketHeader.peek(datagram)?.connectionID.rawValue
    }
}

@Suite("Relay demultiplexing (issue 9.17): a client only ever receives its own connection id")
struct DatagramDemultiplexingTests {
    /// Specs/wire-format.md, section 6: One connection id per endpoint: a new id from a live endpoint replaces its
    /// connection without a CLOSE; a straggler of the old id is dropped unanswered; equal ids at two endpoints are
    /// two connections.
    @Test("a client that reconnects from the same address and port with a new id never hears the old id again")
    func endpointReusedByNewConnection() {
        var relay = RelayHarness()
        let alice = relay.joinUDP("alice", port: 5001, id: 1)
        relay.udp.connections[alice] = Connection(role: .client, id: ConnectionID(rawValue: 2), now: relay.now,
                                                  firstPacketNumber: 9_000)
        let sent = relay.pump().filter { $0.to == alice }
        #expect(!sent.isEmpty)
        #expect(sent.allSatisfy { RelayHarness.connectionID(of: $0.bytes) == 2 }, "no CLOSE for connection 1")
        #expect(relay.udp.connections[alice]?.state == .established)
        #expect(relay.core.statistics.peers == 1)
    }

    /// Specs/wire-format.md, section 6: One connection id per endpoint: a new id from a live endpoint replaces its
    /// connection without a CLOSE; a straggler of the old id is dropped unanswered; equal ids at two endpoints are
    /// two connections.
    @Test("a straggler of the replaced connection is dropped, not answered with a RESET the new client would get")
    func stragglerOfReplacedConnection() {
        var relay = RelayHarness()
        let alice = relay.joinUDP("alice", port: 5001, id: 1)
        var old = relay.udp.connections[alice]!
        relay.udp.connections[alice] = Connection(role: .client, id: ConnectionID(rawValue: 2), now: relay.now)
        _ = relay.pump()
        _ = try? old.send([1, 2, 3], at: relay.now)
        let straggler = old.pollTransmit(at: relay.now)!
        relay.core.handleDatagram(straggler, from: alice, at: relay.now)
        let sent = relay.pump().filter { $0.to == alice }
        #expect(sent.allSatisfy { RelayHarness.connectionID(of: $0.bytes) == 2 })
        #expect(relay.core.statistics.foreignConnectionIDDropped == 1)
        #expect(relay.core.statistics.resetsSent == 0)
    }

    /// Specs/wire-format.md, section 6: One connection id per endpoint: a new id from a live endpoint replaces its
    /// connection without a CLOSE; a straggler of the old id is dropped unanswered; equal ids at two endpoints are
    /// two connections.
    @Test("two clients at different endpoints that picked the same id are two connections, each with its own traffic")
    func connectionIDCollision() {
        var relay = RelayHarness()
        let alice = relay.joinUDP("alice", port: 5001, id: 7)
        let bob = relay.joinUDP("bob", port: 5002, id: 7)
        _ = relay.takeUDP(alice)
        relay.sendUDP(.say(room: "#lobby", messageID: 1, flags: [], text: "hi bob"), from: alice)
        let received = relay.takeUDP(bob)
        #expect(received.contains { if case .message(_, "alice", _, 1, _, "hi bob") = $0 { true } else { false } })
        for endpoint in [alice, bob] {
            let statistics = relay.udp.connections[endpoint]!.statistics
            #expect(statistics.malformedDropped == 0 && statistics.outOfWindowDropped == 0
                    && statistics.duplicatesDropped == 0 && statistics.protocolViolations == 0)
        }
    }

    /// Specs/wire-format.md, section 6: One connection id per endpoint: a new id from a live endpoint replaces its
    /// connection without a CLOSE; a straggler of the old id is dropped unanswered; equal ids at two endpoints are
    /// two connections.
    @Test("after a close, the same id from the same endpoint starts a fresh connection through the cookie jar")
    func reuseAfterClose() {
        var relay = RelayHarness()
        let alice = relay.joinUDP("alice", port: 5001, id: 3)
        relay.udp.connections[alice]?.close(at: relay.now)
        _ = relay.pump()
        #expect(relay.core.statistics.peers == 0)
        relay.udp.connections[alice] = Connection(role: .client, id: ConnectionID(rawValue: 3), now: relay.now,
                                                  firstPacketNumber: 50_000)
        let sent = relay.pump().filter { $0.to == alice }
        #expect(sent.allSatisfy { RelayHarness.connectionID(of: $0.bytes) == 3 })
        #expect(relay.udp.connections[alice]?.state == .established)
        #expect(relay.core.statistics.peers == 1)
        #expect(relay.core.statistics.cookiesIssued == 2)
    }
}

@Suite("Relay receive memory (issue 8.5): per connection before joining, and relay-wide")
struct RelayReceiveBudgetTests {
    /// An out-of-order fragment (message `message`, fragment 0 of 2) from `endpoint`'s connection.
    static func earlyFragment(id: ConnectionID, packetNumber: UInt32, message: UInt32) -> [UInt8] {
        let fragment = FragmentHeader(channel: .reliableOrdered, messageNumber: message, fragmentIndex: 0, fragmentCount: 2)
        let payload = [UInt8](repeating: 0x41, count: Limits.maximumFragmentPayload)
        return Packet(header: PacketHeader(connectionID: id, packetNumber: packetNumber),
                      body: .data(fragment, payload: payload[...])).emit()
    }

    /// Specs/wire-format.md, section 4: What a forger can do never crashes an endpoint nor takes it over its memory
    /// budget.
    /// Specs/reliability.md, "Receive memory": The relay: 64 KiB before joining, the full budget after, and a
    /// relay-wide budget capping every connection.
    @Test("unjoined connections sending fragments that wait forever: each stays within its budget, the relay within its own")
    func unjoinedFloodIsBounded() {
        var configuration = RelayConfiguration()
        configuration.unjoinedReceiveBufferBudget = 4_000
        configuration.receiveBufferBudget = 10_000
        var relay = RelayHarness(configuration: configuration)
        var endpoints: [Endpoint] = []
        for port in UInt16(6001)...6005 { endpoints.append(relay.connectUDP(port: port)) }
        for (index, endpoint) in endpoints.enumerated() {
            let id = ConnectionID(rawValue: UInt32(endpoint.port))
            for message in UInt32(1)...10 {
                let before = relay.core.statistics.receiveBufferedBytes
                relay.core.handleDatagram(Self.earlyFragment(id: id, packetNumber: 100 + message, message: message),
                                          from: endpoint, at: relay.now)
                #expect(relay.core.statistics.receiveBufferedBytes - before <= 1_300)
            }
            #expect(relay.core.statistics.receiveBufferedBytes <= min(10_000, 4_000 * (index + 1)))
        }
        #expect(relay.core.statistics.receiveBudgetRefused >= 5 * 10 - 10_000 / 1_270)
        let held = relay.core.statistics.receiveBufferedBytes
        relay.udp.connections[endpoints[0]]?.close(at: relay.now)
        relay.pump()
        #expect(relay.core.statistics.receiveBufferedBytes < held, "a connection's bytes leave with it")
    }
}

extension RelayReceiveBudgetTests {
    /// Specs/reliability.md, "Receive memory": The relay: 64 KiB before joining, the full budget after, and a
    /// relay-wide budget capping every connection.
    @Test("a user who has joined gets the full per-connection budget instead of the small unjoined one")
    func joiningRaisesTheBudget() {
        var configuration = RelayConfiguration()
        configuration.unjoinedReceiveBufferBudget = 4_000
        var relay = RelayHarness(configuration: configuration)
        let alice = relay.joinUDP("alice", port: 5001, id: 21)
        for message in UInt32(10)...14 {
            relay.core.handleDatagram(Self.earlyFragment(id: ConnectionID(rawValue: 21), packetNumber: 1_000 + message,
                                                         message: message), from: alice, at: relay.now)
        }
        #expect(relay.core.statistics.receiveBufferedBytes == 5 * 1_270)
        #expect(relay.core.statistics.receiveBudgetRefused == 0)
    }
}

@Suite("Relay against the two-packet crash (issue 8.1)")
struct RelayInconsistentFragmentTests {
    /// Specs/wire-format.md, section 4: What a forger can do never crashes an endpoint nor takes it over its memory
    /// budget.
    /// Specs/wire-format.md, section 5: Fragments that disagree on the count: dropped before recording (never
    /// acknowledged), counted (`protocolViolations`), the connection stays open.
    @Test("fragment 1 of 2, then fragment 2 of 3 of one message: the relay counts it, stays up, and the user goes on")
    func twoPacketCrash() {
        var relay = RelayHarness()
        let alice = relay.joinUDP("alice", port: 5001, id: 11)
        let id = ConnectionID(rawValue: 11)
        for (number, index, count) in [(UInt32(1_000), UInt16(1), UInt16(2)), (1_001, 2, 3)] {
            let fragment = FragmentHeader(channel: .reliableOrdered, messageNumber: 5, fragmentIndex: index, fragmentCount: count)
            let payload: [UInt8] = [1]
            let packet = Packet(header: PacketHeader(connectionID: id, packetNumber: number), body: .data(fragment, payload: payload[...]))
            relay.core.handleDatagram(packet.emit(), from: alice, at: relay.now)
        }
        relay.pump()
        #expect(relay.core.statistics.peers == 1)
        relay.sendUDP(.who(room: "#lobby"), from: alice)
        #expect(!relay.takeUDP(alice).isEmpty, "alice is still served")
    }
}
