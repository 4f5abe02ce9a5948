import Glibc
import Chat

// Conversions between `SocketAddress` and the kernel's `sockaddr_in` / `sockaddr_in6`.
extension SocketAddress {
    /// Reads a `sockaddr` of family `AF_INET` or `AF_INET6`; nil for any other family.
    init?(_ address: UnsafePointer<sockaddr>) {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            let v4 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
            var ip = v4.sin_addr
            self.init(ip: withUnsafeBytes(of: &ip) { InlineIPAddress($0) }, port: UInt16(bigEndian: v4.sin_port))
        case AF_INET6:
            let v6 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self)
            var ip = v6.sin6_addr
            self.init(ip: withUnsafeBytes(of: &ip) { InlineIPAddress($0) }, port: UInt16(bigEndian: v6.sin6_port))
        default:
            return nil
        }
    }

    /// Reads a `sockaddr_storage` filled in by `recvfrom`, `accept` or `getsockname`.
    init?(storage: sockaddr_storage) {
        var copy = storage
        let parsed = withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0) }
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// The kernel's address family constant (`AF_INET` or `AF_INET6`).
    var familyConstant: Int32 {
        family == .ipv4 ? AF_INET : AF_INET6
    }

    /// Calls `body` with this address as a `sockaddr` pointer and its length.
    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> Result) throws(SystemError) -> Result {
        switch family {
        case .ipv4:
            var v4 = sockaddr_in()
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &v4.sin_addr) { for index in 0..<4 { $0[index] = ip[index] } }
            return try SocketAddress.passing(&v4, body)
        case .ipv6:
            var v6 = sockaddr_in6()
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &v6.sin6_addr) { for index in 0..<16 { $0[index] = ip[index] } }
            return try SocketAddress.passing(&v6, body)
        }
    }

    private static func passing<Storage, Result>(
        _ storage: inout Storage, _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> Result
    ) throws(SystemError) -> Result {
        let length = socklen_t(MemoryLayout<Storage>.size)
        return try withUnsafePointer(to: &storage) { (typed) throws(SystemError) -> Result in
            try UnsafeRawPointer(typed).withMemoryRebound(to: sockaddr.self, capacity: 1) { (generic) throws(SystemError) -> Result in
                try body(generic, length)
            }
        }
    }

    /// Fills a `sockaddr_storage` with `call` (`getsockname`, `getpeername`, ...) and reads it.
    static func reading(
        _ call: String, _ fill: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws(SystemError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try systemCall(call) {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { fill($0, &length) }
            }
        }
        guard let address = SocketAddress(storage: storage) else {
            throw SystemError(call: call, code: EAFNOSUPPORT)
        }
        return address
    }
}
