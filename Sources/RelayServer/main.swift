import CommandLineSupport
import Foundation
import Relay
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

let configuration = options.configuration

let host: RelayHost
do {
    host = try RelayHost(bindingTo: bindAddress, configuration: configuration, logger: logger)
} catch {
    FileHandle.standardError.write(Data("Error: cannot listen on \(bindAddress): \(error)\n".utf8))
    exit(1)
}

host.start()
FileHandle.standardOutput.write(Data("listening on \(host.localAddress) (udp+tcp)\n".utf8))

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
