import Testing
@testable import Datagram

@Suite("CLOSE codes")
struct CloseCodeTests {
    /// Specs/wire-format.md, section 7: CLOSE codes: 0 normal, 1 idle timeout, 2 protocol error, 3 shutting down, 4
    /// refused.
    @Test("the named close codes are the bytes section 7 gives them")
    func namedCodes() {
        #expect([CloseCode.normal, .idleTimeout, .protocolError, .shuttingDown, .refused].map(\.rawValue) == [0, 1, 2, 3, 4])
        #expect(CloseCode.shuttingDown.description == "shutting down (3)")
    }

    /// Specs/wire-format.md, section 7: CLOSE codes: 0 normal, 1 idle timeout, 2 protocol error, 3 shutting down, 4
    /// refused.
    @Test("a CLOSE with a code the spec does not name is kept as it is, on the wire and in the close reason")
    func unknownCodeKept() {
        var (client, server) = Script.establishedPair()
        server.close(code: CloseCode(rawValue: 200), at: .ms(100))
        let out = Script.transmitAll(&server, at: .ms(100))
        #expect(out.map { Script.packet($0).body } == [.close(code: CloseCode(rawValue: 200))])
        #expect(out.first?.last == 200, "the code is the body's one byte")
        Script.drainEvents(&client)
        for datagram in out { client.handleDatagram(datagram, at: .ms(150)) }
        #expect(Script.events(&client) == [.closed(.peer(code: CloseCode(rawValue: 200)))])
        #expect(CloseCode(rawValue: 200).description == "code 200")
    }
}
