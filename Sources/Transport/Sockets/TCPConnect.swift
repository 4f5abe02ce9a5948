import Dispatch

extension TCPStream {
    /// Connects to `address` without blocking and calls `completion` on `queue` exactly once: with
    /// the connected stream, or with the failure (`connect: Connection refused (errno 111)`, ...).
    ///
    /// A `WriteSource` watches the socket until the connect settles; it keeps itself alive until then.
    public static func connect(
        to address: SocketAddress, queue: DispatchQueue, outputLimit: Int = defaultOutputLimit,
        completion: @escaping @Sendable (Result<TCPStream, SystemError>) -> Void
    ) {
        let stream: TCPStream
        do throws(SystemError) {
            stream = try TCPStream.connect(to: address, outputLimit: outputLimit)
        } catch {
            queue.async { completion(.failure(error)) }
            return
        }
        if stream.isConnected {
            queue.async { completion(.success(stream)) }
            return
        }
        queue.async {
            ConnectWatcher(stream: stream, queue: queue, completion: completion).begin()
        }
    }
}

/// Waits on `queue` for a pending connect to settle. Lives only on its queue; the write source's
/// handler holds it strongly until it finishes, then the cycle is broken by cancelling the source.
private final class ConnectWatcher {
    private let stream: TCPStream
    private let completion: @Sendable (Result<TCPStream, SystemError>) -> Void
    private var source: WriteSource?

    init(stream: TCPStream, queue: DispatchQueue,
         completion: @escaping @Sendable (Result<TCPStream, SystemError>) -> Void) {
        self.stream = stream
        self.completion = completion
        let descriptor = stream.fileDescriptor
        let box = WatcherBox()
        source = WriteSource(fileDescriptor: descriptor, queue: queue) { box.watcher?.check() }
        box.watcher = self
    }

    func begin() {
        source?.setEnabled(true)
    }

    private func check() {
        let result: Result<TCPStream, SystemError>
        do throws(SystemError) {
            guard try stream.finishConnecting() else { return }
            result = .success(stream)
        } catch {
            stream.close()
            result = .failure(error)
        }
        source?.cancel()
        source = nil
        completion(result)
    }
}

/// Holds the watcher for the source's handler; touched only on the watcher's queue.
private final class WatcherBox: @unchecked Sendable {  // guard: used only on the connect's serial queue
    var watcher: ConnectWatcher?
}
