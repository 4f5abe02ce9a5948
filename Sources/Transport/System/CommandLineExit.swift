import CommandLineSupport
import Glibc

extension CommandLineOutcome {
    /// The options to run with; for `--help`, prints the text to standard output and exits 0; for a
    /// usage error, prints it to standard error and exits with `usageExitStatus`. Every executable's
    /// `main.swift` starts with this.
    public func optionsOrExit() -> Options {
        switch self {
        case .run(let options):
            return options
        case .showHelp(let text):
            writeFully(STDOUT_FILENO, Array(text.utf8))
            exit(0)
        case .usageError(let text):
            writeFully(STDERR_FILENO, Array(text.utf8))
            exit(usageExitStatus)
        }
    }
}
