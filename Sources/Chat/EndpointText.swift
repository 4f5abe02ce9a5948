/// An endpoint as text (Specs/chat-protocol.md, section 4.7): IPv4 `a.b.c.d:port` in decimal, IPv6
/// `[address]:port` with the address in the RFC 5952 form. The one formatter the relay's `Endpoint`
/// and Transport's `SocketAddress` both use.
public enum EndpointText {
    /// `127.0.0.1:53122` or `[::1]:9000`.
    public static func endpoint(ip: [UInt8], port: UInt16) -> String {
        ip.count == 16 ? "[\(address(ip))]:\(port)" : "\(address(ip)):\(port)"
    }

    /// The address alone: 4 bytes in dotted decimal, 16 bytes as `ipv6(_:)`; any other length (which
    /// no socket gives) as dot-separated hex bytes, so a bad value still prints.
    public static func address(_ ip: [UInt8]) -> String {
        switch ip.count {
        case 4: ip.map(String.init).joined(separator: ".")
        case 16: ipv6(ip)
        default: ip.map { String($0, radix: 16) }.joined(separator: ".")
        }
    }

    /// RFC 5952, section 4: lower-case hex, leading zeros dropped, the longest run of two or more zero
    /// groups as `::` (the first of equally long runs; a lone zero group stays `0`). `ip` must hold 16
    /// bytes; any other length is printed as by `address(_:)`.
    public static func ipv6(_ ip: [UInt8]) -> String {
        guard ip.count == 16 else { return address(ip) }
        let groups = (0..<8).map { UInt16(ip[2 * $0]) << 8 | UInt16(ip[2 * $0 + 1]) }
        var best = (start: 0, length: 0)
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8, groups[end] == 0 { end += 1 }
            if end - index > best.length { best = (index, end - index) }
            index = end
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let head = hex[..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }
}
