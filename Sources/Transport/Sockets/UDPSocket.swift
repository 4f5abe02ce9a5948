import Glibc
import Synchronization

/// A non-blocking UDP socket for IPv4 or IPv6.
///
/// Safe to use from any thread (each call holds the socket's lock for one system call). Meant to be
/// read from a `ReadSource`: when it fires, call `receive()` until it answers nil ("drained").
/// Closing is explicit (`close()`), idempotent, and also happens when the last reference goes.
/// An IPv6 socket is IPv6-only (`IPV6_V6ONLY`), so the address families never mix.
public final class UDPSocket: Sendable {
    /// The largest datagram `receive` returns whole; anything longer is cut to this length.
    public static let maximumReceiveSize = 65_536
    /// The kernel buffer size asked for in each direction; the kernel may cap it (`net.core.rmem_max`).
    public static let requestedBufferSize: Int32 = 4 << 20

    /// The address family of the socket, fixed at creation.
    public let family: SocketAddress.Family
    let descriptor: SocketDescriptor
    /// False once batched calls are off (unsupported by the kernel, or `disableBatching()`).
    let batching = Atomic<Bool>(true)
    /// `recvmmsg`'s memory, made on the first batched receive (UDPSocket+Batch.swift).
    let receiveScratch = Mutex<ReceiveScratch?>(nil)

    /// Opens an unbound socket of `family` (the kernel binds an ephemeral port on first send).
    public init(family: SocketAddress.Family) throws(SystemError) {
        self.family = family
        descriptor = try SocketDescriptor.open(family: family == .ipv4 ? AF_INET : AF_INET6, type: SOCK_DGRAM)
        if family == .ipv6 {
            try descriptor.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1)
        }
        // Larger buffers ride out bursts; the kernel silently caps them, and failure only costs drops.
        try? descriptor.setOption(SOL_SOCKET, SO_RCVBUF, UDPSocket.requestedBufferSize)
        try? descriptor.setOption(SOL_SOCKET, SO_SNDBUF, UDPSocket.requestedBufferSize)
    }

    /// Opens a socket of `address`'s family and binds it there (port 0: the kernel picks one;
    /// read it back from `localAddress`).
    public convenience init(bindingTo address: SocketAddress) throws(SystemError) {
        try self.init(family: address.family)
        try bind(to: address)
    }

    /// Binds to `address`, which must be of the socket's family.
    public func bind(to address: SocketAddress) throws(SystemError) {
        try descriptor.bind(to: address)
    }

    /// The address the socket is bound to, with the real port after binding to port 0.
    public var localAddress: SocketAddress {
        get throws(SystemError) { try descriptor.localAddress() }
    }

    /// The descriptor number, for `ReadSource`; -1 once closed.
    public var fileDescriptor: Int32 {
        descriptor.rawValue
    }

    /// True once `close()` has run.
    public var isClosed: Bool {
        descriptor.isClosed
    }

    /// Sends one datagram to `address`. Returns false when the send buffer is full (`EAGAIN`):
    /// the datagram was not sent, which a reliable protocol treats like a loss.
    @discardableResult
    public func send(_ datagram: [UInt8], to address: SocketAddress) throws(SystemError) -> Bool {
        try descriptor.with("sendto") { (descriptor) throws(SystemError) -> Bool in
            try address.withSockAddr { (pointer, length) throws(SystemError) -> Bool in
                let sent = datagram.withUnsafeBytes { bytes in
                    Result { () throws(SystemError) -> Int? in
                        try systemCallUnlessWouldBlock("sendto") {
                            sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), pointer, length)
                        }
                    }
                }
                return try sent.get() != nil
            }
        }
    }

    /// The next waiting datagram and its sender, or nil when none is waiting (drained).
    ///
    /// Datagrams longer than `maximumReceiveSize` are cut short. `ECONNREFUSED` left over from an
    /// ICMP error is skipped rather than thrown, since it belongs to an earlier send.
    public func receive() throws(SystemError) -> (bytes: [UInt8], from: SocketAddress)? {
        try descriptor.with("recvfrom") { (descriptor) throws(SystemError) -> (bytes: [UInt8], from: SocketAddress)? in
            while true {
                do throws(SystemError) {
                    return try UDPSocket.receiveOne(descriptor)
                } catch where error.code == ECONNREFUSED {
                    continue
                }
            }
        }
    }

    private static func receiveOne(_ descriptor: Int32) throws(SystemError) -> (bytes: [UInt8], from: SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let bytes = try withUnsafeTemporaryAllocation(byteCount: maximumReceiveSize, alignment: 16) {
            (buffer) throws(SystemError) -> [UInt8]? in
            let count = try withUnsafeMutablePointer(to: &storage) { (storagePointer) throws(SystemError) -> Int? in
                try storagePointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemError) -> Int? in
                    try systemCallUnlessWouldBlock("recvfrom") {
                        recvfrom(descriptor, buffer.baseAddress, buffer.count, 0, address, &length)
                    }
                }
            }
            return count.map { Array(UnsafeRawBufferPointer(rebasing: buffer[..<$0])) }
        }
        guard let bytes else { return nil }
        guard let sender = SocketAddress(storage: storage) else {
            throw SystemError(call: "recvfrom", code: EAFNOSUPPORT)
        }
        return (bytes, sender)
    }

    /// Closes the socket. Later calls do nothing; later sends and receives throw `EBADF`.
    /// Cancel any `ReadSource` on it first (or close it from the source's cancel handler).
    public func close() {
        descriptor.close()
    }
}
