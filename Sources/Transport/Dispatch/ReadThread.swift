import Dispatch
import Glibc
import Synchronization

/// A thread of its own that sleeps in `poll` until a descriptor is readable, then runs `handler` on
/// `queue` from that thread (`DispatchQueue.sync`), and sleeps again.
///
/// What a `ReadSource` does, one thread hand-off shorter. A Dispatch read source on Linux is watched
/// by Dispatch's manager thread (epoll), which then wakes a worker thread to run the handler: two
/// wake-ups per datagram that arrives alone. Here the thread that `poll` wakes runs the handler
/// itself, with the queue's mutual exclusion (`sync` on an idle serial queue runs the block on the
/// calling thread). `bench relay-scale` (10,000 peers, each datagram arriving alone) spent 15 % of
/// the relay's CPU in Dispatch's manager thread and another 9 % switching threads.
///
/// For the one busy socket of a relay or a chat session: a thread per descriptor. Level-triggered
/// like a read source: while data is waiting `poll` returns at once, so a handler may stop after a
/// batch. `cancel()` wakes the thread through a pipe; once it has left its loop, `onCancel` runs
/// on `queue` (the moment to close the descriptor). Cancelling from inside the handler is fine.
public final class ReadThread: Sendable {
    private struct State {
        var isCancelled = false
        /// The thread has left its loop and closed `wake`: nothing may write to it any more.
        var hasExited = false
    }

    /// The two ends of the pipe that wakes the thread to leave.
    private let wake: Int32
    private let wakeWriter: Int32
    private let state: Mutex<State>

    /// Starts the thread at once. Fails only when the system cannot make a pipe or a thread.
    public init(fileDescriptor: Int32, queue: SerialQueue,
                onCancel: (@Sendable () -> Void)? = nil, handler: @escaping @Sendable () -> Void) throws(SystemError) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw SystemError(call: "pipe", code: errno) }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let wake = ends[0]
        self.wake = wake
        wakeWriter = ends[1]
        state = Mutex(State())
        let loop = Loop(fileDescriptor: fileDescriptor, wake: wake, wakeWriter: ends[1], queue: queue.dispatchQueue,
                        onCancel: onCancel, handler: handler, owner: self)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(loop).toOpaque()
        let result = pthread_create(&thread, nil, { context in
            let loop = Unmanaged<Loop>.fromOpaque(context!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Loop>.fromOpaque(context).release()
            close(wake)
            close(wakeWriter)
            throw SystemError(call: "pthread_create", code: result)
        }
        pthread_detach(thread)
    }

    /// True once `cancel()` has been called.
    public var isCancelled: Bool { state.withLock { $0.isCancelled } }

    /// Stops the thread: the handler is not called again after the thread sees the cancellation
    /// (a call already running finishes). Idempotent.
    public func cancel() {
        state.withLock { state in
            guard !state.isCancelled else { return }
            state.isCancelled = true
            guard !state.hasExited else { return }
            var one: UInt8 = 1
            _ = write(wakeWriter, &one, 1)
        }
    }

    /// Called by the loop as it leaves: closes the pipe under the lock, so `cancel()` never writes to
    /// a descriptor number the process may have reused.
    fileprivate func noteExited() {
        state.withLock { state in
            state.hasExited = true
            close(wake)
            close(wakeWriter)
        }
    }

    deinit {
        cancel()
        // The loop holds its owner weakly: if it has not left yet it finds the owner gone and
        // closes the pipe itself (`Loop.run`).
    }

    /// The thread's side. It holds its owner weakly: a `ReadThread` nobody holds any more is
    /// cancelled by its deinit, and the loop then leaves.
    private final class Loop: @unchecked Sendable {
        // @unchecked: used by the one thread it was made for, after `pthread_create` handed it over.
        let fileDescriptor: Int32
        let wake: Int32
        let wakeWriter: Int32
        let queue: DispatchQueue
        let onCancel: (@Sendable () -> Void)?
        let handler: @Sendable () -> Void
        weak var owner: ReadThread?

        init(fileDescriptor: Int32, wake: Int32, wakeWriter: Int32, queue: DispatchQueue, onCancel: (@Sendable () -> Void)?,
             handler: @escaping @Sendable () -> Void, owner: ReadThread) {
            self.fileDescriptor = fileDescriptor
            self.wake = wake
            self.wakeWriter = wakeWriter
            self.queue = queue
            self.onCancel = onCancel
            self.handler = handler
            self.owner = owner
        }

        func run() {
            var descriptors = [pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            while true {
                let ready = poll(&descriptors, 2, -1)
                if ready < 0 {
                    if errno == EINTR { continue }
                    break
                }
                // Cancelled (the pipe), or the descriptor is no longer valid: leave, never spin.
                if descriptors[1].revents != 0 || descriptors[0].revents & Int16(POLLNVAL) != 0 { break }
                guard let owner, !owner.isCancelled else { break }
                if descriptors[0].revents != 0 {
                    let handler = handler
                    queue.sync {
                        if !owner.isCancelled { handler() }
                    }
                }
            }
            if let owner { owner.noteExited() } else { close(wake); close(wakeWriter) }
            if let onCancel { queue.async(execute: onCancel) }
        }
    }
}

/// The reader of a busy datagram socket: a `ReadThread`, or a Dispatch `ReadSource` when the system
/// will not make the thread. Not Sendable, like `ReadSource`: keep it in the owner's locked state.
public final class SocketReader {
    private let thread: ReadThread?
    private let source: ReadSource?

    /// Starts watching `fileDescriptor`; `handler` runs on `queue` whenever it is readable.
    public init(fileDescriptor: Int32, queue: SerialQueue, onCancel: (@Sendable () -> Void)? = nil,
                handler: @escaping @Sendable () -> Void) {
        if let thread = try? ReadThread(fileDescriptor: fileDescriptor, queue: queue, onCancel: onCancel, handler: handler) {
            self.thread = thread
            source = nil
        } else {
            thread = nil
            source = ReadSource(fileDescriptor: fileDescriptor, queue: queue, onCancel: onCancel, handler: handler)
        }
    }

    /// True when a thread of its own reads the descriptor.
    public var hasOwnThread: Bool { thread != nil }

    /// Stops watching; `onCancel` runs on the queue once the descriptor is no longer watched.
    public func cancel() {
        thread?.cancel()
        source?.cancel()
    }
}
