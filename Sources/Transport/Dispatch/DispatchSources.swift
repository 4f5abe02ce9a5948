import Datagram
import Dispatch
import Synchronization

/// Pausing, resuming and cancelling one dispatch source, shared by `ReadSource` and `WriteSource`.
///
/// Dispatch counts suspensions, so the switch tracks `isEnabled` itself and ignores repeated calls;
/// a suspended source is resumed before it is cancelled, or its cancellation would never complete.
private final class SourceSwitch {
    let source: any DispatchSourceProtocol
    private(set) var isEnabled: Bool
    private var isCancelled = false

    init(_ source: any DispatchSourceProtocol, isEnabled: Bool) {
        self.source = source
        self.isEnabled = isEnabled
        if isEnabled { source.resume() }
    }

    func setEnabled(_ enabled: Bool) {
        guard !isCancelled, enabled != isEnabled else { return }
        isEnabled = enabled
        if enabled { source.resume() } else { source.suspend() }
    }

    func cancel() {
        guard !isCancelled else { return }
        isCancelled = true
        if !isEnabled { source.resume() }
        source.cancel()
    }
}

/// A dispatch source that calls `handler` on `queue` whenever a descriptor is readable.
///
/// Not Sendable: create it, cancel it and toggle it on one serial queue (a driver keeps it inside
/// its `Mutex` state). The source is level-triggered: it fires again as long as data is waiting, so
/// a handler may stop reading after a batch without losing anything. `cancel()` is idempotent;
/// `onCancel` runs on `queue` once the source is gone, which is the moment it is safe to close the
/// descriptor.
public final class ReadSource {
    private let control: SourceSwitch

    /// Starts watching `fileDescriptor` at once.
    public init(fileDescriptor: Int32, queue: DispatchQueue,
                onCancel: (@Sendable () -> Void)? = nil, handler: @escaping @Sendable () -> Void) {
        let source = DispatchSource.makeReadSource(fileDescriptor: fileDescriptor, queue: queue)
        source.setEventHandler(handler: handler)
        if let onCancel { source.setCancelHandler(handler: onCancel) }
        control = SourceSwitch(source, isEnabled: true)
    }

    /// Whether the handler is called when the descriptor is readable (true from the start).
    public var isEnabled: Bool { control.isEnabled }

    /// Pauses or resumes reading (backpressure: unread data stays in the kernel, and a TCP peer's
    /// window closes); repeated calls with the same value do nothing.
    public func setEnabled(_ enabled: Bool) { control.setEnabled(enabled) }

    /// Stops watching; `handler` is not called after the cancellation is processed.
    public func cancel() { control.cancel() }

    deinit { control.cancel() }
}

/// A dispatch source that calls `handler` on `queue` while a descriptor is writable and the source
/// is enabled; for flushing a `TCPStream`'s outgoing buffer and finishing a non-blocking connect.
///
/// Starts disabled (a writable socket would otherwise fire without pause). Not Sendable: use it on
/// one serial queue.
public final class WriteSource {
    private let control: SourceSwitch

    /// Creates a disabled source on `fileDescriptor`.
    public init(fileDescriptor: Int32, queue: DispatchQueue,
                onCancel: (@Sendable () -> Void)? = nil, handler: @escaping @Sendable () -> Void) {
        let source = DispatchSource.makeWriteSource(fileDescriptor: fileDescriptor, queue: queue)
        source.setEventHandler(handler: handler)
        if let onCancel { source.setCancelHandler(handler: onCancel) }
        control = SourceSwitch(source, isEnabled: false)
    }

    /// Whether the handler is being called while the descriptor is writable.
    public var isEnabled: Bool { control.isEnabled }

    /// Starts or stops calling the handler; repeated calls with the same value do nothing.
    public func setEnabled(_ enabled: Bool) { control.setEnabled(enabled) }

    /// Stops watching for good.
    public func cancel() { control.cancel() }

    deinit { control.cancel() }
}

/// The one timer of a driver: re-armed to a new deadline after every input, never one timer per packet.
///
/// Not Sendable: create, arm and cancel it on one serial queue. `arm(at:now:)` replaces any earlier
/// deadline; `arm(at: nil, ...)` disarms. The handler may run a little late (never early by more
/// than Dispatch's leeway), so the handler reads the clock itself.
public final class RearmableTimer {
    private let source: DispatchSourceTimer
    private var isCancelled = false

    /// The deadline most recently armed, if any (it stays set after the timer fired).
    public private(set) var deadline: Timestamp?
    /// True from arming a deadline until the handler runs (set and cleared on the timer's queue; a
    /// box because the handler closure cannot capture `self` before `init` is done).
    private let pending = PendingFlag()

    /// Creates a disarmed timer whose `handler` runs on `queue`.
    public init(queue: DispatchQueue, handler: @escaping @Sendable () -> Void) {
        source = DispatchSource.makeTimerSource(flags: .strict, queue: queue)
        let pending = pending
        source.setEventHandler {
            pending.isSet.store(false, ordering: .relaxed)
            handler()
        }
        source.schedule(deadline: .distantFuture, leeway: .nanoseconds(0))
        source.resume()
    }

    /// Arms the timer for `deadline` (a timestamp of the same clock as `now`), or disarms it when nil.
    /// A deadline at or before `now` fires as soon as the queue is free.
    public func arm(at deadline: Timestamp?, now: Timestamp) {
        guard !isCancelled else { return }
        // The same deadline, armed and not yet fired: leave it. Rescheduling a Dispatch timer wakes
        // Dispatch's manager thread to reprogram its timer heap, and a relay re-arms after every
        // step, mostly to the same whole millisecond (`RelayHost.timerGranule`).
        if let deadline, deadline == self.deadline, pending.isSet.load(ordering: .relaxed) { return }
        self.deadline = deadline
        guard let deadline else {
            pending.isSet.store(false, ordering: .relaxed)
            source.schedule(deadline: .distantFuture, leeway: .nanoseconds(0))
            return
        }
        pending.isSet.store(true, ordering: .relaxed)
        let delay = max(Duration.zero, deadline - now)
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        source.schedule(deadline: .now() + .nanoseconds(Int(nanoseconds)), leeway: .microseconds(100))
    }

    /// Stops the timer for good.
    public func cancel() {
        guard !isCancelled else { return }
        isCancelled = true
        source.cancel()
    }

    deinit {
        cancel()
    }

    /// Whether an armed deadline has yet to fire.
    private final class PendingFlag: Sendable {
        let isSet = Atomic(false)
    }
}
