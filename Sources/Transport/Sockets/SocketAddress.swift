import Chat

/// An IPv4 or IPv6 address with a port: where a datagram came from or goes to.
///
/// A plain value (Hashable, Sendable), so a relay can key its peer table by it. Text forms are
/// `127.0.0.1:9000` and `[::1]:9000`, both for `description` and for `init(parsing:)`, which also
/// accepts host names (`localhost:9000`).
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Hashable {
        /// IPv4: 4-byte addresses.
        case ipv4
        /// IPv6: 16-byte addresses.
        case ipv6
    }

    /// The IP address, held inline (no allocation per datagram received).
    public let ip: InlineIPAddress
    /// The port, in host byte order.
    public let port: UInt16

    /// The IP address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public var ipBytes: [UInt8] { ip.bytes }

    /// Creates an address from its IP bytes (4 or 16, network order) and a port.
    ///
    /// - Precondition: `ipBytes.count` is 4 or 16.
    public init(ipBytes: some Collection<UInt8>, port: UInt16) {
        self.init(ip: InlineIPAddress(ipBytes), port: port)
    }

    /// Creates an address from an inline IP address (4 or 16 bytes) and a port.
    ///
    /// - Precondition: `ip.count` is 4 or 16.
    public init(ip: InlineIPAddress, port: UInt16) {
        precondition(ip.count == 4 || ip.count == 16, "an IP address is 4 or 16 bytes")
        self.ip = ip
        self.port = port
    }

    /// The family, from the length of the IP address.
    public var family: Family {
        ip.count == 4 ? .ipv4 : .ipv6
    }

    /// The IP address bytes followed by the port's 2 bytes (big-endian): what `CookieJar.respond`
    /// takes as `address`. 6 bytes for IPv4, 18 for IPv6.
    public var addressBytes: [UInt8] {
        ipBytes + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    /// `127.0.0.1:9000` or `[::1]:9000`; `init(parsing:)` reads it back.
    public var description: String { EndpointText.endpoint(ip: ipBytes, port: port) }

    /// True for 127.0.0.0/8 and ::1.
    public var isLoopback: Bool {
        switch family {
        case .ipv4: ip[0] == 127
        case .ipv6: ip == SocketAddress.loopbackIPv6(port: 0).ip
        }
    }

    /// The same IP address with another port.
    public func withPort(_ port: UInt16) -> SocketAddress {
        SocketAddress(ip: ip, port: port)
    }

    /// `127.0.0.1:port`.
    public static func loopbackIPv4(port: UInt16) -> SocketAddress {
        SocketAddress(ipBytes: [127, 0, 0, 1], port: port)
    }

    /// `[::1]:port`.
    public static func loopbackIPv6(port: UInt16) -> SocketAddress {
        SocketAddress(ipBytes: [UInt8](repeating: 0, count: 15) + [1], port: port)
    }

    /// `0.0.0.0:port`: every IPv4 interface, for binding.
    public static func anyIPv4(port: UInt16) -> SocketAddress {
        SocketAddress(ipBytes: [0, 0, 0, 0], port: port)
    }

    /// `[::]:port`: every IPv6 interface, for binding.
    public static func anyIPv6(port: UInt16) -> SocketAddress {
        SocketAddress(ipBytes: [UInt8](repeating: 0, count: 16), port: port)
    }

    /// The wildcard address of `family`, for binding.
    public static func any(_ family: Family, port: UInt16 = 0) -> SocketAddress {
        family == .ipv4 ? anyIPv4(port: port) : anyIPv6(port: port)
    }
}
