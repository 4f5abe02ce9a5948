import Chat
import Datagram

/// Where a peer is: its transport, IP address bytes and port, as the driver received them.
///
/// The relay core never parses or resolves addresses; it only keys its peer table by them and prints
/// them. `address` is 4 bytes for IPv4 or 16 for IPv6.
///
/// A plain value with no references: the relay looks endpoints up, copies and hashes them for every
/// datagram, so the address is held inline (`InlineIPAddress`), not in an array.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// UDP (Datagram connection) or TCP (framed stream).
    public var transport: TransportKind
    /// The IP address, inline.
    public var ip: InlineIPAddress
    /// The port.
    public var port: UInt16

    /// The IP address in network byte order: 4 bytes (IPv4) or 16 bytes (IPv6).
    public var address: [UInt8] {
        get { ip.bytes }
        set { ip = InlineIPAddress(newValue) }
    }

    /// Creates an endpoint.
    public init(transport: TransportKind, address: [UInt8], port: UInt16) {
        self.init(transport: transport, ip: InlineIPAddress(address), port: port)
    }

    /// Creates an endpoint from an inline address.
    public init(transport: TransportKind, ip: InlineIPAddress, port: UInt16) {
        self.transport = transport
        self.ip = ip
        self.port = port
    }

    public static func == (lhs: Endpoint, rhs: Endpoint) -> Bool {
        lhs.port == rhs.port && lhs.transport == rhs.transport && lhs.ip == rhs.ip
    }

    /// The endpoint as one word: the address folded, the port and transport mixed in.
    private var word: UInt64 {
        ip.folded ^ (UInt64(port) << 40 | UInt64(transport.rawValue) << 56).byteSwapped
    }

    /// One `combine` of one word.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(word)
    }

    /// What `Dictionary` and `Set` call instead of `hash(into:)`: the word under the table's seed,
    /// through a multiply-xorshift mix (a bijection on 64 bits, a dozen instructions), not SipHash.
    ///
    /// The relay looks endpoints up some twenty times per datagram, in tables of up to tens of
    /// thousands of peers; SipHash's set-up and finalisation were a fifth of its time per keepalive
    /// (`bench relay-scale`, issue 13). SipHash is there against hash flooding: keys chosen to
    /// collide. Here every key in a table is a peer that answered a cookie from its address (a
    /// spoofed source never gets past `CookieJar`) and the relay holds a few connections per address
    /// (per /64 for IPv6: `maximumConnectionsPerAddress`, 32 by default). An attacker therefore needs one real
    /// address per colliding key, and must find collisions under a per-table random seed it never
    /// sees.
    public func _rawHashValue(seed: Int) -> Int {
        var x = word ^ UInt64(UInt(bitPattern: seed))
        x = (x ^ x >> 32) &* 0xD6E8_FEB8_6659_FD93
        x = (x ^ x >> 32) &* 0xD6E8_FEB8_6659_FD93
        return Int(truncatingIfNeeded: x ^ x >> 32)
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
