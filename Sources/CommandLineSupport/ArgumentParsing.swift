extension CommandSpecification {
    /// Parses `arguments` (without the program name) and builds the tool's options with `build`.
    ///
    /// Accepted forms: `--name VALUE`, `--name=VALUE`, a flag `--name`, and `-h`/`--help` anywhere.
    /// A later occurrence of an option replaces an earlier one. `build` turns the raw values into
    /// typed options and throws `UsageError` for values it cannot use.
    public func parse<Options>(_ arguments: [String],
                               build: (ParsedArguments) throws(UsageError) -> Options) -> CommandLineOutcome<Options> {
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
            return .showHelp(helpText)
        }
        do throws(UsageError) {
            let parsed = try parseValues(arguments)
            return .run(try build(parsed))
        } catch {
            return .usageError(usageErrorText(error))
        }
    }

    /// Splits `arguments` into option values and flags, checking names, values and required options.
    public func parseValues(_ arguments: [String]) throws(UsageError) -> ParsedArguments {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw UsageError("unexpected argument '\(argument)'")
            }
            let body = argument.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let inlineValue = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
            guard let option = option(named: name) else {
                throw unknownOption(name)
            }
            if option.isFlag {
                if inlineValue != nil { throw UsageError("flag '--\(name)' does not take a value") }
                flags.insert(name)
                continue
            }
            if let inlineValue {
                values[name] = inlineValue
            } else if index < arguments.count, !arguments[index].hasPrefix("--") {
                values[name] = arguments[index]
                index += 1
            } else {
                throw UsageError("missing value for '--\(name) \(option.valueName ?? "VALUE")'")
            }
        }
        for option in options where option.isRequired && values[option.name] == nil {
            throw UsageError("missing required option '--\(option.name) \(option.valueName ?? "VALUE")'")
        }
        return ParsedArguments(specification: self, values: values, flags: flags)
    }

    private func unknownOption(_ name: String) -> UsageError {
        let closest = options.map(\.name).min { editDistance($0, name) < editDistance($1, name) }
        if let closest, editDistance(closest, name) <= 2 {
            return UsageError("unknown option '--\(name)'; did you mean '--\(closest)'?")
        }
        return UsageError("unknown option '--\(name)'")
    }
}

/// The Levenshtein distance between two short strings, for "did you mean" hints.
func editDistance(_ left: String, _ right: String) -> Int {
    let left = Array(left), right = Array(right)
    var previous = Array(0...right.count)
    for (row, leftCharacter) in left.enumerated() {
        var current = [row + 1]
        for (column, rightCharacter) in right.enumerated() {
            let substitution = previous[column] + (leftCharacter == rightCharacter ? 0 : 1)
            current.append(min(substitution, previous[column + 1] + 1, current[column] + 1))
        }
        previous = current
    }
    return previous[right.count]
}
