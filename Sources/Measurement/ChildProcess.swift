import Transport
import Glibc

/// Runs another program to completion with `posix_spawn` and `waitpid`, optionally capturing stdout.
///
/// Used by `compare --kernel-loss` (unshare, ip, nft) and by `bench` (the relay). Standard error is
/// inherited, so a child's progress and errors reach the terminal as they happen.
public enum ChildProcess {
    /// How a finished child ended.
    public struct Outcome: Sendable {
        /// The exit status, or 128 + the signal number when a signal ended it.
        public var status: Int32
        /// Everything it wrote to stdout, when captured.
        public var output: [UInt8]
    }

    /// Runs `path` with `arguments` (not including the program name) and waits for it.
    ///
    /// `environment` entries are added to this process's environment for the child.
    public static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                           captureOutput: Bool) throws -> Outcome {
        var pipeEnds: [Int32] = [-1, -1]
        if captureOutput {
            guard pipe(&pipeEnds) == 0 else { throw MeasurementError("pipe") }
            pipeEnds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        }
        let processID = try spawn(path, arguments, environment: environment,
                                  stdout: captureOutput ? pipeEnds[1] : nil)
        var output: [UInt8] = []
        if captureOutput {
            close(pipeEnds[1])
            output = readAll(pipeEnds[0])
            close(pipeEnds[0])
        }
        return Outcome(status: wait(for: processID), output: output)
    }

    /// Starts `path` and returns at once with its process id; stdout goes to /dev/null.
    public static func start(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Int32 {
        try spawn(path, arguments, environment: environment, stdout: nil)
    }

    /// Waits for a child started with `start` and returns its status (128 + signal when killed).
    public static func wait(for processID: Int32) -> Int32 {
        var status: Int32 = 0
        while waitpid(processID, &status, 0) < 0 {
            guard errno == EINTR else { return -1 }
        }
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// Sends SIGTERM to a child started with `start`.
    public static func terminate(_ processID: Int32) {
        kill(processID, SIGTERM)
    }

    private static func spawn(_ path: String, _ arguments: [String], environment: [String: String],
                              stdout: Int32?) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdout {
            posix_spawn_file_actions_adddup2(&actions, stdout, STDOUT_FILENO)
        } else {
            posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)
        }
        var merged: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                merged[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        merged.merge(environment) { _, new in new }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var processID: pid_t = 0
        let result = posix_spawn(&processID, path, &actions, nil, argv, envp)
        guard result == 0 else { throw MeasurementError("posix_spawn \(path)", code: result) }
        return processID
    }

    private static func readAll(_ descriptor: Int32) -> [UInt8] {
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return output }
            output.append(contentsOf: buffer[0..<count])
        }
    }
}
