import Chat
import Relay
import Testing

/// Specs/chat-protocol.md, section 4.7: Endpoint text (IPv4, IPv6 per RFC 5952); an address only to its owner:
/// `joined` carries the transport, WHO_LIST rows of others have an empty endpoint.
@Test func endpointDescriptions() {
    #expect(Endpoint(transport: .udp, address: [127, 0, 0, 1], port: 5000).description == "127.0.0.1:5000 udp")
    let loopback6 = Endpoint(transport: .tcp, address: Array(repeating: 0, count: 15) + [1], port: 7)
    #expect(loopback6.description == "[::1]:7 tcp")
    #expect(Endpoint(transport: .udp, address: [10, 0, 0, 2], port: 0x1234).cookieAddress == [10, 0, 0, 2, 0x12, 0x34])
}
