import Glibc
import Synchronization

/// A non-blocking TCP connection with an outgoing buffer of bounded size.
///
/// Reading: when a `ReadSource` on `fileDescriptor` fires, call `read(into:)` until it answers
/// `.drained` (or `.endOfStream`). Writing: `write(_:)` takes all of a chunk or none of it; what the
/// kernel does not take at once waits in the outgoing buffer, which `flush()` empties when a
/// `WriteSource` says the socket is writable. A chunk that would push the buffer past
/// `outputLimit` is refused (`.refused`) so the caller keeps it and pushes back on its own source.
///
/// TCP_NODELAY is on: chat lines are small and latency matters more than segment count. Safe to use
/// from any thread; one lock guards the descriptor and one the outgoing buffer.
public final class TCPStream: Sendable {
    /// The default cap on bytes waiting in the outgoing buffer: 1 MiB.
    public static let defaultOutputLimit = 1 << 20

    /// What one `read(into:)` found.
    public enum ReadResult: Sendable, Hashable {
        /// This many bytes (more than zero) were appended to the buffer.
        case bytes(Int)
        /// Nothing is waiting now (`EAGAIN`).
        case drained
        /// The peer closed its sending side; no more bytes will come.
        case endOfStream
    }

    /// What `write(_:)` did with a chunk.
    public enum WriteResult: Sendable, Hashable {
        /// Everything, including what waited before, is in the kernel.
        case flushed
        /// The chunk was accepted; this many bytes wait in the outgoing buffer for `flush()`.
        case buffered(pendingBytes: Int)
        /// Nothing was taken: the chunk would push the buffer past the limit. Retry after `flush()`.
        /// (A chunk larger than the limit is taken when the buffer is empty, so it can never starve.)
        case refused(pendingBytes: Int, limit: Int)
    }

    /// The address of the other end.
    public let peerAddress: SocketAddress
    /// The most bytes the outgoing buffer holds before `write` refuses.
    public let outputLimit: Int

    let descriptor: SocketDescriptor
    private let output = Mutex(OutgoingBuffer())
    private let connected: Mutex<Bool>

