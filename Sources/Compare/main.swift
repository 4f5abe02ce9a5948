import CommandLineSupport
import Foundation
import Transport

// compare: udp mode and tcp mode side by side under the same loss, with the socket floor as a baseline.

/// `EX_UNAVAILABLE` from sysexits.h: a required tool or kernel feature is missing.
let unavailableExitStatus: Int32 = 69

func exitWith(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
    exit(status)
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst())).optionsOrExit()

let seed = options.seed ?? UInt64.random(in: 1...999_999)

if let level = KernelLoss.namespaceLevel {
    // Inside the private namespace: set up loss, measure one level, print it as JSON for the parent.
    do {
        try KernelLoss.prepareNamespace(lossPercent: level)
    } catch {
        exitWith("cannot set up kernel loss in the namespace: \(error) (apt-get install nftables iproute2)",
                 status: unavailableExitStatus)
    }
    let result = LevelRunner(options: options, seed: seed, lossKind: .kernel).run(lossPercent: level)
    FileHandle.standardOutput.write(try JSONEncoder().encode(result))
    exit(0)
}

let lossKind: LossKind
let lossReason: String
switch options.lossChoice {
case .kernel:
    if let missing = KernelLoss.missingRequirement() { exitWith(missing, status: unavailableExitStatus) }
    lossKind = .kernel
    lossReason = "as asked (--kernel-loss)"
case .simulated:
    lossKind = .simulated
    lossReason = "as asked (--simulated-loss); it reaches udp mode only"
case .automatic:
    if let missing = KernelLoss.missingRequirement() {
        lossKind = .simulated
        lossReason = "because kernel loss cannot run here: \(missing); it reaches udp mode only"
    } else {
        lossKind = .kernel
        lossReason = "in private network namespaces, so every mode faces the same loss"
    }
}
var report = Report(lossKind: lossKind, seed: seed, rate: options.rate, size: options.size,
                    messages: options.messageCount, bulkBytes: options.bulkBytes,
                    machine: MachineDescription.current, levels: [])
Progress.line("compare: \(lossKind.rawValue) loss \(lossReason); levels \(options.lossPercents.map { "\($0)%" }.joined(separator: ", ")), seed \(seed)")
for level in options.lossPercents {
    if lossKind == .kernel {
        do {
            report.levels.append(try KernelLoss.measureLevel(level, options: options, seed: seed))
        } catch {
            Progress.line("[\(level)%] FAILED: \(error)")
            report.levels.append(LevelResult(lossPercent: level, results: [
                ModeResult(mode: .udp, isLossApplied: true, notes: ["\(error)"], isFailed: true),
            ]))
        }
    } else {
        report.levels.append(LevelRunner(options: options, seed: seed, lossKind: .simulated).run(lossPercent: level))
    }
}
report.targets = report.checkTargets()

if options.isJSON {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    FileHandle.standardOutput.write(try encoder.encode(report))
    print()
} else {
    print(TableReport(report: report).render(), terminator: "")
}
if let path = options.svgPath {
    do {
        try SVGChart(report: report).render().write(toFile: path, atomically: true, encoding: .utf8)
        Progress.line("chart written to \(path)")
    } catch {
        exitWith("cannot write the chart to '\(path)': \(error)", status: 1)
    }
}
exit(report.isFailed ? 1 : 0)
