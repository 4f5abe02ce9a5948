import Glibc

/// A loopback socket for the baseline measurements: plain UDP or TCP, no protocol of ours on top.
///
/// Kept apart from the UDP and TCP sockets above on purpose: the baselines of `compare` (in
/// Measurement) measure what the kernel gives with the least code in between. Blocking, IPv4
/// loopback only. One owner; closed on deinit.
// @unchecked Sendable: guarded by ownership; each socket is handed to one thread, which alone uses it.
public final class RawLoopbackSocket: @unchecked Sendable {
    let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// A UDP socket bound to 127.0.0.1 on an ephemeral port.
    public static func udp() throws -> RawLoopbackSocket {
        let socket = try open(type: Int32(SOCK_DGRAM.rawValue))
        try socket.bindLoopback()
        return socket
    }

    /// A TCP socket listening on 127.0.0.1 on an ephemeral port.
    public static func tcpListener() throws -> RawLoopbackSocket {
        let socket = try open(type: Int32(SOCK_STREAM.rawValue))
        var on: Int32 = 1
        setsockopt(socket.descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        try socket.bindLoopback()
        guard listen(socket.descriptor, 16) == 0 else { throw SystemError(call: "listen", code: errno) }
        return socket
    }

    /// A TCP socket connected to 127.0.0.1:`port`, with Nagle's algorithm off.
    public static func tcpConnected(to port: UInt16) throws -> RawLoopbackSocket {
        let socket = try open(type: Int32(SOCK_STREAM.rawValue))
        var address = loopbackAddress(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw SystemError(call: "connect", code: errno) }
        socket.disableNagle()
        return socket
    }

    private static func open(type: Int32) throws -> RawLoopbackSocket {
        let descriptor = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SystemError(call: "socket", code: errno) }
        return RawLoopbackSocket(descriptor: descriptor)
    }

    static func loopbackAddress(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    private func bindLoopback() throws {
        var address = Self.loopbackAddress(port: 0)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw SystemError(call: "bind", code: errno) }
    }

    /// The local port the kernel chose.
    public func localPort() throws -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { throw SystemError(call: "getsockname", code: errno) }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Accepts one connection (blocking) and turns Nagle's algorithm off on it.
    public func accept() throws -> RawLoopbackSocket {
        let accepted = Glibc.accept(descriptor, nil, nil)
        guard accepted >= 0 else { throw SystemError(call: "accept", code: errno) }
        let socket = RawLoopbackSocket(descriptor: accepted)
        socket.disableNagle()
        return socket
    }

    public func disableNagle() {
        var on: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Sets SO_RCVBUF and SO_SNDBUF (the kernel doubles and caps them).
    public func setBufferSizes(_ bytes: Int32) {
        var size = bytes
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Waits until the socket is readable or `timeout` passes; true when readable.
    public func waitReadable(timeout: Duration) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = max(0, Int32(clamping: timeout.components.seconds * 1000
            + timeout.components.attoseconds / 1_000_000_000_000_000))
        return poll(&entry, 1, milliseconds) > 0
    }

    /// Sends a datagram to 127.0.0.1:`port`; false when the kernel refused it (for example ENOBUFS).
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, toPort port: UInt16) -> Bool {
        var address = Self.loopbackAddress(port: port)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return sent == bytes.count
    }

    /// Receives one datagram into `buffer`; returns its size and the sender's port, or nil.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, port: UInt16)? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT), $0, &length)
            }
        }
        guard count >= 0 else { return nil }
        return (count, UInt16(bigEndian: address.sin_port))
    }

    /// Writes all of `bytes` to a stream socket (blocking); false on error.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    /// Reads what is available from a stream socket (blocking); 0 at end of stream, -1 on error.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            return count
        }
    }

    /// Half-closes the sending side of a stream socket.
    public func shutdownWrite() {
        shutdown(descriptor, Int32(SHUT_WR))
    }
}
