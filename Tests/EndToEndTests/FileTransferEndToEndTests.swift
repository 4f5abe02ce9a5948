import Foundation
import Testing

/// File transfer with the real executables (Specs/chat-protocol.md, section 4.12): a relay, alice
/// over UDP (simulated loss and delay: kernel loss needs a network namespace, see
/// tools/file-transfer-soak.sh), carol over TCP.
@Suite(.serialized)
struct FileTransferEndToEndTests {
    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("datagram-chat-files-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func randomFile(_ size: Int, at url: URL, seed: UInt64) throws {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: size)
        for index in 0..<size {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
        try Data(bytes).write(to: url)
    }

    static func count(_ text: String, in output: String) -> Int { output.components(separatedBy: text).count - 1 }

    /// 0 B, 1 B, one chunk, one chunk + 1 B and 3 MiB, from a UDP user with 5 % simulated loss to a
    /// TCP user, and back: every file arrives byte for byte, verified.
    @Test(.timeLimit(.minutes(2)))
    func filesOfEverySizeCrossBetweenUDPAndTCPUnderLoss() throws {
        let directory = try Self.temporaryDirectory("sizes")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sizes = [0, 1, 16_384, 16_385, 3 << 20]
        for size in sizes { try Self.randomFile(size, at: directory.appendingPathComponent("f\(size).bin"), seed: UInt64(size) + 1) }
        let (relay, port) = try startRelay()
        defer { relay.terminate() }
        let carol = try startClient("carol", port: port, arguments: ["--mode", "tcp", "--accept-files",
                                                                      "--download-dir", directory.appendingPathComponent("carol").path])
        let alice = try startClient("alice", port: port, arguments: ["--mode", "udp", "--loss", "5", "--seed", "11", "--accept-files",
                                                                      "--download-dir", directory.appendingPathComponent("alice").path])
        for size in sizes { alice.send(["/send \(directory.path)/f\(size).bin carol"]) }
        carol.send(["/send \(directory.path)/f\(3 << 20).bin alice"])
        let all = carol.waitForOutput("five files", timeout: 90) { Self.count("-!- Received ", in: $0) >= 5 }
        #expect(all, "carol: \(carol.standardOutput)")
        #expect(alice.waitForOutput("one file", timeout: 60) { $0.contains("-!- Received ") })
        for size in sizes {
            let sent = try Data(contentsOf: directory.appendingPathComponent("f\(size).bin"))
            let received = try? Data(contentsOf: directory.appendingPathComponent("carol/f\(size).bin"))
            #expect(received == sent, "f\(size).bin")
        }
        #expect(try Data(contentsOf: directory.appendingPathComponent("alice/f\(3 << 20).bin"))
            == Data(contentsOf: directory.appendingPathComponent("f\(3 << 20).bin")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("carol").path)
        #expect(leftovers.allSatisfy { !$0.hasPrefix(".") }, "no temporary file left: \(leftovers)")
        for client in [alice, carol] { client.closeInput() }
        for client in [alice, carol] { #expect(client.waitForExit(timeout: 20) == 0, "\(client.name): \(client.standardError)") }
    }

    /// The relay restarts in the middle of a transfer: the sender offers the file again, the
    /// recipient resumes where its file ends (it says so), and the file arrives whole.
    @Test(.timeLimit(.minutes(2)))
    func aRelayRestartMidTransferResumesInsteadOfRestarting() throws {
        let directory = try Self.temporaryDirectory("restart")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.randomFile(24 << 20, at: directory.appendingPathComponent("big.bin"), seed: 3)
        var (relay, port) = try startRelay()
        let carol = try startClient("carol", port: port, arguments: ["--mode", "tcp", "--accept-files",
                                                                      "--download-dir", directory.appendingPathComponent("in").path])
        let alice = try startClient("alice", port: port, arguments: ["--mode", "udp", "--delay", "20", "--seed", "5"])
        alice.send(["/send \(directory.path)/big.bin carol"])
        #expect(carol.waitForOutput("a quarter", timeout: 60) { $0.contains("running") })
        relay.terminate()
        #expect(relay.waitForExit(timeout: 10) == 0)
        (relay, port) = try startRelay(port: port)
        defer { relay.terminate() }
        #expect(carol.waitForOutput("the file", timeout: 90) { $0.contains("Received") }, "carol: \(carol.standardOutput)")
        #expect(carol.standardOutput.contains("Resuming \"big.bin\" at"), "carol: \(carol.standardOutput)")
        #expect(try Data(contentsOf: directory.appendingPathComponent("in/big.bin")) == Data(contentsOf: directory.appendingPathComponent("big.bin")))
        for client in [alice, carol] { client.closeInput() }
        for client in [alice, carol] { #expect(client.waitForExit(timeout: 20) == 0, "\(client.name): \(client.standardError)") }
    }

    /// A rejected offer, a withdrawn one, a file over the relay's limit, one over the recipient's,
    /// and a name that would hide the file: each ends as it should, and nothing is left behind.
    @Test(.timeLimit(.minutes(2)))
    func refusalsEndOffersCleanly() throws {
        let directory = try Self.temporaryDirectory("refusals")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.randomFile(1_000, at: directory.appendingPathComponent("small.bin"), seed: 1)
        try Self.randomFile(3_000, at: directory.appendingPathComponent("medium.bin"), seed: 2)
        try Self.randomFile(3 << 20, at: directory.appendingPathComponent("huge.bin"), seed: 3)
        try Self.randomFile(10, at: directory.appendingPathComponent(".profile"), seed: 4)
        let (relay, port) = try startRelay(arguments: ["--max-file-size", "2M"])
        defer { relay.terminate() }
        let inbox = directory.appendingPathComponent("in")
        let carol = try startClient("carol", port: port, arguments: ["--mode", "tcp", "--max-file-size", "2000",
                                                                      "--download-dir", inbox.path])
        let alice = try startClient("alice", port: port, arguments: ["--mode", "udp"])
        alice.send(["/send \(directory.path)/huge.bin carol"])
        #expect(alice.waitForOutput("too large", timeout: 10) { $0.contains("too large") && $0.contains("forwards at most 2097152") })
        alice.send(["/send \(directory.path)/medium.bin carol"])
        #expect(carol.waitForOutput("refused", timeout: 10) { $0.contains("over --max-file-size") })
        #expect(alice.waitForOutput("too large for carol", timeout: 10) { Self.count("too large", in: $0) >= 2 })
        alice.send(["/send \(directory.path)/small.bin carol"])
        #expect(carol.waitForOutput("the offer", timeout: 10) { $0.contains("offers \"small.bin\"") })
        carol.send(["/reject"])
        #expect(alice.waitForOutput("rejected", timeout: 10) { $0.contains("rejected (by carol)") })
        alice.send(["/send \(directory.path)/small.bin carol"])
        #expect(carol.waitForOutput("the second offer", timeout: 10) { Self.count("offers \"small.bin\"", in: $0) >= 2 })
        let offerID = alice.standardOutput.split(separator: "\n").last { $0.contains("Offered \"small.bin\"") }?
            .components(separatedBy: "(offer ").last?.prefix { $0.isNumber } ?? ""
        alice.send(["/cancel \(offerID)"])
        #expect(carol.waitForOutput("cancelled", timeout: 10) { $0.contains("cancelled (by alice)") })
        alice.send(["/send \(directory.path)/.profile carol"])
        #expect(carol.waitForOutput("the hidden one", timeout: 10) { $0.contains("offers \"profile\"") })
        carol.send(["/accept"])
        #expect(carol.waitForOutput("saved", timeout: 10) { $0.contains("Received") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: inbox.path) == ["profile"])
        for client in [alice, carol] { client.closeInput() }
        for client in [alice, carol] { #expect(client.waitForExit(timeout: 20) == 0, "\(client.name): \(client.standardError)") }
    }
}
