import Testing
@testable import Datagram

@Suite("Tracing reports packet fates, and only when switched on")
struct TracingTests {
    func fates(_ events: [Connection.Event]) -> [PacketFate] {
        events.compactMap { if case let .trace(fate) = $0 { fate } else { nil } }
    }

    @Test("sent, acknowledged with its RTT sample, duplicate, corrupt, probe timeout")
    func everyFate() throws {
        var (client, server) = Script.establishedPair()
        client.isTracing = true
        server.isTracing = true
        let id = try client.send([1, 2, 3], at: .ms(100))
        let data = Script.transmitAll(&client, at: .ms(100))
        let number = Script.packet(data[0]).header.packetNumber
        #expect(fates(Script.events(&client)).contains { fate in
            if case let .sent(packetNumber, type, bytes, message, fragment, _) = fate {
                return packetNumber == number && type == "DATA" && bytes == 45 && message == id && fragment == 0
            }
            return false
        })
        server.handleDatagram(data[0], at: .ms(150))
        server.handleDatagram(data[0], at: .ms(151))
        var corrupted = data[0]
        corrupted[40] ^= 1
        server.handleDatagram(corrupted, at: .ms(152))
        let serverFates = fates(Script.events(&server))
        #expect(serverFates.contains(.duplicateDropped(packetNumber: number)))
        #expect(serverFates.contains(.corruptDropped(bytes: 45, reason: "checksum mismatch")))
        let ack = Script.transmitAll(&server, at: .ms(152))
        client.handleDatagram(ack[0], at: .ms(200))
        let events = Script.events(&client)
        #expect(fates(events).contains(.acknowledged(packetNumber: number, rttSample: .milliseconds(100))))
        #expect(events.contains(.acknowledged(id)))

        client.isTracing = false
        try client.send([4], at: .ms(200))
        _ = Script.transmitAll(&client, at: .ms(200))
        #expect(fates(Script.events(&client)).isEmpty)
        client.isTracing = true
        let deadline = client.nextDeadline!
        client.handleTimeout(at: deadline)
        #expect(fates(Script.events(&client)).contains { if case .probeTimeout(count: 1, _) = $0 { true } else { false } })
    }
}
