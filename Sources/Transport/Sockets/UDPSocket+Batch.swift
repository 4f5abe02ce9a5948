import Glibc

/// Batched datagram I/O: `recvmmsg` and `sendmmsg` (Linux 3.0 / 2.6.33), one system call for up to
/// `batchLimit` datagrams, with a fallback to one `recvfrom` / `sendto` per datagram when the kernel
/// answers `ENOSYS` (detected at run time, once per socket) or when `disableBatching()` was called.
/// Both paths give the same results in the same order (TransportTests/BatchedUDPTests.swift).
///
/// Swift's Glibc module does not export `mmsghdr`, `recvmmsg` or `sendmmsg` (they need `_GNU_SOURCE`),
/// so the two functions are looked up in libc with `dlsym` (absent: the fallback) and `mmsghdr` is
/// declared here with the kernel's layout.
struct mmsghdr {
    var msg_hdr = msghdr()
    var msg_len: UInt32 = 0
}

private typealias MultipleMessageCall = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32, UnsafeMutableRawPointer?) -> Int32
private typealias SendMultipleCall = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32) -> Int32

private func lookUp<Function>(_ name: String, as type: Function.Type) -> Function? {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
    return unsafeBitCast(symbol, to: type)
}

private let recvmmsgFunction = lookUp("recvmmsg", as: MultipleMessageCall.self)
private let sendmmsgFunction = lookUp("sendmmsg", as: SendMultipleCall.self)

private func sendmmsg(_ descriptor: Int32, _ headers: UnsafeMutablePointer<mmsghdr>?, _ count: UInt32, _ flags: Int32) -> Int32 {
    guard let call = sendmmsgFunction else {
        errno = ENOSYS
        return -1
    }
    return call(descriptor, UnsafeMutableRawPointer(headers), count, flags)
}

private func recvmmsg(_ descriptor: Int32, _ headers: UnsafeMutablePointer<mmsghdr>?, _ count: UInt32, _ flags: Int32,
                      _ timeout: UnsafeMutableRawPointer?) -> Int32 {
    guard let call = recvmmsgFunction else {
        errno = ENOSYS
        return -1
    }
    return call(descriptor, UnsafeMutableRawPointer(headers), count, flags, timeout)
}

extension UDPSocket {
    /// The most datagrams one `recvmmsg` or `sendmmsg` call carries.
    public static let batchLimit = 32
    /// The longest datagram `receiveBatch` returns whole; longer ones are cut to this length (a
    /// Datagram packet is at most 1,200 bytes, so a cut one is malformed either way and dropped).
    public static let batchSlotSize = 2_048

    /// True while this socket uses `recvmmsg` / `sendmmsg`.
    public var isBatching: Bool { batching.load(ordering: .relaxed) }

    /// Uses one system call per datagram from now on (the run-time fallback, forced).
    public func disableBatching() { batching.store(false, ordering: .relaxed) }

    /// Up to `maximum` waiting datagrams with their senders, oldest first; empty when none is waiting.
    /// `ECONNREFUSED` left over from an ICMP error is skipped, as by `receive()`. A failure after some
    /// datagrams were read returns those (nothing read is lost); it is thrown on the next call.
    public func receiveBatch(maximum: Int = batchLimit) throws(SystemError) -> [(bytes: [UInt8], from: SocketAddress)] {
        var received: [(bytes: [UInt8], from: SocketAddress)] = []
        do throws(SystemError) {
            try receive(upTo: maximum, into: &received)
        } catch {
            if received.isEmpty { throw error }
        }
        return received
    }

    private func receive(upTo maximum: Int, into received: inout [(bytes: [UInt8], from: SocketAddress)]) throws(SystemError) {
        while received.count < maximum {
            if isBatching {
                let asked = Swift.min(maximum - received.count, Self.batchLimit)
                guard let batch = try receiveMultiple(asked) else {
                    disableBatching()
                    continue
                }
                received += batch
                if batch.count < asked { break }  // drained
            } else {
                guard let one = try receive() else { break }
                received.append(one)
            }
        }
    }

