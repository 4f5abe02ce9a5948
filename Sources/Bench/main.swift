import CommandLineSupport
import Foundation
import Transport

// bench: relay benchmarks (idle-peer scale, room fan-out) against the real relay on loopback.

let overview = """
    OVERVIEW: Relay benchmarks for Datagram Chat, on loopback against the real relay executable.

    Usage: bench <subcommand> [options]

    SUBCOMMANDS:
      relay-scale   N idle UDP peers heartbeating at 1 Hz; the relay's CPU and RSS (target < 25 %, < 100 MB)
      fanout        One sender, M receivers in #lobby; deliveries per second, exactly once and in order
      attack        The attacks of issue 8 against the relay while two users chat; nothing may be lost
      p2p           Datagram bulk between two endpoints in this process, no relay: p2p [BYTES] [SIZE]; goodput and counters
      workload      In-process work for tools/callgrind.sh: workload <p2p|direct|relay|relay-bulk|relay-sealed|relay-idle> <messages> (no sockets)

    See 'bench <subcommand> --help' for its options. Progress goes to stderr, the report to stdout.
    Exit status: 0 when the run completed, 1 when it failed, 64 on a bad command line.

    """

func usageFailure(_ message: String) -> Never {
    FileHandle.standardError.write(Data("Error: \(message)\nUsage: bench <subcommand> [options]\nSee 'bench --help' for more information.\n".utf8))
    exit(usageExitStatus)
}

func failure(_ error: any Error) -> Never {
    FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
    exit(1)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let subcommand = arguments.first else { usageFailure("missing subcommand") }
let rest = Array(arguments.dropFirst())
switch subcommand {
case "--help", "-h", "help":
    print(overview, terminator: "")
case "relay-scale":
    let options = RelayScaleOptions.parse(rest).optionsOrExit()
    do {
        let result = try RelayScale(options: options).run()
        print(options.isJSON ? jsonText(ScaleJSON(result)) : ScaleReport(result: result, options: options).render(), terminator: "")
    } catch {
        failure(error)
    }
case "relay-scale-worker":
    // Internal: one share of relay-scale's peers in a process of its own (SwarmWorkers.swift).
    guard let share = SwarmShare(arguments: rest) else {
        usageFailure("relay-scale-worker takes PORT FIRST COUNT ROOM_SIZE BATCH K (it is started by relay-scale)")
    }
    do { try SwarmWorker.run(share) } catch { failure(error) }
case "fanout":
    let options = FanoutOptions.parse(rest).optionsOrExit()
    do {
        let result = try Fanout(options: options).run()
        print(options.isJSON ? jsonText(FanoutJSON(result)) : FanoutReport(result: result).render(), terminator: "")
    } catch {
        failure(error)
    }
case "attack":
    let options = AttackOptions.parse(rest).optionsOrExit()
    do {
        let outcomes = try Attack(options: options).run()
        print(options.isJSON ? jsonText(outcomes) : AttackReport(outcomes: outcomes).render(), terminator: "")
        exit(outcomes.allSatisfy(\.isPassed) ? 0 : 1)
    } catch {
        failure(error)
    }
case "p2p":
    guard rest.count <= 2, rest.allSatisfy({ Int($0).map { $0 > 0 } ?? false }) else {
        usageFailure("p2p takes [BYTES] [SIZE], positive whole numbers (default 67108864 1000)")
    }
    let total = rest.first.flatMap { Int($0) } ?? (64 << 20)
    let size = rest.dropFirst().first.flatMap { Int($0) } ?? 1000
    guard size <= 65_000 else { usageFailure("p2p: SIZE is at most 65000 bytes") }
    do {
        print(try PointToPointBulk(bytes: total, size: size).run(), terminator: "")
    } catch {
        failure(error)
    }
case "workload":
    guard rest.count == 2, let workload = InstructionWorkload(rawValue: rest[0]), let count = Int(rest[1]), count >= 0 else {
        usageFailure("workload takes <p2p|direct|relay|relay-bulk|relay-sealed|relay-idle> <messages>")
    }
    let delivered = workload.run(messages: count)
    print("\(workload.rawValue): \(delivered) of \(count) messages delivered")
    exit(delivered == count ? 0 : 1)
default:
    usageFailure("unknown subcommand '\(subcommand)'")
}
