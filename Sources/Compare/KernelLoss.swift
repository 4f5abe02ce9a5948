import Foundation
import DatagramRuntime
import Measurement
import Transport

/// `--kernel-loss`: every level runs in a private network namespace where nftables drops a share of
/// the packets arriving on loopback, so udp mode, tcp mode and both baselines face the same loss.
///
/// The parent re-executes this program under `unshare -rn` with `--namespace-level PERCENT`; the child
/// brings `lo` up, installs the rule, measures the level and prints it as JSON on stdout. Packets are
/// dropped on input only: a drop on output makes `sendto` fail with EPERM, which no real network does.
enum KernelLoss {
    /// The environment variable that tells a re-executed child which level it measures.
    static let levelVariable = "COMPARE_NAMESPACE_LEVEL"

    /// The level this process must measure inside its namespace, when it is such a child.
    static var namespaceLevel: Int? {
        ProcessInfo.processInfo.environment[levelVariable].flatMap(Int.init).flatMap { (0...100).contains($0) ? $0 : nil }
    }

    /// Why kernel loss cannot run here, with what to install, or nil when it can.
    static func missingRequirement() -> String? {
        for (tool, package) in [("unshare", "util-linux"), ("ip", "iproute2"), ("nft", "nftables")]
        where executablePath(tool) == nil {
            return "kernel loss needs '\(tool)', which is not installed (apt-get install \(package))"
        }
        guard let unshare = executablePath("unshare"),
              let outcome = try? ChildProcess.run(unshare, ["-rn", "true"], captureOutput: false),
              outcome.status == 0 else {
            return "kernel loss needs user namespaces: 'unshare -rn true' failed. Run as root, or enable them "
                + "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0)."
        }
        return nil
    }

    /// Parent side: measures one level in a fresh namespace and returns what the child reported.
    static func measureLevel(_ percent: Int, options: Options, seed: UInt64) throws -> LevelResult {
        guard let unshare = executablePath("unshare") else { throw RunFailure("unshare is missing") }
        let program = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let arguments = ["-rn", program, "--loss", String(percent),
                         "--messages", String(options.messageCount), "--rate", String(options.rate),
                         "--size", String(options.size), "--bulk-bytes", String(options.bulkBytes),
                         "--file-bytes", String(options.fileBytes),
                         "--seed", String(seed)]
        let outcome = try ChildProcess.run(unshare, arguments, environment: [levelVariable: String(percent)],
                                           captureOutput: true)
        guard outcome.status == 0 else {
            throw RunFailure("the namespace for \(percent) % loss exited with status \(outcome.status)")
        }
        do {
            return try JSONDecoder().decode(LevelResult.self, from: Data(outcome.output))
        } catch {
            throw RunFailure("the namespace for \(percent) % loss printed no result (\(error))")
        }
    }

    /// Child side: brings loopback up and installs the drop rule; throws with the failing command.
    static func prepareNamespace(lossPercent: Int) throws {
        var commands: [(String, [String])] = [
            ("ip", ["link", "set", "lo", "up"]),
            ("nft", ["add", "table", "inet", "compare"]),
            ("nft", ["add chain inet compare input { type filter hook input priority 0; }"]),
        ]
        if lossPercent > 0 {
            commands.append(("nft", ["add rule inet compare input iifname lo numgen random mod 100 < \(lossPercent) drop"]))
        }
        for (tool, arguments) in commands {
            guard let path = executablePath(tool) else { throw RunFailure("'\(tool)' is not installed") }
            let outcome = try ChildProcess.run(path, arguments, captureOutput: false)
            guard outcome.status == 0 else {
                throw RunFailure("'\(tool) \(arguments.joined(separator: " "))' failed with status \(outcome.status)")
            }
        }
    }

    /// The full path of `tool` on PATH (plus the sbin directories, which a non-root PATH may lack).
    static func executablePath(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return directories.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
