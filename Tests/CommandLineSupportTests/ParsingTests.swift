import Testing
@testable import CommandLineSupport

private let relay = CommandSpecification(
    toolName: "relay",
    abstract: "Relays chat between clients.",
    options: [
        .option("port", valueName: "PORT", default: "9000", help: "Port to listen on."),
        .option("bind", valueName: "ADDRESS", default: "127.0.0.1", help: "Address to bind."),
        .option("name", valueName: "NAME", isRequired: true, help: "A required name."),
        .flag("trace", help: "Print packet fates."),
    ],
    discussion: "EXAMPLES:\n  relay --port 9000"
)

private struct Options: Equatable {
    var port: Int
    var bind: String
    var name: String
    var isTracing: Bool
}

private func parse(_ arguments: [String]) -> CommandLineOutcome<Options> {
    relay.parse(arguments) { (parsed) throws(UsageError) in
        Options(port: try parsed.integer("port", in: 0...65535)!, bind: parsed.string("bind")!,
                name: try parsed.requiredString("name"), isTracing: parsed.isSet("trace"))
    }
}

private func options(_ arguments: [String]) -> Options? {
    if case .run(let options) = parse(arguments) { return options }
    return nil
}

private func errorText(_ arguments: [String]) -> String? {
    if case .usageError(let text) = parse(arguments) { return text }
    return nil
}

@Test func spaceAndEqualsFormsGiveTheSameValue() {
    #expect(options(["--name", "a", "--port", "1234"]) == Options(port: 1234, bind: "127.0.0.1", name: "a", isTracing: false))
    #expect(options(["--name=a", "--port=1234"]) == Options(port: 1234, bind: "127.0.0.1", name: "a", isTracing: false))
}

@Test func defaultsApplyWhenAbsentAndFlagsAreSeen() {
    #expect(options(["--name", "a", "--trace"]) == Options(port: 9000, bind: "127.0.0.1", name: "a", isTracing: true))
}

@Test func laterOccurrenceWins() {
    #expect(options(["--name", "a", "--port", "1", "--port", "2"])?.port == 2)
}

@Test func anEqualsSignMayAppearInsideAValue() {
    #expect(options(["--name=a=b"])?.name == "a=b")
}

@Test func helpWinsOverEverythingElse() {
    guard case .showHelp(let text) = parse(["--bogus", "-h"]) else {
        Issue.record("expected help")
        return
    }
    #expect(text.hasPrefix("OVERVIEW: Relays chat between clients.\n\nUsage: relay [--port PORT] [--bind ADDRESS] --name NAME [--trace]\n"))
    #expect(text.contains("  --port PORT"))
    #expect(text.contains("Port to listen on. (default: 9000)"))
    #expect(text.contains("-h, --help"))
    #expect(text.hasSuffix("EXAMPLES:\n  relay --port 9000\n"))
}

@Test func usageErrorHasMessageUsageLineAndHint() {
    let text = errorText(["--name", "a", "--port", "abc"])
    #expect(text == """
        Error: invalid value 'abc' for '--port': expected a whole number from 0 to 65535
        Usage: relay [--port PORT] [--bind ADDRESS] --name NAME [--trace]
        See 'relay --help' for more information.

        """)
}

@Test(arguments: [
    (["--name", "a", "--prot", "1"], "Error: unknown option '--prot'; did you mean '--port'?"),
    (["--name", "a", "--zzzzzzzz"], "Error: unknown option '--zzzzzzzz'"),
    (["--name"], "Error: missing value for '--name NAME'"),
    (["--name", "--trace"], "Error: missing value for '--name NAME'"),
    (["--port", "1"], "Error: missing required option '--name NAME'"),
    (["--name", "a", "stray"], "Error: unexpected argument 'stray'"),
    (["--name", "a", "--trace=yes"], "Error: flag '--trace' does not take a value"),
    (["--name", "a", "--port", "70000"], "Error: invalid value '70000' for '--port': expected a whole number from 0 to 65535"),
])
func usageErrorsNameTheProblem(arguments: [String], firstLine: String) {
    #expect(errorText(arguments)?.split(separator: "\n").first.map(String.init) == firstLine)
}

@Test func typedAccessorsCheckTheirValues() throws {
    let spec = CommandSpecification(toolName: "t", abstract: "", options: [
        .option("loss", valueName: "PCT", help: ""),
        .option("mode", valueName: "MODE", default: "udp", help: ""),
        .option("seed", valueName: "N", help: ""),
    ])
    let parsed = try spec.parseValues(["--loss", "12.5", "--seed", "0x10"])
    #expect(try parsed.number("loss", in: 0...100) == 12.5)
    #expect(try parsed.choice("mode", from: ["udp", "tcp"]) == "udp")
    #expect(try parsed.unsignedInteger("seed") == 16)
    #expect(parsed.isGiven("loss") && !parsed.isGiven("mode"))
    #expect(throws: UsageError.self) { try spec.parseValues(["--loss", "101"]).number("loss", in: 0...100) }
    #expect(throws: UsageError.self) { try spec.parseValues(["--mode", "sctp"]).choice("mode", from: ["udp", "tcp"]) }
    #expect(throws: UsageError.self) { try spec.parseValues(["--seed", "-1"]).unsignedInteger("seed") }
}

@Test func editDistanceCountsSingleCharacterEdits() {
    #expect(editDistance("port", "prot") == 2)
    #expect(editDistance("port", "port") == 0)
    #expect(editDistance("", "abc") == 3)
}
