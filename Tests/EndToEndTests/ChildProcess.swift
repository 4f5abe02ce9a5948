import Foundation
import Testing

/// The directory holding the built executables: the test bundle sits next to them in `.build/debug`.
let productsDirectory: URL = {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var directory = executable.deletingLastPathComponent()
    while directory.path != "/" {
        if FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("relay").path) {
            return directory
        }
        directory = directory.deletingLastPathComponent()
    }
    return executable.deletingLastPathComponent()
}()

/// One executable under test, with its standard streams piped (started by `Spawner`).
final class ChildProcess: @unchecked Sendable { // buffers and status guarded by `lock`
    let name: String
    let processID: Int32
    private let input: FileHandle
    private let output: FileHandle
    private let errors: FileHandle
    private let lock = NSLock()
    private var outputBytes = Data()
    private var errorBytes = Data()
    private var exitStatus: Int32?

    /// Starts `.build/debug/<tool>` with `arguments`.
    init(_ tool: String, _ arguments: [String], name: String? = nil, environment: [String: String] = [:]) throws {
        self.name = name ?? tool
        signal(SIGPIPE, SIG_IGN)  // a child that exited early makes `send` fail, not this process die
        var environment = environment
        if tool == "chat", environment["XDG_CONFIG_HOME"] == nil {
            // A client the test gives no configuration directory gets a fresh one, never the runner's
            // ~/.config: there, a relay pinned by an earlier test (or run) on the same ephemeral port
            // with another key would make this client refuse its relay (known_relays).
            let home = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-config-\(UUID().uuidString)")
            try? FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            environment["XDG_CONFIG_HOME"] = home.path
        }
        let child = try Spawner.spawn(productsDirectory.appendingPathComponent(tool).path, arguments, environment: environment,
                                      standardInput: .pipe, standardOutput: .pipe, standardError: .pipe)
        processID = child.processID
        input = FileHandle(fileDescriptor: child.standardInput!, closeOnDealloc: true)
        output = FileHandle(fileDescriptor: child.standardOutput!, closeOnDealloc: true)
        errors = FileHandle(fileDescriptor: child.standardError!, closeOnDealloc: true)
        output.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            lock.withLock { outputBytes.append(data) }
        }
        errors.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            lock.withLock { errorBytes.append(data) }
        }
    }

    /// True until the process has ended (and been reaped).
    var isRunning: Bool {
        lock.withLock {
            if exitStatus == nil { exitStatus = Spawner.status(ifEnded: processID) }
            return exitStatus == nil
        }
    }

    /// Everything written to standard output so far.
    var standardOutput: String { lock.withLock { String(decoding: outputBytes, as: UTF8.self) } }
    /// Everything written to standard error so far.
    var standardError: String { lock.withLock { String(decoding: errorBytes, as: UTF8.self) } }

    /// Writes lines to standard input.
    func send(_ lines: [String]) {
        try? input.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
    }

    /// Closes standard input (end of input).
    func closeInput() {
        try? input.close()
    }

    /// Waits until `condition` holds for the captured output, or records an issue after `timeout` seconds.
    @discardableResult
    func waitForOutput(_ what: String, timeout: Double, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(standardOutput) { return true }
            if !isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Thread.sleep(forTimeInterval: 0.1)
        if condition(standardOutput) { return true }
        Issue.record("\(name): \(what) not seen within \(timeout) s.\n--- stdout:\n\(standardOutput)\n--- stderr:\n\(standardError)")
        return false
    }

    /// Waits for the process to exit and returns its status, or kills it and returns nil after `timeout`.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        guard !isRunning else {
            Spawner.kill(processID)
            _ = Spawner.wait(for: processID)
            Issue.record("\(name) did not exit within \(timeout) s.\n--- stderr:\n\(standardError)")
            return nil
        }
        Thread.sleep(forTimeInterval: 0.1)
        return lock.withLock { exitStatus }
    }

    /// Sends SIGTERM.
    func terminate() {
        if isRunning { Spawner.terminate(processID) }
    }

    deinit {
        if isRunning {
            Spawner.kill(processID)
            _ = Spawner.wait(for: processID)
        }
    }
}

/// Starts a relay on a free loopback port (or on `port`) and returns it with the port it printed.
func startRelay(port: Int = 0, arguments: [String] = []) throws -> (ChildProcess, Int) {
    let level = ProcessInfo.processInfo.environment["E2E_VERBOSE"] == nil ? "info" : "debug"
    // Ephemeral unless the test gives a data directory.
    let data = arguments.contains("--data") ? [] : ["--data", ":memory:"]
    let relay = try ChildProcess("relay", ["--port", "\(port)", "--log-level", level] + data + arguments)
    relay.waitForOutput("the listening line", timeout: 10) { $0.contains("(udp+tcp)") }
    let line = relay.standardOutput.split(separator: "\n").first { $0.contains("listening on") } ?? ""
    let printedPort = line.split(separator: " ").dropLast().last?.split(separator: ":").last.flatMap { Int($0) }
    return (relay, try #require(printedPort, "no port in '\(line)'"))
}

/// Starts a chat client in line mode and waits until it is in the lobby.
func startClient(_ name: String, port: Int, arguments: [String]) throws -> ChildProcess {
    let client = try ChildProcess("chat", ["--name", name, "--relay", "127.0.0.1:\(port)"] + arguments, name: name)
    client.waitForOutput("joining #lobby", timeout: 15) { $0.contains("You are now in #lobby") }
    return client
}

/// The sequence numbers of `m SENDER N` lines from `sender` in a client's output, in order.
func sequence(from sender: String, in output: String) -> [Int] {
    output.split(separator: "\n").compactMap { line -> Int? in
        guard let range = line.range(of: "<\(sender)> m \(sender) ") else { return nil }
        return Int(line[range.upperBound...])
    }
}
