import Glibc

/// Reads Linux `/proc` files: the one way Measurement (process CPU and memory, network counters)
/// reaches them.
public enum ProcFile {
    /// The whole file as text, or nil when it cannot be opened (the process is gone, not Linux).
    public static func read(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The unit of the CPU times in `/proc/PID/stat` (`sysconf(_SC_CLK_TCK)`, at least 1).
    public static var clockTicksPerSecond: Int64 { Int64(max(1, sysconf(Int32(_SC_CLK_TCK)))) }
}

/// The process's limit on open file descriptors.
public enum FileDescriptorLimit {
    /// Raises the soft limit to `wanted` (and the hard limit too when permitted); returns the soft limit now in force.
    @discardableResult
    public static func raise(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        let target = rlim_t(wanted)
        if limit.rlim_cur >= target { return Int(limit.rlim_cur) }
        var raised = limit
        raised.rlim_cur = target
        raised.rlim_max = max(limit.rlim_max, target)
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) != 0 {
            raised.rlim_cur = min(target, limit.rlim_max)
            raised.rlim_max = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised)
        }
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(limit.rlim_cur)
    }
}
