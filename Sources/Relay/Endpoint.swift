import Chat
import Datagram

/// Where a peer is: its transport, IP address bytes and port, as the driver received them.
///
/// The relay core never parses or resolves addresses; it only keys its peer table by them and prints
/// them. `address` is 4 bytes for IPv4 or 16 for IPv6.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// UDP (Datagram connection) or TCP (framed stream).
    public var transport: TransportKind
    /// The IP address in network byte order: 4 bytes (IPv4) or 16 bytes (IPv6).
    public var address: [UInt8]
    /// The port.
    public var port: UInt16

    /// Creates an endpoint.
    public init(transport: TransportKind, address: [UInt8], port: UInt16) {
        self.transport = transport
        self.address = address
        self.port = port
    }

    /// `127.0.0.1:5000` or `[::1]:5000`.
    public var addressDescription: String {
        EndpointText.endpoint(ip: address, port: port)
    }

    /// `127.0.0.1:5000 udp`.
    public var description: String { "\(addressDescription) \(transport)" }

    /// The bytes a `CookieJar` binds its cookie to: the address (an IPv4-mapped IPv6 address as its 4
    /// IPv4 bytes) followed by the big-endian port (wire format, section 6).
    public var cookieAddress: [UInt8] { CookieJar.addressInput(ip: address, port: port) }
}
