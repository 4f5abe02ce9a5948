import Glibc
import Synchronization

/// A socket file descriptor that is closed exactly once and never used after closing.
///
/// Every system call on the descriptor runs while holding the lock, so `close` cannot slip in
/// between reading the number and using it (which, with descriptor reuse, would act on some other
/// file). The calls are non-blocking, so the lock is held for microseconds.
final class SocketDescriptor: Sendable {
    private let descriptor: Mutex<Int32>

    /// Takes ownership of an open descriptor.
    init(adopting descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    /// Opens a non-blocking, close-on-exec socket.
    static func open(family: Int32, type: __socket_type) throws(SystemError) -> SocketDescriptor {
        let flags = Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let descriptor = try systemCall("socket") { Glibc.socket(family, flags, 0) }
        return SocketDescriptor(adopting: descriptor)
    }

    /// The descriptor number, or -1 once closed. For registering dispatch sources only.
    var rawValue: Int32 {
        descriptor.withLock { $0 }
    }

    /// True once `close` has run.
    var isClosed: Bool {
        rawValue < 0
    }

    /// Runs `body` with the open descriptor; throws `EBADF` named `call` if it is closed.
    func with<Result: Sendable>(
        _ call: String, _ body: (Int32) throws(SystemError) -> Result
    ) throws(SystemError) -> Result {
        try descriptor.withLock { (descriptor: inout Int32) throws(SystemError) -> Result in
            guard descriptor >= 0 else { throw SystemError(call: call, code: EBADF) }
            return try body(descriptor)
        }
    }

    /// Closes the descriptor; later calls do nothing.
    func close() {
        descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            // close(2) on Linux releases the descriptor even when it reports EINTR: never retry it.
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }

    /// Sets an integer socket option.
    func setOption(_ level: Int32, _ name: Int32, _ value: Int32, call: String = "setsockopt") throws(SystemError) {
        try with(call) { (descriptor) throws(SystemError) in
            var value = value
            _ = try systemCall(call) {
                setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
            }
        }
    }

    /// Reads an integer socket option.
    func option(_ level: Int32, _ name: Int32, call: String = "getsockopt") throws(SystemError) -> Int32 {
        try with(call) { (descriptor) throws(SystemError) -> Int32 in
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = try systemCall(call) { getsockopt(descriptor, level, name, &value, &length) }
            return value
        }
    }

    /// Binds to `address`.
    func bind(to address: SocketAddress) throws(SystemError) {
        try with("bind") { (descriptor) throws(SystemError) in
            try address.withSockAddr { (pointer, length) throws(SystemError) in
                _ = try systemCall("bind") { Glibc.bind(descriptor, pointer, length) }
            }
        }
    }

    /// The address the socket is bound to (`getsockname`).
    func localAddress() throws(SystemError) -> SocketAddress {
        try with("getsockname") { (descriptor) throws(SystemError) -> SocketAddress in
            try SocketAddress.reading("getsockname") { getsockname(descriptor, $0, $1) }
        }
    }

    /// The address of the connected peer (`getpeername`).
    func peerAddress() throws(SystemError) -> SocketAddress {
        try with("getpeername") { (descriptor) throws(SystemError) -> SocketAddress in
            try SocketAddress.reading("getpeername") { getpeername(descriptor, $0, $1) }
        }
    }

    deinit {
        close()
    }
}
