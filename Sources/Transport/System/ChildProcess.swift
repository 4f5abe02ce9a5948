import Glibc

/// The one way the tools and the end-to-end tests start another program: `posix_spawn`, with each
/// standard stream inherited, discarded or piped, and `waitpid` for the outcome.
///
/// Used by `compare --kernel-loss` (unshare, ip, nft), by `bench` (the relay) and by the end-to-end
/// tests (relay and chat with all three streams piped).
public enum ChildProcess {
    /// How a finished child ended.
    public struct Outcome: Sendable {
        /// The exit status, or 128 + the signal number when a signal ended it.
        public var status: Int32
        /// Everything it wrote to stdout, when captured.
        public var output: [UInt8]
    }

    /// What a child's standard stream is connected to.
    public enum Stream: Sendable, Hashable {
        /// This process's own.
        case inherit
        /// /dev/null.
        case discard
        /// A pipe; the parent's end is in `Spawned`.
        case pipe
    }

    /// A started child and the parent's ends of its piped streams (close them when done).
    public struct Spawned: Sendable {
        public var processID: Int32
        /// The write end of the child's standard input, when piped.
        public var standardInput: Int32?
        /// The read end of the child's standard output, when piped.
        public var standardOutput: Int32?
        /// The read end of the child's standard error, when piped.
        public var standardError: Int32?
    }

    /// Runs `path` with `arguments` (not including the program name) and waits for it. Standard
    /// error is inherited, so a child's progress and errors reach the terminal as they happen.
    ///
    /// `environment` entries are added to this process's environment for the child.
    public static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                           captureOutput: Bool) throws -> Outcome {
        let child = try spawn(path, arguments, environment: environment,
                              standardOutput: captureOutput ? .pipe : .discard)
        var output: [UInt8] = []
        if let descriptor = child.standardOutput {
            output = readAll(descriptor)
            close(descriptor)
        }
        return Outcome(status: wait(for: child.processID), output: output)
    }

    /// Starts `path` with `arguments`, its streams as asked; returns at once.
    public static func spawn(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                             standardInput: Stream = .inherit, standardOutput: Stream = .discard,
                             standardError: Stream = .inherit) throws -> Spawned {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var childEnds: [Int32] = []
        var parentEnds: [Int32?] = []
        defer { childEnds.forEach { close($0) } }
        for (stream, target, isInput) in [(standardInput, STDIN_FILENO, true), (standardOutput, STDOUT_FILENO, false),
                                          (standardError, STDERR_FILENO, false)] {
            switch stream {
            case .inherit:
                parentEnds.append(nil)
            case .discard:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", isInput ? O_RDONLY : O_WRONLY, 0)
                parentEnds.append(nil)
            case .pipe:
                var ends: [Int32] = [-1, -1]
                guard pipe(&ends) == 0 else {
                    parentEnds.compactMap { $0 }.forEach { close($0) }
                    throw SystemError(call: "pipe", code: errno)
                }
                ends.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
                let (childEnd, parentEnd) = isInput ? (ends[0], ends[1]) : (ends[1], ends[0])
                posix_spawn_file_actions_adddup2(&actions, childEnd, target)
                childEnds.append(childEnd)
                parentEnds.append(parentEnd)
            }
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
        guard result == 0 else {
            parentEnds.compactMap { $0 }.forEach { close($0) }
            throw SystemError(call: "posix_spawn \(path)", code: result)
        }
        return Spawned(processID: processID, standardInput: parentEnds[0], standardOutput: parentEnds[1],
                       standardError: parentEnds[2])
    }

    /// Waits for the child to end and returns its status (128 + signal when a signal ended it).
    public static func wait(for processID: Int32) -> Int32 {
        var status: Int32 = 0
        while waitpid(processID, &status, 0) < 0 {
            guard errno == EINTR else { return -1 }
        }
        return decode(status)
    }

    /// The child's status if it has ended (reaping it), or nil while it runs.
    public static func status(ifEnded processID: Int32) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(processID, &status, WNOHANG)
        return result == processID ? decode(status) : nil
    }

    /// Sends SIGTERM.
    public static func terminate(_ processID: Int32) {
        Glibc.kill(processID, SIGTERM)
    }

    /// Sends SIGKILL.
    public static func kill(_ processID: Int32) {
        Glibc.kill(processID, SIGKILL)
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
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
