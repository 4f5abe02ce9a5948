import Foundation
import Testing

/// One test named in a row of Specs/checking.md, section 3, with the reference its doc comment must carry.
private struct TableEntry: Hashable {
    let file: String       // Tests/<target>/<file>.swift
    let function: String
    let reference: String  // `Specs/x.md, section N` or `Specs/reliability.md, "Heading"`
}

private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The rows of Specs/checking.md, section 3: for each spec's table, every `Target/File: a, b` group.
private func tableEntries() throws -> [TableEntry] {
    let text = try String(contentsOf: repositoryRoot.appendingPathComponent("Specs/checking.md"), encoding: .utf8)
    guard let start = text.range(of: "## 3. Every MUST and SHOULD") else { return [] }
    var entries: [TableEntry] = []
    var spec: String?
    for line in text[start.lowerBound...].split(separator: "\n") {
        if line.hasPrefix("### Specs/") {
            spec = line.dropFirst(4).split(separator: " ").first.map(String.init)
            continue
        }
        guard let spec, line.hasPrefix("| "), !line.hasPrefix("| section") else { continue }
        let cells = line.dropFirst(2).dropLast(2).components(separatedBy: " | ")
        guard cells.count == 3 else { continue }
        let reference = spec.hasSuffix("reliability.md") ? "\(spec), \"\(cells[0])\"" : "\(spec), section \(cells[0])"
        // Every `Target/File: a, b` group of the tests column.
        for (index, group) in cells[2].components(separatedBy: "`").enumerated() where index % 2 == 1 {
            let parts = group.components(separatedBy: ": ")
            guard parts.count == 2, parts[0].split(separator: "/").count == 2,
                  parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "/" }) else { continue }
            for function in parts[1].components(separatedBy: ", ") {
                entries.append(TableEntry(file: "Tests/\(parts[0]).swift", function: function, reference: reference))
            }
        }
    }
    return entries
}

/// The doc comment above the `@Test` attribute of `function` in `lines`, or nil when there is no such test.
private func docComment(of function: String, in lines: [Substring]) -> String? {
    guard let declaration = lines.firstIndex(where: { $0.contains("func \(function)(") }) else { return nil }
    var attribute = declaration
    while attribute >= 0, declaration - attribute < 6,
          !lines[attribute].trimmingCharacters(in: .whitespaces).hasPrefix("@Test") {
        attribute -= 1
    }
    guard attribute >= 0, lines[attribute].trimmingCharacters(in: .whitespaces).hasPrefix("@Test") else { return nil }
    var first = attribute
    while first > 0, lines[first - 1].trimmingCharacters(in: .whitespaces).hasPrefix("///") { first -= 1 }
    return lines[first..<attribute].joined(separator: "\n")
}

/// Specs/checking.md, section 3: every requirement's tests are listed, exist, and name in their doc
/// comment the spec and section they check, so the table and the tests cannot drift apart unnoticed.
@Suite("The requirement tables of Specs/checking.md match the tests")
struct SpecTableTests {
    @Test("every test named in the tables exists and its doc comment names the spec and section of its row")
    func everyTestNamedInTheTablesExistsAndNamesItsSection() throws {
        let entries = try tableEntries()
        #expect(entries.count > 300, "the three tables were found")
        for spec in ["Specs/wire-format.md", "Specs/reliability.md", "Specs/chat-protocol.md"] {
            #expect(entries.contains { $0.reference.hasPrefix(spec) }, "a table for \(spec)")
        }
        var sources: [String: [Substring]] = [:]
        for entry in entries {
            if sources[entry.file] == nil {
                let url = repositoryRoot.appendingPathComponent(entry.file)
                let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
                #expect(!text.isEmpty, "\(entry.file) exists")
                sources[entry.file] = text.split(separator: "\n", omittingEmptySubsequences: false)
            }
            guard let comment = docComment(of: entry.function, in: sources[entry.file]!) else {
                Issue.record("\(entry.file): no test \(entry.function)")
                continue
            }
            #expect(comment.contains(entry.reference), "\(entry.file): \(entry.function) does not name \(entry.reference)")
        }
    }
}
