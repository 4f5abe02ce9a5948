import CommandLineSupport
import Foundation
import Relay
import RelayStore
import DatagramRuntime
import Transport

let options = parseRelayOptions(Array(CommandLine.arguments.dropFirst())).optionsOrExit()

let logger = Logger(label: "relay", level: options.logLevel)
let bindAddress: SocketAddress
do {
    bindAddress = try SocketAddress(host: options.bindAddress, port: options.port)
} catch {
    FileHandle.standardError.write(Data("Error: invalid --bind address: \(error)\n".utf8))
    exit(usageExitStatus)
}

var configuration = options.configuration
if !configuration.administrators.isEmpty {
    if let file = options.administratorTokenFile {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
              let line = text.split(whereSeparator: \.isNewline).first.map(String.init), line.utf8.count >= 16 else {
            FileHandle.standardError.write(Data("Error: cannot read an administrator token of at least 16 characters from '\(file)' (--admin-token-file)\n".utf8))
            exit(usageExitStatus)
        }
        configuration.administratorToken = line
    } else {
        configuration.administratorToken = SystemRandom.bytes(count: 16).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

/// `--data`, or `$XDG_STATE_HOME/datagram-chat/relay` (`~/.local/state/...` without it).
func dataDirectory() -> String {
    if let given = options.dataDirectory { return given }
    let environment = ProcessInfo.processInfo.environment
    if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/datagram-chat/relay" }
    return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/datagram-chat/relay"
}

let directory = dataDirectory()
if directory != ":memory:" {
    do {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    } catch {
        FileHandle.standardError.write(Data("Error: cannot create the data directory \(directory) (\(error.localizedDescription)): create it, or start the relay with --data DIR pointing elsewhere\n".utf8))
        exit(1)
    }
}
let storage: SQLiteRelayStorage
let storedState: StoredRelayState
do throws(StorageError) {
    storage = try SQLiteRelayStorage(directory: directory, historyLimit: max(10_000, options.historyLines),
                                     historyRetention: options.historyDays == 0 ? nil : .seconds(Int64(options.historyDays) * 86_400))
    storedState = try storage.load(clock: StorageClock(now: MonotonicClock.process.now(), unixMilliseconds: WallClock.millisecondsSinceEpoch()))
} catch {
    FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
    exit(1)
}

// The relay's identity (Specs/chat-protocol.md section 4.10): created on first start; the Noise
// transport proves it to clients, which pin it. Its fingerprint is printed so users can compare it.
// Its default place is the data directory (the default one for an ephemeral `--data :memory:` relay,
// so that a restarted relay keeps its key and its clients' pins hold).
let keyPath = options.keyFile ?? (directory == ":memory:" ? IdentityPaths.relayIdentity : directory + "/identity.key")
let relayIdentity: LocalIdentity
do {
    relayIdentity = try LocalIdentity.loadOrCreate(at: keyPath).identity
} catch {
    FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
    exit(1)
}

let host: RelayHost
do {
    host = try RelayHost(bindingTo: bindAddress, configuration: configuration, relayKeyPair: relayIdentity.keyPair,
                         logger: logger, storage: storage, storedState: storedState)
} catch {
    FileHandle.standardError.write(Data("Error: cannot listen on \(bindAddress): \(error)\n".utf8))
    exit(1)
}

host.start()
// One write: a parent that reads only the first line (bench) may close the pipe after it.
FileHandle.standardOutput.write(Data("listening on \(host.localAddress) (udp+tcp)\ndata directory: \(directory)\(directory == ":memory:" ? " (nothing is kept after the relay stops)" : " (\(storedState.roomSettings.count) rooms' settings, \(storedState.relayBans.count) relay-wide bans)")\nrelay identity \(relayIdentity.fingerprint) (\(keyPath))\n".utf8))
if let token = configuration.administratorToken, options.administratorTokenFile == nil {
    let names = configuration.administrators.joined(separator: ", ")
    FileHandle.standardOutput.write(Data("administrator token: \(token) (\(names): type /oper \(token) after joining)\n".utf8))
}

let signalSources = [SIGINT, SIGTERM].map { number in
    signal(number, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: number, queue: host.queue.dispatchQueue)
    source.setEventHandler {
        logger.info("received \(number == SIGINT ? "SIGINT" : "SIGTERM"); telling the clients and draining")
        host.shutDown(reason: "relay restarting or stopping") { exit(0) }
    }
    source.resume()
    return source
}
withExtendedLifetime(signalSources) { dispatchMain() }
