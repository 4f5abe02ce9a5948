import Foundation
import DatagramRuntime
import Measurement
import Transport

/// The real `relay` executable, started as a child process on 127.0.0.1 with an ephemeral port.
///
/// It is found next to the running `bench` binary (the directory of `/proc/self/exe`), which is where
/// `swift build` puts every product of the package. Its log (stderr) is inherited.
final class RelayProcess {
    /// The relay's process id, for `ProcessSample.read`.
    let processID: Int32
    /// The address the relay printed ("listening on ADDRESS (udp+tcp)").
    private(set) var address = SocketAddress.loopbackIPv4(port: 0)
    private var isStopped = false

    /// Where the relay binary is expected.
    static var executablePath: String {
        let bench = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: bench).deletingLastPathComponent().appendingPathComponent("relay").path
    }

    /// Starts the relay with room for `maximumPeers` and waits (up to 10 s) for its listening line.
    init(maximumPeers: Int, isLimited: Bool = false, extraArguments: [String] = []) throws {
        let path = Self.executablePath
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchError("no relay executable at \(path); build it first (swift build -c release)")
        }
        // Every benchmark client comes from 127.0.0.1 and sends as fast as it can: lift the
        // per-address limits and the rate limit, which are there for real users on many hosts,
        // unless the benchmark is about them (`bench attack`).
        var arguments = ["--allow-plaintext", "--port", "0", "--bind", "127.0.0.1", "--max-peers", String(maximumPeers), "--log-level", "warning"]
        if !isLimited {
            arguments += ["--max-per-address", String(maximumPeers), "--max-handshakes-per-address", String(maximumPeers),
                          "--rate", "off"]
        }
        // An ephemeral relay unless the benchmark names a data directory.
        if !extraArguments.contains("--data") { arguments += ["--data", ":memory:"] }
        let child = try ChildProcess.spawn(path, arguments + extraArguments, standardOutput: .pipe)
        processID = child.processID
        Self.stopOnInterrupt(processID)
        let output = FileHandle(fileDescriptor: child.standardOutput!, closeOnDealloc: true)
        address = try Self.readListeningAddress(from: output)
    }

    // Written only on the main thread before the handlers below are installed; read by them.
    nonisolated(unsafe) private static var interruptedChildID: Int32 = 0

    /// On SIGINT or SIGTERM, stops the relay child too (`kill` and `_exit` are async-signal-safe), so a
    /// Ctrl-C during a benchmark leaves no relay running.
    private static func stopOnInterrupt(_ childID: Int32) {
        interruptedChildID = childID
        for number in [SIGINT, SIGTERM] {
            signal(number) { received in
                if RelayProcess.interruptedChildID > 0 { kill(RelayProcess.interruptedChildID, SIGTERM) }
                _exit(128 + received)
            }
        }
    }

    /// True while the relay has not exited (and `stop` was not called).
    var isRunning: Bool {
        guard !isStopped else { return false }
        var status: Int32 = 0
        return waitpid(processID, &status, WNOHANG) == 0
    }

    /// Sends SIGTERM and waits for the relay to exit (it tells its clients first, up to 2 s).
    func stop() {
        guard !isStopped else { return }
        isStopped = true
        ChildProcess.terminate(processID)
        _ = ChildProcess.wait(for: processID)
    }

    private static func readListeningAddress(from handle: FileHandle) throws -> SocketAddress {
        var text = ""
        while !text.contains("\n") {
            var ready = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 10_000) > 0 else { throw BenchError("the relay printed no address within 10 s") }
            let chunk = handle.availableData
            guard !chunk.isEmpty else { throw BenchError("the relay exited before printing its address") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        // "listening on 127.0.0.1:54321 (udp+tcp)"
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }),
              let addressText = line.dropFirst("listening on ".count).split(separator: " ").first,
              let colon = addressText.lastIndex(of: ":"),
              let port = UInt16(addressText[addressText.index(after: colon)...]) else {
            throw BenchError("unexpected output from the relay: \(text)")
        }
        return .loopbackIPv4(port: port)
    }
}

/// A failure that ends a benchmark, with a sentence for the user.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
