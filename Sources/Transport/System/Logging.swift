import CommandLineSupport
import Glibc

/// Writes timestamped lines to standard error, or to another sink (the chat client's console).
///
/// Line format: `2026-11-22T03:14:05.123Z info    relay: listening on 127.0.0.1:9000`. Safe to call
/// from any thread; each line is written with a single `write`.
public struct Logger: Sendable {
    /// Lines below this level are skipped without building their text.
    public var level: LogLevel
    /// Names the component, for example `relay`.
    public var label: String
    private let sink: @Sendable (String) -> Void

    /// A logger for `label` that writes lines at or above `level` to `sink` (standard error by default).
    public init(label: String, level: LogLevel, sink: @escaping @Sendable (String) -> Void = Logger.standardError) {
        self.label = label
        self.level = level
        self.sink = sink
    }

    /// Writes `message` if `level` is at or above the logger's level.
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard level >= self.level else { return }
        let name = level.description
        let padded = name + String(repeating: " ", count: max(0, 7 - name.count))
        sink("\(LogClock.timestamp()) \(padded) \(label): \(message())")
    }

    /// Logs at `debug`.
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }
    /// Logs at `info`.
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    /// Logs at `warning`.
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    /// Logs at `error`.
    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }

    /// The default sink: the line and a newline to file descriptor 2.
    public static let standardError: @Sendable (String) -> Void = { line in
        writeFully(2, Array((line + "\n").utf8))
    }
}

/// Writes all of `bytes` to `fileDescriptor`, retrying short writes and EINTR; gives up on other errors.
func writeFully(_ fileDescriptor: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fileDescriptor, $0.baseAddress, $0.count) }
        if written > 0 {
            offset += written
        } else if written < 0, errno == EINTR {
            continue
        } else {
            return
        }
    }
}

/// Wall-clock time for log lines (UTC, milliseconds). Never used for protocol timing.
enum LogClock {
    /// Now in UTC as `2026-11-22T03:14:05.123Z`.
    static func timestamp() -> String {
        let (parts, nanoseconds) = now(local: false)
        let date = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
        let millis = String(nanoseconds / 1_000_000)
        return "\(date)T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
            + String(repeating: "0", count: 3 - millis.count) + millis + "Z"
    }

    /// Now in local time as `03:14:05`, the time column of chat lines.
    static func timeOfDay() -> String {
        let (parts, _) = now(local: true)
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }

    private static func now(local: Bool) -> (tm, Int) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        if local { localtime_r(&seconds, &parts) } else { gmtime_r(&seconds, &parts) }
        return (parts, spec.tv_nsec)
    }

    private static func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
