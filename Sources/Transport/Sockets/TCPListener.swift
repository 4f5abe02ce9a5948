import Glibc

/// A non-blocking listening TCP socket.
///
/// Watch `fileDescriptor` with a `ReadSource`; when it fires, call `accept()` until it answers nil.
/// `SO_REUSEADDR` is set so a restarted server can bind its port again at once. An IPv6 listener is
/// IPv6-only.
public final class TCPListener: Sendable {
    let descriptor: SocketDescriptor

    /// Opens a listener bound to `address` (port 0: the kernel picks one; see `localAddress`).
    public init(bindingTo address: SocketAddress, backlog: Int32 = 128) throws(SystemError) {
        descriptor = try SocketDescriptor.open(family: address.familyConstant, type: SOCK_STREAM)
        try descriptor.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
        if address.family == .ipv6 {
            try descriptor.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1)
        }
        try descriptor.bind(to: address)
        try descriptor.with("listen") { (descriptor) throws(SystemError) in
            _ = try systemCall("listen") { Glibc.listen(descriptor, backlog) }
        }
    }

    /// The address the listener is bound to, with the real port after binding to port 0.
    public var localAddress: SocketAddress {
        get throws(SystemError) { try descriptor.localAddress() }
    }

    /// The descriptor number, for `ReadSource`; -1 once closed.
    public var fileDescriptor: Int32 {
        descriptor.rawValue
    }

    /// The next pending connection as a non-blocking `TCPStream` (TCP_NODELAY on), or nil when none
    /// is waiting. A connection the peer aborted before it was accepted is skipped.
    public func accept(outputLimit: Int = TCPStream.defaultOutputLimit) throws(SystemError) -> TCPStream? {
        while true {
            let accepted = try descriptor.with("accept") { (descriptor) throws(SystemError) -> (Int32, SocketAddress)? in
                var storage = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let result = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SystemError) -> Int32? in
                    try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemError) -> Int32? in
                        try systemCallUnlessWouldBlock("accept") { Glibc.accept(descriptor, address, &length) }
                    }
                }
                guard let result else { return nil }
                TCPListener.makeNonBlocking(result)
                guard let peer = SocketAddress(storage: storage) else {
                    _ = Glibc.close(result)
                    return nil
                }
                return (result, peer)
            }
            guard let (newDescriptor, peer) = accepted else { return nil }
            do throws(SystemError) {
                return try TCPStream(adopting: SocketDescriptor(adopting: newDescriptor), peer: peer,
                                     isConnected: true, outputLimit: outputLimit)
            } catch where error.code == ECONNRESET || error.code == EINVAL {
                continue
            }
        }
    }

    /// Sets `O_NONBLOCK` and `FD_CLOEXEC` (glibc's `accept4` is not visible to Swift). Neither
    /// `fcntl` can fail on a descriptor that was just returned open.
    private static func makeNonBlocking(_ descriptor: Int32) {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
    }

    /// Closes the listener; later calls do nothing. Cancel its `ReadSource` first.
    public func close() {
        descriptor.close()
    }
}
