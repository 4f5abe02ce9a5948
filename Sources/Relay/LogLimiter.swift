import Chat
import CommandLineSupport
import Datagram

/// What a rate-limited log line is about. Lines of one kind share one budget.
enum LogKind: String, Sendable, Hashable, CaseIterable {
    /// A connection or stream refused (server full, shutting down).
    case refused
    /// A datagram dropped before any connection (bad cookie, junk).
    case statelessDrop = "stateless drop"
    /// A chat message that could not be decoded, or arrived where it must not.
    case malformed
    /// An ERROR sent to a user.
    case error
    /// A user joined, quit, left or changed name.
    case membership
    /// An operator or administrator acted (kick, ban, mode, kill, ...).
    case moderation
}

/// Caps repeated log lines: at most `linesPerInterval` lines of one kind per `interval`; the rest are
/// counted, and one line "suppressed K similar lines" reports them once the interval is over (at the
/// next line of any limited kind). One refused connection per datagram from a loop used to write tens
/// of kilobytes a second; now it writes at most `linesPerInterval` lines, plus one summary.
///
/// Time is the relay's input time: the limiter never reads a clock.
struct LogLimiter: Sendable {
    /// Lines of one kind written per interval before the rest are suppressed.
    static let linesPerInterval = 10
    /// The length of one counting interval.
    static let interval = Duration.seconds(1)

    private struct Window: Sendable {
        var start: Timestamp
        var written = 0
        var suppressed = 0
        var level: LogLevel
    }

    private var windows: [LogKind: Window] = [:]

    /// Decides whether a line of `kind` may be written at `now`, and returns the summaries of
    /// intervals that have ended with lines suppressed (each reported once).
    mutating func admit(_ kind: LogKind, level: LogLevel, at now: Timestamp) -> (write: Bool, summaries: [(LogLevel, String)]) {
        var summaries: [(LogLevel, String)] = []
        for candidate in LogKind.allCases {
            guard let window = windows[candidate], now - window.start >= Self.interval else { continue }
            if window.suppressed > 0 {
                summaries.append((window.level, "suppressed \(window.suppressed) similar lines (\(candidate.rawValue)) "
                                    + "after \(Self.linesPerInterval) in \(Self.interval)"))
            }
            windows[candidate] = nil
        }
        var window = windows[kind] ?? Window(start: now, level: level)
        window.level = max(window.level, level)
        let write = window.written < Self.linesPerInterval
        if write { window.written += 1 } else { window.suppressed += 1 }
        windows[kind] = window
        return (write, summaries)
    }
}

extension RelayCore {
    /// Logs a line about something a peer caused, within the per-kind budget of `LogLimiter`. Every
    /// peer-supplied string in `line` must already have gone through `SafeText.loggable`.
    mutating func log(_ level: LogLevel, _ kind: LogKind, at now: Timestamp, _ line: String) {
        let verdict = logLimiter.admit(kind, level: level, at: now)
        for (summaryLevel, summary) in verdict.summaries { log(summaryLevel, summary) }
        if verdict.write { log(level, line) }
    }
}

/// A peer-supplied string for a log line or an ERROR text: sanitised, bounded, quoted.
func quoted(_ text: String) -> String { SafeText.loggable(text) }
