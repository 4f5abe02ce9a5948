import Transport

/// CPU time and resident memory of one process, read from `/proc` (Linux only).
public struct ProcessSample: Sendable, Hashable {
    /// User plus system CPU time consumed since the process started.
    public var cpuTime: Duration
    /// Resident set size (`VmRSS`) in bytes.
    public var residentBytes: Int

    /// Creates a sample.
    public init(cpuTime: Duration, residentBytes: Int) {
        self.cpuTime = cpuTime
        self.residentBytes = residentBytes
    }

    /// Reads `/proc/PID/stat` and `/proc/PID/status`; nil when the process is gone or unreadable.
    public static func read(processID: Int32) -> ProcessSample? {
        guard let stat = ProcFile.read("/proc/\(processID)/stat"),
              let status = ProcFile.read("/proc/\(processID)/status"),
              let ticks = cpuTicks(fromStat: stat),
              let resident = residentKilobytes(fromStatus: status) else { return nil }
        let ticksPerSecond = ProcFile.clockTicksPerSecond
        let cpuTime = Duration.microseconds(ticks * 1_000_000 / ticksPerSecond)
        return ProcessSample(cpuTime: cpuTime, residentBytes: resident * 1024)
    }

    /// The share of one core used between two samples taken `elapsed` apart, in percent.
    public static func corePercent(from earlier: ProcessSample, to later: ProcessSample, elapsed: Duration) -> Double {
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpuDelta = later.cpuTime - earlier.cpuTime
        let cpu = Double(cpuDelta.components.seconds) + Double(cpuDelta.components.attoseconds) / 1e18
        return wall > 0 ? cpu / wall * 100 : 0
    }

    /// utime + stime (fields 14 and 15), counted after the closing parenthesis of the command name.
    static func cpuTicks(fromStat stat: String) -> Int64? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3), so field N is fields[N - 3].
        guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return nil }
        return user + system
    }

    static func residentKilobytes(fromStatus status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }
}
