import Chat
import Testing

@Suite("Endpoint text (section 4.7): IPv4 in decimal, IPv6 in the RFC 5952 form")
struct EndpointTextTests {
    func ip6(_ groups: [UInt16]) -> [UInt8] { groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } }

    /// Specs/chat-protocol.md, section 4.7: Endpoint text (IPv4, IPv6 per RFC 5952); an address only to its owner:
    /// `joined` carries the transport, WHO_LIST rows of others have an empty endpoint.
    @Test func formatsIPv6Canonically() {
        let bytes: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
        #expect(EndpointText.ipv6(bytes) == "2001:db8:0:1::1")
    }

    /// RFC 5952, section 4, one case per rule (groups, text).
    static let rfc5952Cases: [([UInt16], String)] = [
        // 4.1: leading zeros dropped.
        ([0x2001, 0x0db8, 0, 0, 0, 0, 0x0002, 0x0001], "2001:db8::2:1"),
        // 4.2.1: '::' as long as possible.
        ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
        // 4.2.2: a single zero group is not shortened.
        ([0x2001, 0x0db8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"),
        // 4.2.3: the longest run is shortened ...
        ([0x2001, 0, 0, 1, 0, 0, 0, 1], "2001:0:0:1::1"),
        // ... and of equal runs, the first.
        ([0x2001, 0x0db8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"),
        // 4.3: lower case.
        ([0x2001, 0x0DB8, 0xABCD, 0xEF00, 0, 0, 0, 0x00FF], "2001:db8:abcd:ef00::ff"),
        // The edges: all zero, loopback, a run at the end, no zeros at all.
        ([0, 0, 0, 0, 0, 0, 0, 0], "::"),
        ([0, 0, 0, 0, 0, 0, 0, 1], "::1"),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], "fe80::"),
        ([1, 2, 3, 4, 5, 6, 7, 8], "1:2:3:4:5:6:7:8"),
    ]

    /// Specs/chat-protocol.md, section 4.7: Endpoint text (IPv4, IPv6 per RFC 5952); an address only to its owner:
    /// `joined` carries the transport, WHO_LIST rows of others have an empty endpoint.
    @Test("RFC 5952 section 4: the examples and rules, one case each", arguments: rfc5952Cases)
    func rfc5952(groups: [UInt16], text: String) {
        #expect(EndpointText.ipv6(ip6(groups)) == text)
    }

    /// Specs/chat-protocol.md, section 4.7: Endpoint text (IPv4, IPv6 per RFC 5952); an address only to its owner:
    /// `joined` carries the transport, WHO_LIST rows of others have an empty endpoint.
    @Test("an endpoint is a.b.c.d:port or [address]:port")
    func endpoints() {
        #expect(EndpointText.endpoint(ip: [127, 0, 0, 1], port: 53122) == "127.0.0.1:53122")
        #expect(EndpointText.endpoint(ip: ip6([0, 0, 0, 0, 0, 0, 0, 1]), port: 9000) == "[::1]:9000")
        #expect(EndpointText.address([1, 2, 3]) == "1.2.3", "a length no socket gives still prints")
    }
}
