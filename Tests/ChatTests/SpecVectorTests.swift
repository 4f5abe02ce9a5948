import Chat
import Foundation
import Testing

/// The hex blocks of Specs/chat-protocol.md, section 7, by vector name.
private func specVectors() throws -> [String: [UInt8]] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("Specs/chat-protocol.md"), encoding: .utf8)
    var vectors: [String: [UInt8]] = [:]
    var name: String?
    var hex: [String]?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("### 7.") {
            name = line.split(separator: " ").dropFirst(2).prefix { !$0.hasPrefix("(") }.joined(separator: " ")
        } else if line == "```", let current = name {
            if let lines = hex {
                vectors[current] = lines.joined(separator: " ").split(separator: " ").map { UInt8($0, radix: 16)! }
                hex = nil
                name = nil
            } else {
                hex = []
            }
        } else if hex != nil {
            hex?.append(String(line))
        }
    }
    return vectors
}

/// Specs/chat-protocol.md, section 7: Every vector decodes to its message and encodes to its bytes; the spec shows
/// exactly the tested vectors.
@Test func theSpecShowsExactlyTheTestedVectors() throws {
    let fromSpec = try specVectors()
    var tested: [String: [UInt8]] = [:]
    for vector in clientVectors { tested[vector.name] = vector.bytes }
    for vector in relayVectors { tested[vector.name] = vector.bytes }
    for vector in fileClientVectors { tested[vector.name] = vector.bytes }
    for vector in fileRelayVectors { tested[vector.name] = vector.bytes }
    #expect(fromSpec.count == tested.count)
    for (name, bytes) in tested {
        #expect(fromSpec[name] == bytes, "vector \(name)")
    }
}
