/// One option a tool accepts: `--name VALUE` (also written `--name=VALUE`) or a flag `--name`.
public struct OptionDefinition: Sendable, Hashable {
    /// The long name without its dashes, for example `port`.
    public var name: String
    /// What the value is called in help and usage (`PORT`), or nil for a flag that takes no value.
    public var valueName: String?
    /// One line for `--help`.
    public var help: String
    /// The value used when the option is absent, shown in `--help`; nil when there is none.
    public var defaultValue: String?
    /// A required option without a default makes its absence a usage error.
    public var isRequired: Bool

    /// True for a flag: present or absent, never with a value.
    public var isFlag: Bool { valueName == nil }

    /// An option that takes a value.
    public static func option(_ name: String, valueName: String, default defaultValue: String? = nil,
                              isRequired: Bool = false, help: String) -> OptionDefinition {
        OptionDefinition(name: name, valueName: valueName, help: help, defaultValue: defaultValue,
                         isRequired: isRequired)
    }

    /// A flag that takes no value.
    public static func flag(_ name: String, help: String) -> OptionDefinition {
        OptionDefinition(name: name, valueName: nil, help: help, defaultValue: nil, isRequired: false)
    }

    /// How the option appears in the usage line: `--port PORT`, `[--trace]`.
    var usageFragment: String {
        let bare = valueName.map { "--\(name) \($0)" } ?? "--\(name)"
        return isRequired ? bare : "[\(bare)]"
    }
}

/// Everything a tool's command line is: its name, what it does, its options and examples.
///
/// The layout of `helpText` and of usage errors follows swift-argument-parser: an overview, a usage
/// line, the options, then free text. `parse` never prints and never exits; the executable does that
/// with the outcome it gets back (help to stdout with status 0, usage errors to stderr with status 64).
public struct CommandSpecification: Sendable {
    /// The command as a user types it, for example `relay`.
    public var toolName: String
    /// One or two sentences on what the tool does.
    public var abstract: String
    /// The options, in the order `--help` lists them. `--help`/`-h` is always added.
    public var options: [OptionDefinition]
    /// Text printed after the options (examples, notes); may be empty.
    public var discussion: String

    /// Creates a specification.
    public init(toolName: String, abstract: String, options: [OptionDefinition], discussion: String = "") {
        self.toolName = toolName
        self.abstract = abstract
        self.options = options
        self.discussion = discussion
    }

    /// The one-line synopsis: `Usage: relay [--port PORT] [--bind ADDRESS]`.
    public var usageLine: String {
        (["Usage: \(toolName)"] + options.map(\.usageFragment)).joined(separator: " ")
    }

    /// The full text for `--help`, ending with a newline.
    public var helpText: String {
        var lines = ["OVERVIEW: \(abstract)", "", usageLine, "", "OPTIONS:"]
        let rows = options.map { option -> (String, String) in
            var help = option.help
            if let value = option.defaultValue { help += " (default: \(value))" }
            let left = option.valueName.map { "--\(option.name) \($0)" } ?? "--\(option.name)"
            return (left, help)
        } + [("-h, --help", "Show this help and exit.")]
        let width = min(28, (rows.map(\.0.count).max() ?? 0) + 2)
        for (left, help) in rows {
            if left.count + 2 > width {
                lines.append("  \(left)")
                lines.append("  " + String(repeating: " ", count: width) + help)
            } else {
                lines.append("  " + left + String(repeating: " ", count: width - left.count) + help)
            }
        }
        if !discussion.isEmpty { lines += ["", discussion] }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The text for standard error after a usage error: `Error: …`, the usage line, and a hint.
    public func usageErrorText(_ error: UsageError) -> String {
        "Error: \(error.message)\n\(usageLine)\nSee '\(toolName) --help' for more information.\n"
    }

    /// The definition of the option named `name` (without dashes), if the tool has one.
    public func option(named name: String) -> OptionDefinition? {
        options.first { $0.name == name }
    }
}

/// A mistake on the command line, in words for the person who typed it.
public struct UsageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong, without the `Error:` prefix, for example `unknown option '--prot'`.
    public var message: String

    /// Creates an error with `message`.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// What an executable does with its command line.
public enum CommandLineOutcome<Options> {
    /// The arguments were valid; run with these options.
    case run(Options)
    /// `--help` was asked for: print this text to standard output and exit with status 0.
    case showHelp(String)
    /// The arguments were wrong: print this text to standard error and exit with `usageExitStatus`.
    case usageError(String)
}

/// The exit status of a usage error (`EX_USAGE` from sysexits.h).
public let usageExitStatus: Int32 = 64
