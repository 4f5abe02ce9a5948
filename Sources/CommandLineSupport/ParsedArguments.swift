/// The option values found on a command line, with typed accessors that apply defaults and report
/// unusable values as `UsageError`s naming the option.
public struct ParsedArguments: Sendable {
    /// The specification the arguments were parsed against.
    public let specification: CommandSpecification
    /// The values given explicitly, keyed by option name without dashes.
    public let explicitValues: [String: String]
    /// The flags present, by name without dashes.
    public let flags: Set<String>

    init(specification: CommandSpecification, values: [String: String], flags: Set<String>) {
        self.specification = specification
        self.explicitValues = values
        self.flags = flags
    }

    /// True when the flag `name` was given.
    public func isSet(_ name: String) -> Bool {
        precondition(specification.option(named: name)?.isFlag == true, "no flag named '\(name)'")
        return flags.contains(name)
    }

    /// True when the option `name` was given explicitly (not just defaulted).
    public func isGiven(_ name: String) -> Bool {
        explicitValues[name] != nil || flags.contains(name)
    }

    /// The value of option `name`: the one given, else its default, else nil.
    public func string(_ name: String) -> String? {
        guard let option = specification.option(named: name) else {
            preconditionFailure("no option named '\(name)'")
        }
        return explicitValues[name] ?? option.defaultValue
    }

    /// The value of option `name`, which must be present (given or defaulted).
    public func requiredString(_ name: String) throws(UsageError) -> String {
        guard let value = string(name) else { throw UsageError("missing required option '--\(name)'") }
        return value
    }

    /// The value of option `name` as a whole number within `range`, or nil when absent.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw invalid(name, text, "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// The value of option `name` as a number within `range`, or nil when absent.
    public func number(_ name: String, in range: ClosedRange<Double>) throws(UsageError) -> Double? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw invalid(name, text, "a number from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))")
        }
        return value
    }

    /// The value of option `name` as an unsigned 64-bit number (decimal or `0x` hexadecimal).
    public func unsignedInteger(_ name: String) throws(UsageError) -> UInt64? {
        guard let text = string(name) else { return nil }
        let value = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        guard let value else { throw invalid(name, text, "an unsigned 64-bit number") }
        return value
    }

    /// The value of option `name`, which must be one of `choices`, or nil when absent.
    public func choice(_ name: String, from choices: [String]) throws(UsageError) -> String? {
        guard let text = string(name) else { return nil }
        guard choices.contains(text) else {
            throw invalid(name, text, "one of " + choices.map { "'\($0)'" }.joined(separator: ", "))
        }
        return text
    }

    /// A usage error for a value of `name` that is not what the option takes.
    public func invalid(_ name: String, _ value: String, _ expected: String) -> UsageError {
        UsageError("invalid value '\(value)' for '--\(name)': expected \(expected)")
    }

    private static func format(_ value: Double) -> String {
        Double(Int(value)) == value ? String(Int(value)) : String(value)
    }
}
