import Transport
import Glibc

/// Why a measurement socket call failed: the call's name and the `errno` it left.
public struct MeasurementError: Error, Sendable, CustomStringConvertible {
    /// The system call or step that failed, such as `bind` or `connect`.
    public var operation: String
    /// The `errno` value at the time of failure (0 when the failure was not a system call's).
    public var code: Int32

    /// Creates an error for `operation` with the given `errno`.
    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        code == 0 ? operation : "\(operation): \(String(cString: strerror(code)))"
    }
}

/// A loopback socket for the baseline measurements: plain UDP or TCP, no protocol of ours on top.
///
/// Kept apart from Transport's own sockets on purpose: the baselines measure what the kernel gives
/// with the least code in between. One owner; closed on deinit.
// @unchecked Sendable: guarded by ownership; each socket is handed to one thread, which alone uses it.
final class MeasurementSocket: @unchecked Sendable {
    let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// A UDP socket bound to 127.0.0.1 on an ephemeral port.
    static func udp() throws -> MeasurementSocket {
        let socket = try open(type: Int32(SOCK_DGRAM.rawValue))
        try socket.bindLoopback()
        return socket
    }

    /// A TCP socket listening on 127.0.0.1 on an ephemeral port.
    static func tcpListener() throws -> MeasurementSocket {
        let socket = try open(type: Int32(SOCK_STREAM.rawValue))
        var on: Int32 = 1
        setsockopt(socket.descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        try socket.bindLoopback()
        guard listen(socket.descriptor, 16) == 0 else { throw MeasurementError("listen") }
        return socket
    }

    /// A TCP socket connected to 127.0.0.1:`port`, with Nagle's algorithm off.
    static func tcpConnected(to port: UInt16) throws -> MeasurementSocket {
        let socket = try open(type: Int32(SOCK_STREAM.rawValue))
        var address = loopbackAddress(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw MeasurementError("connect") }
        socket.disableNagle()
        return socket
    }

    private static func open(type: Int32) throws -> MeasurementSocket {
        let descriptor = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw MeasurementError("socket") }
        return MeasurementSocket(descriptor: descriptor)
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
        guard result == 0 else { throw MeasurementError("bind") }
    }

    /// The local port the kernel chose.
    func localPort() throws -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { throw MeasurementError("getsockname") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Accepts one connection (blocking) and turns Nagle's algorithm off on it.
    func accept() throws -> MeasurementSocket {
        let accepted = Glibc.accept(descriptor, nil, nil)
        guard accepted >= 0 else { throw MeasurementError("accept") }
        let socket = MeasurementSocket(descriptor: accepted)
        socket.disableNagle()
        return socket
    }

    func disableNagle() {
        var on: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Sets SO_RCVBUF and SO_SNDBUF (the kernel doubles and caps them).
    func setBufferSizes(_ bytes: Int32) {
        var size = bytes
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Waits until the socket is readable or `timeout` passes; true when readable.
    func waitReadable(timeout: Duration) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = max(0, Int32(clamping: timeout.components.seconds * 1000
            + timeout.components.attoseconds / 1_000_000_000_000_000))
        return poll(&entry, 1, milliseconds) > 0
    }

    /// Sends a datagram to 127.0.0.1:`port`; false when the kernel refused it (for example ENOBUFS).
    @discardableResult
    func send(_ bytes: UnsafeRawBufferPointer, toPort port: UInt16) -> Bool {
        var address = Self.loopbackAddress(port: port)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return sent == bytes.count
    }

    /// Receives one datagram into `buffer`; returns its size and the sender's port, or nil.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, port: UInt16)? {
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
    func writeAll(_ bytes: UnsafeRawBufferPointer) -> Bool {
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
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            return count
        }
    }

    /// Half-closes the sending side of a stream socket.
    func shutdownWrite() {
        shutdown(descriptor, Int32(SHUT_WR))
    }
}
