import Glibc

/// An epoll set: many descriptors watched for input, each with a caller's token, the cost of a wait
/// proportional to what is ready rather than to what is watched (`poll(2)` walks every descriptor on
/// every call). For load generators that hold thousands of sockets in one thread (`bench
/// relay-scale`); level-triggered, input only.
///
/// Swift's Glibc module does not export `<sys/epoll.h>`, so, as for `recvmmsg` (UDPSocket+Batch.swift),
/// the three calls are looked up in libc with `dlsym`, and `struct epoll_event` is laid out by hand: a
/// 32-bit event mask, then 64 bits of data, packed on x86-64 (12 bytes) and naturally aligned
/// elsewhere (16 bytes).
public final class EventPoll {
    private typealias Create = @convention(c) (Int32) -> Int32
    private typealias Control = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    private typealias Wait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32

    private static func lookUp<Function>(_ name: String, as type: Function.Type) -> Function? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }

    #if arch(x86_64)
    private static let eventSize = 12
    #else
    private static let eventSize = 16
    #endif
    private static let dataOffset = eventSize - 8
    private static let input: UInt32 = 0x001        // EPOLLIN
    private static let add: Int32 = 1               // EPOLL_CTL_ADD
    private static let delete: Int32 = 2            // EPOLL_CTL_DEL

    private let descriptor: Int32
    private let control: Control
    private let waitCall: Wait
    private let capacity: Int
    private let events: UnsafeMutableRawPointer

    /// A new epoll set that returns at most `batch` ready descriptors per wait.
    public init(batch: Int = 1024) throws(SystemError) {
        guard let create = Self.lookUp("epoll_create1", as: Create.self),
              let control = Self.lookUp("epoll_ctl", as: Control.self),
              let wait = Self.lookUp("epoll_wait", as: Wait.self) else {
            throw SystemError(call: "dlsym epoll", code: ENOSYS)
        }
        descriptor = try systemCall("epoll_create1") { create(O_CLOEXEC) }
        self.control = control
        waitCall = wait
        capacity = max(1, batch)
        events = UnsafeMutableRawPointer.allocate(byteCount: capacity * Self.eventSize, alignment: 8)
    }

    deinit {
        Glibc.close(descriptor)
        events.deallocate()
    }

    /// Watches `fileDescriptor` for input; `token` comes back when it is readable.
    public func add(_ fileDescriptor: Int32, token: UInt64) throws(SystemError) {
        var event = [UInt8](repeating: 0, count: Self.eventSize)
        let control = control
        let descriptor = descriptor
        _ = try systemCall("epoll_ctl") {
            event.withUnsafeMutableBytes { bytes in
                bytes.storeBytes(of: Self.input, toByteOffset: 0, as: UInt32.self)
                bytes.storeBytes(of: token, toByteOffset: Self.dataOffset, as: UInt64.self)
                return control(descriptor, Self.add, fileDescriptor, bytes.baseAddress)
            }
        }
    }

    /// Stops watching `fileDescriptor` (closing it does too).
    public func remove(_ fileDescriptor: Int32) {
        var event = [UInt8](repeating: 0, count: Self.eventSize)
        _ = event.withUnsafeMutableBytes { control(descriptor, Self.delete, fileDescriptor, $0.baseAddress) }
    }

    /// Waits up to `timeoutMilliseconds` (0: do not wait) and calls `body` with the token of every
    /// readable descriptor; returns how many there were.
    @discardableResult
    public func wait(timeoutMilliseconds: Int32, _ body: (UInt64) -> Void) -> Int {
        let count = waitCall(descriptor, events, Int32(capacity), timeoutMilliseconds)
        guard count > 0 else { return 0 }
        for index in 0..<Int(count) {
            body(events.loadUnaligned(fromByteOffset: index * Self.eventSize + Self.dataOffset, as: UInt64.self))
        }
        return Int(count)
    }
}
