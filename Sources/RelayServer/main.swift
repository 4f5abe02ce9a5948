import CommandLineSupport
import Foundation
import Transport

switch parseRelayOptions(Array(CommandLine.arguments.dropFirst())) {
case .showHelp(let text):
    print(text, terminator: "")
    exit(0)
case .usageError(let text):
    FileHandle.standardError.write(Data(text.utf8))
    exit(usageExitStatus)
case .run(let options):
    let logger = Logger(label: "relay", level: options.logLevel)
    logger.error("the relay core is not built yet")
    exit(1)
}
