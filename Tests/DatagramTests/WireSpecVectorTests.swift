import Foundation
import Testing
@testable import Datagram

/// The hex blocks of Specs/wire-format.md in order, each with the heading above it (`### NAME (N bytes)`
/// in section 9; the IPv6 cookie vector in section 6 sits under the section's own heading).
private func specBlocks() throws -> [(heading: String, bytes: [UInt8])] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("Specs/wire-format.md"), encoding: .utf8)
    var blocks: [(heading: String, bytes: [UInt8])] = []
    var heading = ""
    var hex: [String]?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("#") {
            heading = String(line)
        } else if line == "```" {
            if let lines = hex {
                let words = lines.joined(separator: " ").split(separator: " ")
                let bytes = words.compactMap { $0.count == 2 ? UInt8($0, radix: 16) : nil }
                if !words.isEmpty, bytes.count == words.count { blocks.append((heading, bytes)) }
                hex = nil
            } else {
                hex = []
            }
        } else if hex != nil {
            hex?.append(String(line))
        }
    }
    return blocks
}

/// Specs/wire-format.md, sections 6 and 9: the vectors the spec shows are exactly the ones the tests
/// check (`WireVectorTests`, `CookieAddressTests`), so a spec edit that changes a vector fails here.
@Suite("The wire format spec shows exactly the tested vectors")
struct WireSpecVectorTests {
    /// Specs/wire-format.md, section 9: Every vector decodes to its fields and encodes to its bytes; CRC-32C and
    /// SipHash-2-4 check values; the spec shows exactly the tested vectors.
    @Test("section 9 shows the eight packet vectors byte for byte, each as long as its heading says")
    func packetVectors() throws {
        var fromSpec: [String: [UInt8]] = [:]
        for block in try specBlocks() where block.heading.hasPrefix("### ") {
            let words = block.heading.split(separator: " ")
            let name = String(words[1])
            fromSpec[name] = block.bytes
            #expect(words.count == 4 && words[2] == "(\(block.bytes.count)", "\(block.heading): \(block.bytes.count) bytes")
        }
        #expect(Set(fromSpec.keys) == Set(specifiedVectors.keys))
        for (name, hex) in specifiedVectors {
            #expect(fromSpec[name] == hexBytes(hex), "vector \(name)")
        }
        #expect(Set(WireVectors.all.map(\.name)) == Set(specifiedVectors.keys))
    }

    /// Specs/wire-format.md, section 6: The cookie: issue time and a SipHash-2-4 MAC over the address (4 or 16 bytes,
    /// v4-mapped as IPv4), port, connection id and time.
    @Test("section 6 shows the IPv6 cookie the jar mints for 2001:db8::1 port 8080")
    func ipv6CookieVector() throws {
        let section6 = try specBlocks().filter { $0.heading.hasPrefix("## 6.") }
        let jar = CookieJar(secret: WireVectors.secret)
        let cookie = jar.makeCookie(id: WireVectors.id, address: CookieJar.addressInput(ip: CookieAddressTests.ipv6, port: 8080),
                                    at: WireVectors.cookieIssueTime)
        #expect(section6.map(\.bytes) == [cookie])
    }
}
