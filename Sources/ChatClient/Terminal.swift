import Dispatch
import Glibc
import Synchronization

/// The controlling terminal on standard input: raw mode for the line editor, and its restoration.
///
/// Raw here means: no line buffering, no echo, no signal keys (Ctrl-C arrives as a byte), no flow
/// control, Return as `\r`. Output processing stays on, so `\n` still moves to the start of the next
/// line. `restore()` is idempotent and is also called on SIGTERM, SIGHUP and SIGINT by the handlers
/// `restoreOnSignals(then:)` installs.
final class Terminal: Sendable {
    private let fileDescriptor: Int32
    private let saved: Mutex<termios?>
    private let signalSources = Mutex<[DispatchSourceSignal]>([])

    /// True when `fileDescriptor` is a terminal.
    static func isTerminal(_ fileDescriptor: Int32) -> Bool { isatty(fileDescriptor) == 1 }

    /// The terminal on `fileDescriptor` (standard input by default), or nil when it is not one.
    init?(fileDescriptor: Int32 = 0) {
        guard Terminal.isTerminal(fileDescriptor) else { return nil }
        var attributes = termios()
        guard tcgetattr(fileDescriptor, &attributes) == 0 else { return nil }
        self.fileDescriptor = fileDescriptor
        self.saved = Mutex(attributes)
    }

    /// Switches to raw mode; the settings found at `init` are kept for `restore()`.
    func enableRawMode() {
        saved.withLock { saved in
            guard var raw = saved else { return }
            raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
            raw.c_iflag &= ~tcflag_t(IXON | ICRNL | INLCR)
            withUnsafeMutableBytes(of: &raw.c_cc) { bytes in
                bytes[Int(VMIN)] = 1
                bytes[Int(VTIME)] = 0
            }
            tcsetattr(fileDescriptor, TCSAFLUSH, &raw)
        }
    }

    /// Puts back the settings found at `init`. Safe to call more than once and from any thread.
    func restore() {
        saved.withLock { saved in
            guard var original = saved else { return }
            tcsetattr(fileDescriptor, TCSAFLUSH, &original)
        }
    }

    /// On SIGTERM, SIGHUP or SIGINT: restore the terminal, then call `handler` with the signal number
    /// on `queue`. The default actions of those signals are disabled for as long as the process runs.
    func restoreOnSignals(queue: DispatchQueue, then handler: @escaping @Sendable (Int32) -> Void) {
        signalSources.withLock { sources in
            for number in [SIGTERM, SIGHUP, SIGINT] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { [self] in
                    restore()
                    handler(number)
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// The terminal's width in columns, or 80 when it cannot be asked.
    var width: Int {
        var size = winsize()
        guard ioctl(fileDescriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}

/// Calls a handler with every chunk read from a file descriptor (standard input), on a Dispatch queue.
///
/// `onEndOfInput` is called once when the reader sees end
/// of file or an error, after which the source is cancelled.
final class InputReader: Sendable {
    private let source: Mutex<DispatchSourceRead?>

    /// Starts reading `fileDescriptor` on `queue`.
    init(fileDescriptor: Int32 = 0, queue: DispatchQueue,
                onBytes: @escaping @Sendable ([UInt8]) -> Void, onEndOfInput: @escaping @Sendable () -> Void) {
        source = Mutex(nil)
        source.withLock { source in
            let reader = DispatchSource.makeReadSource(fileDescriptor: fileDescriptor, queue: queue)
            reader.setEventHandler { [self] in
                drain(fileDescriptor, onBytes: onBytes, onEndOfInput: onEndOfInput)
            }
            reader.resume()
            source = reader
        }
    }

    /// One `read` per readiness event: the descriptor stays blocking (a terminal's descriptor is
    /// shared with standard output and with the shell, which must not see it turned non-blocking).
    private func drain(_ fileDescriptor: Int32, onBytes: ([UInt8]) -> Void, onEndOfInput: () -> Void) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var count: Int
        repeat {
            count = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
        } while count < 0 && errno == EINTR
        if count > 0 {
            onBytes(Array(buffer[0..<count]))
        } else if count == 0 || errno != EAGAIN {
            cancel()
            onEndOfInput()
        }
    }

    /// Stops reading.
    func cancel() {
        source.withLock { source in
            source?.cancel()
            source = nil
        }
    }
}