    /// Sends each datagram to its address, in order. A datagram the send buffer has no room for
    /// (`EAGAIN`) is not sent and counted in `dropped`; another failure is remembered (the last one
    /// in `failure`) and the rest are still sent, as a loop of `send(_:to:)` would.
    public func sendBatch(_ datagrams: [(bytes: [UInt8], to: SocketAddress)]) -> BatchSendResult {
        var result = BatchSendResult()
        var index = 0
        while index < datagrams.count {
            if isBatching {
                let end = Swift.min(datagrams.count, index + Self.batchLimit)
                do throws(SystemError) {
                    switch try sendMultiple(datagrams[index..<end]) {
                    case .sent(let count):
                        result.sent += count
                        index += count
                    case .wouldBlock:
                        result.dropped += 1
                        index += 1
                    case .unsupported:
                        disableBatching()
                    }
                } catch {
                    result.failure = error
                    index += 1
                }
            } else {
                do throws(SystemError) {
                    if try send(datagrams[index].bytes, to: datagrams[index].to) { result.sent += 1 } else { result.dropped += 1 }
                } catch {
                    result.failure = error
                }
                index += 1
            }
        }
        return result
    }

    private enum MultipleSend { case sent(Int), wouldBlock, unsupported }

    /// One `sendmmsg`: how many of `datagrams` (from the first) went out.
    private func sendMultiple(_ datagrams: ArraySlice<(bytes: [UInt8], to: SocketAddress)>) throws(SystemError) -> MultipleSend {
        let count = datagrams.count
        var addresses = [sockaddr_storage](repeating: sockaddr_storage(), count: count)
        var lengths = [socklen_t](repeating: 0, count: count)
        for (offset, datagram) in datagrams.enumerated() {
            lengths[offset] = try datagram.to.withSockAddr { (pointer, length) -> socklen_t in
                withUnsafeMutableBytes(of: &addresses[offset]) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: Int(length))) }
                return length
            }
        }
        // The datagrams side by side in one buffer (a copy of at most 32 x 1,200 bytes), so the kernel
        // reads them through pointers that stay valid for the whole call.
        var offsets: [Int] = []
        var joined: [UInt8] = []
        joined.reserveCapacity(datagrams.reduce(0) { $0 + $1.bytes.count })
        for datagram in datagrams {
            offsets.append(joined.count)
            joined += datagram.bytes
        }
        let sizes = datagrams.map(\.bytes.count)
        return try descriptor.with("sendmmsg") { (descriptor) throws(SystemError) -> MultipleSend in
            var vectors = [iovec](repeating: iovec(), count: count)
            var headers = [mmsghdr](repeating: mmsghdr(), count: count)
            let sent = joined.withUnsafeMutableBytes { bytes in
                addresses.withUnsafeMutableBufferPointer { addressBuffer in
                    vectors.withUnsafeMutableBufferPointer { vectorBuffer in
                        for offset in 0..<count {
                            vectorBuffer[offset] = iovec(iov_base: bytes.baseAddress.map { $0 + offsets[offset] }, iov_len: sizes[offset])
                            headers[offset].msg_hdr.msg_name = UnsafeMutableRawPointer(addressBuffer.baseAddress! + offset)
                            headers[offset].msg_hdr.msg_namelen = lengths[offset]
                            headers[offset].msg_hdr.msg_iov = vectorBuffer.baseAddress! + offset
                            headers[offset].msg_hdr.msg_iovlen = 1
                        }
                        return headers.withUnsafeMutableBufferPointer { headerBuffer in
                            sendmmsg(descriptor, headerBuffer.baseAddress, UInt32(count), Int32(MSG_NOSIGNAL))
                        }
                    }
                }
            }
            if sent >= 0 { return .sent(Int(sent)) }
            let code = errno
            if code == ENOSYS { return .unsupported }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw SystemError(call: "sendmmsg", code: code)
        }
    }

    /// One `recvmmsg` for up to `count` datagrams; nil when the kernel has no `recvmmsg` (`ENOSYS`).
    /// The buffers, addresses and headers are the socket's `ReceiveScratch`, made on the first call
    /// and reused: allocating and clearing 64 KB and three arrays per call was an eighth of the
    /// relay's CPU with 10,000 idle peers, whose datagrams mostly arrive one per call.
    private func receiveMultiple(_ count: Int) throws(SystemError) -> [(bytes: [UInt8], from: SocketAddress)]? {
        try descriptor.with("recvmmsg") { (descriptor) throws(SystemError) -> [(bytes: [UInt8], from: SocketAddress)]? in
            try receiveScratch.withLock { (slot) throws(SystemError) -> [(bytes: [UInt8], from: SocketAddress)]? in
                let scratch: ReceiveScratch
                if let existing = slot {
                    scratch = existing
                } else {
                    scratch = ReceiveScratch(count: Self.batchLimit, slotSize: Self.batchSlotSize)
                    slot = scratch
                }
                let count = Swift.min(count, scratch.count)
                while true {
                    scratch.prepare(count)
                    let received = recvmmsg(descriptor, scratch.headers, UInt32(count), Int32(MSG_DONTWAIT), nil)
                    if received < 0 {
                        let code = errno
                        if code == EINTR || code == ECONNREFUSED { continue }
                        if code == EAGAIN || code == EWOULDBLOCK { return [] }
                        if code == ENOSYS { return nil }
                        throw SystemError(call: "recvmmsg", code: code)
                    }
                    var datagrams: [(bytes: [UInt8], from: SocketAddress)] = []
                    datagrams.reserveCapacity(Int(received))
                    for offset in 0..<Int(received) {
                        guard let sender = SocketAddress(storage: scratch.addresses[offset]) else {
                            throw SystemError(call: "recvmmsg", code: EAFNOSUPPORT)
                        }
                        let length = Swift.min(Int(scratch.headers[offset].msg_len), scratch.slotSize)
                        let start = scratch.buffer + offset * scratch.slotSize
                        datagrams.append((Array(UnsafeRawBufferPointer(start: start, count: length)), sender))
                    }
                    return datagrams
                }
            }
        }
    }
}

