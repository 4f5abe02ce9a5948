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
        if address.count == 4 {
            return address.map(String.init).joined(separator: ".") + ":\(port)"
        }
        return "[\(Self.describeIPv6(address))]:\(port)"
    }

    /// `127.0.0.1:5000 udp`.
    public var description: String { "\(addressDescription) \(transport)" }

    /// The bytes a `CookieJar` binds its cookie to: the address (an IPv4-mapped IPv6 address as its 4
    /// IPv4 bytes) followed by the big-endian port (wire format, section 6).
    public var cookieAddress: [UInt8] { CookieJar.addressInput(ip: address, port: port) }

    private static func describeIPv6(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return bytes.map { String($0, radix: 16) }.joined(separator: ".") }
        let groups = stride(from: 0, to: 16, by: 2).map { Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]) }
        let run = longestZeroRun(groups)
        func hex(_ slice: ArraySlice<Int>) -> String { slice.map { String($0, radix: 16) }.joined(separator: ":") }
        guard let run, run.count > 1 else { return hex(groups[...]) }
        return hex(groups[..<run.lowerBound]) + "::" + hex(groups[run.upperBound...])
    }

    private static func longestZeroRun(_ groups: [Int]) -> Range<Int>? {
        var best: Range<Int>?
        var start: Int?
        for index in 0...groups.count {
            if index < groups.count, groups[index] == 0 {
                if start == nil { start = index }
            } else if let begin = start {
                if (best?.count ?? 0) < index - begin { best = begin..<index }
                start = nil
            }
        }
        return best
    }
}
