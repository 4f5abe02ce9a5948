import CommandLineSupport
import Foundation
import Transport

switch parseClientOptions(Array(CommandLine.arguments.dropFirst())) {
case .showHelp(let text):
    print(text, terminator: "")
    exit(0)
case .usageError(let text):
    FileHandle.standardError.write(Data(text.utf8))
    exit(usageExitStatus)
case .run(let options):
    let logger = Logger(label: "chat", level: options.logLevel)
    logger.error("the chat session is not built yet (\(options.name))")
    exit(1)
}
