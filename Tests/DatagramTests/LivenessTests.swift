import Testing
@testable import Datagram

@Suite("Keepalive, idle timeout, close and reset")
struct LivenessTests {
    /// An established client with nothing outstanding: its WELCOME acknowledged at 125 ms by an ACK.
    func quietClient(_ configuration: Configuration = Configuration()) -> Connection {
        var (client, _) = Script.establishedPair(configuration)
        client.handleTimeout(at: .ms(125))
        #expect(Script.transmitAll(&client, at: .ms(125)).map { Script.packet($0).type } == [.ack])
        return client
    }

    @Test("a PING goes out exactly keepaliveInterval after the last ack-eliciting packet")
    func keepalive() {
        var client = quietClient()
        #expect(client.nextDeadline == .ms(2100))
        client.handleTimeout(at: .ms(2099.999))
        #expect(client.pollTransmit(at: .ms(2099.999)) == nil)
        client.handleTimeout(at: .ms(2100))
        #expect(Script.transmitAll(&client, at: .ms(2100)).map { Script.packet($0).type } == [.ping])
    }

    @Test("idle timeout closes exactly idleTimeout after the last packet received, with CLOSE 1")
    func idleTimeout() {
        var configuration = Configuration()
        configuration.keepaliveInterval = .seconds(60)
        var client = quietClient(configuration)
        #expect(client.nextDeadline == .ms(10_100))
        client.handleTimeout(at: .ms(10_099.999))
        #expect(client.state == .established)
        client.handleTimeout(at: .ms(10_100))
        #expect(client.state == .closed(.idleTimeout))
        #expect(Script.events(&client) == [.closed(.idleTimeout)])
        let close = Script.transmitAll(&client, at: .ms(10_100))
        #expect(close.map { Script.packet($0).body } == [.close(code: 1)])
        #expect(client.nextDeadline == nil)
    }

    @Test("close sends one CLOSE; the peer ends with .peer(code:)")
    func closeByPeer() {
        var (client, server) = Script.establishedPair()
        server.close(code: 3, at: .ms(100))
        #expect(Script.events(&server) == [.closed(.local)])
        let out = Script.transmitAll(&server, at: .ms(100))
        #expect(out.map { Script.packet($0).body } == [.close(code: 3)])
        client.handleDatagram(out[0], at: .ms(150))
        #expect(Script.events(&client) == [.closed(.peer(code: 3))])
        #expect(Script.transmitAll(&client, at: .ms(150)).isEmpty, "a CLOSE is not answered")
        #expect(throws: SendError.connectionClosed) { try client.send([1], at: .ms(150)) }
    }

    @Test("a RESET for our id closes with .reset; unacknowledged messages are handed back")
    func reset() throws {
        var (client, _) = Script.establishedPair()
        try client.send([1], at: .ms(100))
        try client.send([2, 2], at: .ms(100))
        _ = Script.transmitAll(&client, at: .ms(100))
        let reset = Packet(header: PacketHeader(connectionID: Script.id, packetNumber: 0), body: .reset).emit()
        client.handleDatagram(reset, at: .ms(150))
        #expect(Script.events(&client) == [.closed(.reset)])
        #expect(Script.transmitAll(&client, at: .ms(150)).isEmpty, "a RESET is never answered")
        #expect(client.takeUnacknowledgedMessages() == [[1], [2, 2]])
        #expect(client.takeUnacknowledgedMessages().isEmpty)
    }

    @Test("a packet for another connection id is counted and ignored")
    func foreignID() {
        var (client, _) = Script.establishedPair()
        let foreign = Packet(header: PacketHeader(connectionID: ConnectionID(rawValue: 1), packetNumber: 0), body: .reset)
        client.handleDatagram(foreign.emit(), at: .ms(150))
        #expect(client.state == .established)
        #expect(client.statistics.malformedDropped == 1)
    }
}