/// The memory one socket's `recvmmsg` calls use, made once and reused: `count` slots of `slotSize`
/// bytes, their sender addresses, and the vectors and headers that point at them (set up once; each
/// call only resets the address lengths and flags the kernel overwrote).
final class ReceiveScratch: @unchecked Sendable {
    // @unchecked: used only inside the socket's `receiveScratch` lock.
    let count: Int
    let slotSize: Int
    let buffer: UnsafeMutableRawPointer
    let addresses: UnsafeMutablePointer<sockaddr_storage>
    let vectors: UnsafeMutablePointer<iovec>
    let headers: UnsafeMutablePointer<mmsghdr>

    init(count: Int, slotSize: Int) {
        self.count = count
        self.slotSize = slotSize
        buffer = UnsafeMutableRawPointer.allocate(byteCount: count * slotSize, alignment: 16)
        addresses = .allocate(capacity: count)
        addresses.initialize(repeating: sockaddr_storage(), count: count)
        vectors = .allocate(capacity: count)
        headers = .allocate(capacity: count)
        headers.initialize(repeating: mmsghdr(), count: count)
        for offset in 0..<count {
            (vectors + offset).initialize(to: iovec(iov_base: buffer + offset * slotSize, iov_len: slotSize))
            headers[offset].msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + offset)
            headers[offset].msg_hdr.msg_iov = vectors + offset
            headers[offset].msg_hdr.msg_iovlen = 1
        }
    }

    /// Resets what the kernel overwrites in the first `count` headers.
    func prepare(_ count: Int) {
        let storageLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        for offset in 0..<count {
            headers[offset].msg_hdr.msg_namelen = storageLength
            headers[offset].msg_hdr.msg_flags = 0
            headers[offset].msg_len = 0
        }
    }

    deinit {
        headers.deinitialize(count: count)
        headers.deallocate()
        vectors.deinitialize(count: count)
        vectors.deallocate()
        addresses.deinitialize(count: count)
        addresses.deallocate()
        buffer.deallocate()
    }
}

/// What `UDPSocket.sendBatch` did.
public struct BatchSendResult: Sendable {
    /// Datagrams handed to the kernel.
    public var sent = 0
    /// Datagrams not sent because the send buffer was full (`EAGAIN`).
    public var dropped = 0
    /// The last other failure, if any.
    public var failure: SystemError?
}
