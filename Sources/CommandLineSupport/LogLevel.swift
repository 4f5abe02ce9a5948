/// How important a log line is: one scale for the relay core's lines, the system logger and the
/// executables' `--log-level` option. A logger prints lines at or above its level.
public enum LogLevel: Int, Comparable, CaseIterable, Sendable, CustomStringConvertible {
    /// Every packet and decision; noisy.
    case debug
    /// Joins, leaves, starts and stops.
    case info
    /// Something odd that was handled (a malformed datagram, a refused peer).
    case warning
    /// Something failed.
    case error

    /// Parses `debug`, `info`, `warning` or `error`.
    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = level
    }

    /// The names `--log-level` accepts.
    public static var names: [String] { allCases.map(\.description) }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        }
    }
}