    init(adopting descriptor: SocketDescriptor, peer: SocketAddress, isConnected: Bool,
         outputLimit: Int) throws(SystemError) {
        self.descriptor = descriptor
        self.peerAddress = peer
        self.outputLimit = outputLimit
        self.connected = Mutex(isConnected)
        try descriptor.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1)
    }

    /// Starts a non-blocking connect to `address`. The stream may not be connected yet: watch it
    /// with a `WriteSource` and call `finishConnecting()` when it fires, or use
    /// `connect(to:queue:completion:)`.
    public static func connect(to address: SocketAddress,
                               outputLimit: Int = defaultOutputLimit) throws(SystemError) -> TCPStream {
        let descriptor = try SocketDescriptor.open(family: address.familyConstant, type: SOCK_STREAM)
        let isConnected = try descriptor.with("connect") { (raw) throws(SystemError) -> Bool in
            try address.withSockAddr { (pointer, length) throws(SystemError) -> Bool in
                do throws(SystemError) {
                    _ = try systemCall("connect") { Glibc.connect(raw, pointer, length) }
                    return true
                } catch where error.code == EINPROGRESS {
                    return false
                }
            }
        }
        return try TCPStream(adopting: descriptor, peer: address, isConnected: isConnected, outputLimit: outputLimit)
    }

    /// True once the connect has completed.
    public var isConnected: Bool {
        connected.withLock { $0 }
    }

    /// Checks a pending connect (call it when the socket turns writable): true when connected, false
    /// while still in progress; throws the connect's failure (`ECONNREFUSED`, ...) named `connect`.
    public func finishConnecting() throws(SystemError) -> Bool {
        if isConnected { return true }
        let pending = try descriptor.option(SOL_SOCKET, SO_ERROR)
        if pending == EINPROGRESS || pending == EALREADY { return false }
        if pending != 0 { throw SystemError(call: "connect", code: pending) }
        // No error yet; connected only if the peer's address can be read.
        do throws(SystemError) {
            _ = try descriptor.peerAddress()
        } catch where error.code == ENOTCONN {
            return false
        }
        connected.withLock { $0 = true }
        return true
    }

    /// The local address of the connection.
    public var localAddress: SocketAddress {
        get throws(SystemError) { try descriptor.localAddress() }
    }

    /// The descriptor number, for read and write sources; -1 once closed.
    public var fileDescriptor: Int32 {
        descriptor.rawValue
    }

    /// Appends what is waiting, at most `maximumCount` bytes, to `buffer`.
    public func read(into buffer: inout [UInt8], maximumCount: Int = 65_536) throws(SystemError) -> ReadResult {
        let chunk = try descriptor.with("read") { (raw) throws(SystemError) -> [UInt8]? in
            try TCPStream.readChunk(raw, maximumCount: maximumCount)
        }
        guard let chunk else { return .drained }
        guard !chunk.isEmpty else { return .endOfStream }
        buffer.append(contentsOf: chunk)
        return .bytes(chunk.count)
    }

    private static func readChunk(_ raw: Int32, maximumCount: Int) throws(SystemError) -> [UInt8]? {
        try withUnsafeTemporaryAllocation(byteCount: maximumCount, alignment: 16) { (space) throws(SystemError) -> [UInt8]? in
            let count = try systemCallUnlessWouldBlock("read") { Glibc.read(raw, space.baseAddress, space.count) }
            return count.map { Array(UnsafeRawBufferPointer(rebasing: space[..<$0])) }
        }
    }

    /// Bytes waiting in the outgoing buffer.
    public var pendingOutputBytes: Int {
        output.withLock { $0.count }
    }

    /// Takes all of `bytes` or none of them (see `WriteResult`) and writes what the kernel accepts now.
    public func write(_ bytes: [UInt8]) throws(SystemError) -> WriteResult {
        let limit = outputLimit
        return try output.withLock { (buffer) throws(SystemError) -> WriteResult in
            guard buffer.count == 0 || buffer.count + bytes.count <= limit else {
                return .refused(pendingBytes: buffer.count, limit: limit)
            }
            buffer.append(bytes)
            let pending = try flush(&buffer)
            return pending == 0 ? .flushed : .buffered(pendingBytes: pending)
        }
    }

    /// Writes as much of the outgoing buffer as the kernel takes; returns the bytes still waiting
    /// (enable a `WriteSource` while it is not zero).
    @discardableResult
    public func flush() throws(SystemError) -> Int {
        try output.withLock { (buffer) throws(SystemError) -> Int in try flush(&buffer) }
    }

    private func flush(_ buffer: inout OutgoingBuffer) throws(SystemError) -> Int {
        while buffer.count > 0 {
            let written = try descriptor.with("send") { (raw) throws(SystemError) -> Int? in
                let result = buffer.withUnsafeBytes { bytes in
                    Result { () throws(SystemError) -> Int? in
                        try systemCallUnlessWouldBlock("send") { Glibc.send(raw, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
                    }
                }
                return try result.get()
            }
            guard let written else { break }
            buffer.consume(written)
        }
        return buffer.count
    }

    /// Asks the kernel for smaller or larger socket buffers (`SO_SNDBUF`, `SO_RCVBUF`), for example
    /// to make back-pressure visible in a demonstration. The kernel doubles and caps the values.
    public func setKernelBufferSizes(send: Int32?, receive: Int32?) throws(SystemError) {
        if let send { try descriptor.setOption(SOL_SOCKET, SO_SNDBUF, send) }
        if let receive { try descriptor.setOption(SOL_SOCKET, SO_RCVBUF, receive) }
    }

    /// Shuts down the sending side (the peer reads end of stream); reading goes on.
    public func shutdownOutput() throws(SystemError) {
        try descriptor.with("shutdown") { (raw) throws(SystemError) in
            _ = try systemCall("shutdown") { Glibc.shutdown(raw, Int32(SHUT_WR)) }
        }
    }

    /// Closes the connection abortively: the peer gets a reset (RST), not an end of stream, and its
    /// next write fails. For tests and `bench` that play a client whose machine vanished.
    public func reset() {
        try? descriptor.with("setsockopt") { (raw) throws(SystemError) in
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            _ = try systemCall("setsockopt") {
                setsockopt(raw, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            }
        }
        descriptor.close()
    }

    /// Closes the connection, dropping anything still buffered; later calls do nothing.
    /// Cancel the stream's sources first (or close it from a source's cancel handler).
    public func close() {
        descriptor.close()
    }
}

/// Bytes waiting to be written, consumed from the front without copying the rest each time.
struct OutgoingBuffer {
    private var storage: [UInt8] = []
    private var start = 0

    var count: Int { storage.count - start }

    mutating func append(_ bytes: [UInt8]) {
        if start > 0 && start >= storage.count / 2 {
            storage.removeSubrange(..<start)
            start = 0
        }
        storage.append(contentsOf: bytes)
    }

    mutating func consume(_ count: Int) {
        start += count
        if start == storage.count {
            storage.removeAll(keepingCapacity: true)
            start = 0
        }
    }

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        storage.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start...])) }
    }
}
