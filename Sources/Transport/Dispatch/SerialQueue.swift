import Dispatch

/// A serial queue: where a runtime shell's sources, timer and steps run, one at a time.
///
/// The runtime shells (`DatagramRuntime`) hold one of these instead of importing Dispatch, so that
/// `Transport` stays the one library that does; `dispatchQueue` is there for a caller that makes
/// its own Dispatch sources on the same queue (a signal source, a UI timer).
public final class SerialQueue: Sendable {
    /// The Dispatch queue underneath.
    public let dispatchQueue: DispatchQueue

    /// A new serial queue named `label` (shown by debuggers).
    public init(label: String) {
        dispatchQueue = DispatchQueue(label: label)
    }

    /// Runs `work` on the queue, later.
    public func async(execute work: @escaping @Sendable () -> Void) {
        dispatchQueue.async(execute: work)
    }

    /// Runs `work` on the queue and waits for it (never call it from the queue itself).
    public func sync<Result>(execute work: () throws -> Result) rethrows -> Result {
        try dispatchQueue.sync(execute: work)
    }

    /// Stops the process if the caller is not running on this queue.
    public func preconditionOnQueue() {
        dispatchPrecondition(condition: .onQueue(dispatchQueue))
    }
}

extension ReadSource {
    /// Starts watching `fileDescriptor`; `handler` and `onCancel` run on `queue`.
    public convenience init(fileDescriptor: Int32, queue: SerialQueue,
                            onCancel: (@Sendable () -> Void)? = nil, handler: @escaping @Sendable () -> Void) {
        self.init(fileDescriptor: fileDescriptor, queue: queue.dispatchQueue, onCancel: onCancel, handler: handler)
    }
}

extension WriteSource {
    /// Starts disabled; `handler` runs on `queue` while enabled and the descriptor is writable.
    public convenience init(fileDescriptor: Int32, queue: SerialQueue,
                            onCancel: (@Sendable () -> Void)? = nil, handler: @escaping @Sendable () -> Void) {
        self.init(fileDescriptor: fileDescriptor, queue: queue.dispatchQueue, onCancel: onCancel, handler: handler)
    }
}

extension RearmableTimer {
    /// Creates a disarmed timer whose `handler` runs on `queue`.
    public convenience init(queue: SerialQueue, handler: @escaping @Sendable () -> Void) {
        self.init(queue: queue.dispatchQueue, handler: handler)
    }
}

extension TCPStream {
    /// Connects to `address` without blocking; `completion` runs on `queue`.
    public static func connect(to address: SocketAddress, queue: SerialQueue, outputLimit: Int = defaultOutputLimit,
                               completion: @escaping @Sendable (Result<TCPStream, SystemError>) -> Void) {
        connect(to: address, queue: queue.dispatchQueue, outputLimit: outputLimit, completion: completion)
    }
}
