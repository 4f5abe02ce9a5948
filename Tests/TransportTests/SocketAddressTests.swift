import Testing
@testable import Transport

@Suite("SocketAddress")
struct SocketAddressTests {
    @Test("parses and prints IPv4 host:port", arguments: ["127.0.0.1:9000", "10.1.2.3:0", "0.0.0.0:65535"])
    func ipv4RoundTrip(text: String) throws {
        let address = try SocketAddress(parsing: text)
        #expect(address.family == .ipv4)
        #expect(address.description == text)
    }

    @Test("parses and prints bracketed IPv6", arguments: ["[::1]:9000", "[fe80::1:2]:53", "[2001:db8::]:1", "[::]:0"])
    func ipv6RoundTrip(text: String) throws {
        let address = try SocketAddress(parsing: text)
        #expect(address.family == .ipv6)
        #expect(address.description == text)
    }

    @Test func resolvesLocalhostToLoopback() throws {
        let address = try SocketAddress(parsing: "localhost:9000")
        #expect(address.isLoopback)
        #expect(address.port == 9000)
    }

    @Test func hostAndSeparatePort() throws {
        #expect(try SocketAddress(host: "127.0.0.1", port: 7).description == "127.0.0.1:7")
        #expect(try SocketAddress(host: "::1", port: 7).description == "[::1]:7")
        #expect(try SocketAddress(host: "[::1]", port: 7) == .loopbackIPv6(port: 7))
    }

    /// Specs/wire-format.md, section 6: The cookie: issue time and a SipHash-2-4 MAC over the address (4 or 16 bytes,
    /// v4-mapped as IPv4), port, connection id and time.
    @Test func cookieAddressBytesAreIPThenBigEndianPort() {
        let address = SocketAddress(ipBytes: [127, 0, 0, 1], port: 0x2328)
        #expect(address.addressBytes == [127, 0, 0, 1, 0x23, 0x28])
        #expect(SocketAddress.loopbackIPv6(port: 1).addressBytes.count == 18)
    }

    @Test func rejectsBadInput() {
        #expect(throws: AddressParseError.missingPort("127.0.0.1")) { try SocketAddress(parsing: "127.0.0.1") }
        #expect(throws: AddressParseError.invalidPort("70000")) { try SocketAddress(parsing: "127.0.0.1:70000") }
        #expect(throws: AddressParseError.malformed("::1:9000")) { try SocketAddress(parsing: "::1:9000") }
        #expect(throws: AddressParseError.malformed("[::1:9000")) { try SocketAddress(parsing: "[::1:9000") }
        #expect(throws: AddressParseError.invalidPort("")) { try SocketAddress(parsing: "127.0.0.1:") }
    }
}
