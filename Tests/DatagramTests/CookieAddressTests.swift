import Testing
@testable import Datagram

@Suite("Cookie MAC input for IPv4, IPv6 and IPv4-mapped addresses (issue 9.16; wire format, section 6)")
struct CookieAddressTests {
    static let ipv6: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]   // 2001:db8::1
    static let mapped: [UInt8] = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 192, 0, 2, 1]    // ::ffff:192.0.2.1

    /// Specs/wire-format.md, section 6: The cookie: issue time and a SipHash-2-4 MAC over the address (4 or 16 bytes,
    /// v4-mapped as IPv4), port, connection id and time.
    @Test("the address input is the IP address bytes (4 or 16) then the big-endian port; v4-mapped is its IPv4 address")
    func addressInput() {
        #expect(CookieJar.addressInput(ip: [192, 0, 2, 1], port: 8080) == [192, 0, 2, 1, 0x1F, 0x90])
        #expect(CookieJar.addressInput(ip: Self.mapped, port: 8080) == [192, 0, 2, 1, 0x1F, 0x90])
        #expect(CookieJar.addressInput(ip: Self.ipv6, port: 8080) == Self.ipv6 + [0x1F, 0x90])
    }

    /// Specs/wire-format.md, section 6: The cookie: issue time and a SipHash-2-4 MAC over the address (4 or 16 bytes,
    /// v4-mapped as IPv4), port, connection id and time.
    @Test("IPv6 vector: 2001:db8::1 port 8080, connection 0x1234ABCD, issued at 10,000 ms, key 00..0f")
    func ipv6Vector() {
        let jar = CookieJar(secret: WireVectors.secret)
        let cookie = jar.makeCookie(id: WireVectors.id, address: CookieJar.addressInput(ip: Self.ipv6, port: 8080),
                                    at: WireVectors.cookieIssueTime)
        #expect(cookie == [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x27, 0x10, 0x25, 0x8A, 0x42, 0x94, 0x59, 0x9E, 0x47, 0x0E])
    }

    /// Specs/wire-format.md, section 6: The cookie: issue time and a SipHash-2-4 MAC over the address (4 or 16 bytes,
    /// v4-mapped as IPv4), port, connection id and time.
    @Test("a client seen as ::ffff:192.0.2.1 gets the same cookie as 192.0.2.1 (the COOKIE vector's)")
    func mappedMatchesIPv4() {
        let jar = CookieJar(secret: WireVectors.secret)
        let cookie = jar.makeCookie(id: WireVectors.id, address: CookieJar.addressInput(ip: Self.mapped, port: 8080),
                                    at: WireVectors.cookieIssueTime)
        #expect(cookie == WireVectors.cookie)
    }
}
