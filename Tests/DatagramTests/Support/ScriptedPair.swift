@testable import Datagram

extension Connection.Configuration {
    /// RFC 9002's values for the two timers this project shortens by default (max_ack_delay 25 ms,
    /// and a 10 ms probe timeout floor), so the scripted tests can use the RFC's round numbers.
    static var rfc9002: Connection.Configuration {
        var configuration = Connection.Configuration()
        configuration.maximumAckDelay = .milliseconds(25)
        configuration.minimumProbeTimeout = .milliseconds(10)
        return configuration
    }
}

extension Timestamp {
    /// Shorthand for scripted times in tests.
    static func ms(_ value: Double) -> Timestamp { Timestamp(sinceOrigin: .microseconds(Int64(value * 1000))) }
}

/// Helpers for tests that script every datagram and every instant by hand.
enum Script {
    static let id = ConnectionID(rawValue: 0xABCD_0001)

    /// A client and a server with a handshake scripted so the client's first RTT sample is 100 ms:
    /// HELLO at 0, WELCOME at 50, received at 100. The client's WELCOME is not yet acknowledged.
    static func establishedPair(_ configuration: Connection.Configuration = .rfc9002,
                                clientFirstPacketNumber: UInt32 = 0,
                                serverFirstPacketNumber: UInt32 = 0) -> (client: Connection, server: Connection) {
        var client = Connection(role: .client, id: id, configuration: configuration, now: .ms(0),
                                firstPacketNumber: clientFirstPacketNumber)
        var server = Connection(role: .server, id: id, configuration: configuration, now: .ms(50),
                                firstPacketNumber: serverFirstPacketNumber)
        let hello = client.pollTransmit(at: .ms(0))!
        server.handleDatagram(hello, at: .ms(50))
        let welcome = server.pollTransmit(at: .ms(50))!
        client.handleDatagram(welcome, at: .ms(100))
        drainEvents(&client)
        drainEvents(&server)
        return (client, server)
    }

    static func drainEvents(_ connection: inout Connection) {
        while connection.pollEvent() != nil {}
    }

    static func events(_ connection: inout Connection) -> [Connection.Event] {
        var events: [Connection.Event] = []
        while let event = connection.pollEvent() { events.append(event) }
        return events
    }

    static func transmitAll(_ connection: inout Connection, at now: Timestamp) -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        while let datagram = connection.pollTransmit(at: now) { datagrams.append(datagram) }
        return datagrams
    }

    static func packet(_ datagram: [UInt8]) -> Packet { try! Packet.parse(datagram) }

    static func fragment(_ datagram: [UInt8]) -> FragmentHeader? {
        if case let .data(fragment, _) = packet(datagram).body { return fragment }
        return nil
    }
}
