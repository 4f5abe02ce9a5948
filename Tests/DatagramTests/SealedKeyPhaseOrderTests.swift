@testable import Datagram
import Testing

/// Packets open where they lie (Specs/noise.md section 5): a packet of the other key phase may be
/// tried under the previous key and then the next one, so a failed attempt must leave the packet
/// intact for the next. A scripted rotation every two packets, delivered out of order.
@Suite("Sealed packets of both key phases, out of order")
struct SealedKeyPhaseOrderTests {
    @Test("a packet that fails under the previous key still opens under the next; late packets open under the previous")
    func previousThenNextKey() throws {
        var (client, server) = SealedConnectionTests.established(rekeyInterval: 2)
        var datagrams: [[UInt8]] = []
        for index in 0..<6 {
            try client.send([UInt8(index)], at: .ms(200))
            datagrams += Script.transmitAll(&client, at: .ms(200))
        }
        #expect(datagrams.count == 6)
        let phases = datagrams.map { $0[HeaderLayout.flagsOffset] & HeaderLayout.keyPhaseFlag != 0 }
        #expect(phases == [false, false, true, true, false, false], "a new key every two packets")
        // 3 rotates the server to key 1; 2 opens under the previous key 0; 5 fails under key 0, then
        // opens under key 2; 4 opens under the previous key 1.
        for index in [0, 2, 1, 4, 3, 5] { server.handleDatagram(datagrams[index], at: .ms(210)) }
        #expect(SealedConnectionTests.messages(&server) == (0..<6).map { [UInt8($0)] })
        #expect(server.statistics.unopenedDropped == 0)
        #expect(server.statistics.keyUpdatesReceived == 2)
    }

    @Test("the datagram handed in is left as it was, and a second copy of it is a duplicate")
    func inputUntouched() throws {
        var (client, server) = SealedConnectionTests.established()
        try client.send(Array("in place".utf8), at: .ms(200))
        let datagram = Script.transmitAll(&client, at: .ms(200))[0]
        let copy = datagram
        server.handleDatagram(datagram, at: .ms(210))
        #expect(datagram == copy)
        #expect(SealedConnectionTests.messages(&server) == [Array("in place".utf8)])
        server.handleDatagram(datagram, at: .ms(220))
        #expect(SealedConnectionTests.messages(&server).isEmpty)
        #expect(server.statistics.unopenedDropped == 0)
    }
}
