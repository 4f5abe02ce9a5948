import Glibc

/// Why text could not be turned into a `SocketAddress`.
public enum AddressParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No `:port` where one was required (`"127.0.0.1"`).
    case missingPort(String)
    /// The port is not a number from 0 to 65535.
    case invalidPort(String)
    /// `[` without a matching `]`, or text after the `]` that is not `:port`.
    case malformed(String)
    /// The host is neither an IP address nor a name the resolver knows.
    case unknownHost(String, reason: String)

    /// A sentence for an `Error: ...` line.
    public var description: String {
        switch self {
        case .missingPort(let text): "'\(text)' has no port (expected host:port, for example 127.0.0.1:9000)"
        case .invalidPort(let text): "'\(text)' is not a port number (0-65535)"
        case .malformed(let text): "'\(text)' is not an address (expected 127.0.0.1:9000 or [::1]:9000)"
        case .unknownHost(let host, let reason): "cannot resolve host '\(host)': \(reason)"
        }
    }
}

extension SocketAddress {
    /// Parses `127.0.0.1:9000`, `[::1]:9000` or `localhost:9000`.
    ///
    /// Host names are resolved with `getaddrinfo` (which may block on DNS); IPv4 results are preferred
    /// when a name has both, so `localhost` means 127.0.0.1.
    public init(parsing text: String) throws(AddressParseError) {
        let (host, portText) = try SocketAddress.split(text)
        guard let port = UInt16(portText) else { throw .invalidPort(portText) }
        try self.init(host: host, port: port)
    }

    /// Resolves `host` (an IPv4 or IPv6 literal, without brackets, or a name) with a separate `port`.
    public init(host: String, port: UInt16) throws(AddressParseError) {
        var bare = host
        if bare.hasPrefix("[") && bare.hasSuffix("]") { bare = String(bare.dropFirst().dropLast()) }
        if let bytes = SocketAddress.parseLiteral(bare) {
            self.init(ipBytes: bytes, port: port)
            return
        }
        guard !bare.isEmpty else { throw .malformed(host) }
        self.init(ipBytes: try SocketAddress.resolve(bare), port: port)
    }

    /// Splits `host:port` or `[v6]:port` at the port's colon.
    private static func split(_ text: String) throws(AddressParseError) -> (host: String, port: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .malformed(text) }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw rest.isEmpty ? .missingPort(text) : .malformed(text) }
            return (host, String(rest.dropFirst()))
        }
        guard let colon = text.lastIndex(of: ":") else { throw .missingPort(text) }
        let host = String(text[..<colon])
        // More than one colon without brackets is a bare IPv6 address, which needs brackets to carry a port.
        guard !host.contains(":") else { throw .malformed(text) }
        return (host, String(text[text.index(after: colon)...]))
    }

    /// The bytes of an IPv4 or IPv6 literal (`inet_pton`), or nil.
    static func parseLiteral(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// Looks `name` up with `getaddrinfo`, preferring the first IPv4 answer.
    private static func resolve(_ name: String) throws(AddressParseError) -> [UInt8] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw .unknownHost(name, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var candidates: [[UInt8]] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr, let parsed = SocketAddress(address) {
                candidates.append(parsed.ipBytes)
            }
            entry = current.pointee.ai_next
        }
        guard let chosen = candidates.first(where: { $0.count == 4 }) ?? candidates.first else {
            throw .unknownHost(name, reason: "no IPv4 or IPv6 address")
        }
        return chosen
    }
}
