@testable import Datagram
import Testing

/// Specs/reliability.md, "Copies of small messages under loss": after a declared loss, a small
/// reliable message goes twice, in two datagrams, and the receiver delivers it once from whichever
/// arrives; before any loss nothing is copied.
@Suite("Copies of small messages under loss")
struct RedundantCopyTests {
    static var configuration: Connection.Configuration {
        var configuration = Connection.Configuration.rfc9002
        configuration.coalescesPackets = true
        configuration.copiesSmallMessagesUnderLoss = true
        return configuration
    }

    /// Specs/reliability.md, "Copies of small messages under loss": after a declared loss a small
    /// reliable message goes in two datagrams; the copy alone delivers it, once.
    @Test func aSmallMessageGoesTwiceAfterALossAndArrivesFromTheCopyAlone() throws {
        var (client, server) = Script.establishedPair(Self.configuration)
        // Before any loss: one datagram per message.
        try client.send([1], at: .ms(100))
        let first = Script.transmitAll(&client, at: .ms(100))
        #expect(first.count == 1)
        for datagram in first { server.handleDatagram(datagram, at: .ms(105)) }
        // A loss: of four messages sent one by one, the first datagram is dropped; the server's
        // acknowledgement of the other three makes the client declare it lost (packet threshold).
        var sent: [[UInt8]] = []
        for value in UInt8(10)...13 {
            try client.send([value], at: .ms(110))
            sent += Script.transmitAll(&client, at: .ms(110))
        }
        for datagram in sent.dropFirst() { server.handleDatagram(datagram, at: .ms(115)) }
        for datagram in Script.transmitAll(&server, at: .ms(115)) { client.handleDatagram(datagram, at: .ms(120)) }
        #expect(client.statistics.packetsLost >= 1)
        for datagram in Script.transmitAll(&client, at: .ms(120)) { server.handleDatagram(datagram, at: .ms(125)) }
        _ = Script.events(&server)
        // Now a small message goes twice, in two datagrams; the first is dropped, the copy delivers it.
        let copiesBefore = client.statistics.redundantCopies
        try client.send([42], at: .ms(130))
        let twice = Script.transmitAll(&client, at: .ms(130))
        #expect(twice.count == 2)
        #expect(client.statistics.redundantCopies == copiesBefore + 1)
        server.handleDatagram(twice[1], at: .ms(135))
        let delivered = Script.events(&server).compactMap { event -> [UInt8]? in
            if case let .message(bytes, _) = event { return bytes }
            return nil
        }
        #expect(delivered == [[42]])
        // The original arriving late is a duplicate: nothing is delivered twice.
        server.handleDatagram(twice[0], at: .ms(136))
        #expect(!Script.events(&server).contains { if case .message = $0 { true } else { false } })
    }

    /// Specs/reliability.md, "Copies of small messages under loss": a message over 512 bytes, or of
    /// more than one fragment, is never copied.
    @Test func aLargeMessageIsNotCopied() throws {
        var (client, server) = Script.establishedPair(Self.configuration)
        var sent: [[UInt8]] = []
        for value in UInt8(10)...13 {
            try client.send([value], at: .ms(110))
            sent += Script.transmitAll(&client, at: .ms(110))
        }
        for datagram in sent.dropFirst() { server.handleDatagram(datagram, at: .ms(115)) }
        for datagram in Script.transmitAll(&server, at: .ms(115)) { client.handleDatagram(datagram, at: .ms(120)) }
        _ = Script.transmitAll(&client, at: .ms(120))
        let copiesBefore = client.statistics.redundantCopies
        try client.send([UInt8](repeating: 7, count: Limits.redundantCopyPayload + 1), at: .ms(130))
        #expect(Script.transmitAll(&client, at: .ms(130)).count == 1)
        #expect(client.statistics.redundantCopies == copiesBefore)
    }
}
