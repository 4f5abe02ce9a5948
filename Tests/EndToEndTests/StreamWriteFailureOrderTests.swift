import Chat
import ChatClientCore
import Foundation
import Relay
import Testing
import DatagramRuntime
import Transport

/// A relay whose write to one stream fails must still write every other stream's sealed frames in the
/// order it sealed them.
///
/// Found by `bench attack` (hijack) in CI: a write to a stream reset by its client ran the core's
/// "stream closed" step in the middle of the action list, and that step sealed and wrote the departure
/// notice to carol before the frames already sealed for her further down the list. Carol opened a frame
/// sealed with a later nonce than she expected and closed her session ("a frame from the relay did
/// not open"). Here 16 plaintext members of #lobby reset their streams at once and alice (udp) speaks
/// straight away, so the relay writes to dead streams in the same action list as carol's frames; over
/// three rounds carol (tcp, sealed) must keep her session and get every line.
@Test(.timeLimit(.minutes(1)))
func aFailedStreamWriteDoesNotReorderAnotherStreamsSealedFrames() throws {
    var configuration = RelayConfiguration()
    configuration.allowsPlaintext = true
    let quiet = Logger(label: "relay", level: .error) { _ in }
    let relay = try RelayHost(bindingTo: .loopbackIPv4(port: 0), configuration: configuration, logger: quiet)
    relay.start()
    defer {
        let stopped = DispatchSemaphore(value: 0)
        relay.shutDown(reason: "test over") { stopped.signal() }
        _ = stopped.wait(timeout: .now() + 5)
    }
    let alice = ChatSession(configuration: ChatSessionConfiguration(name: "alice", relay: relay.localAddress, transport: .udp))
    let carol = ChatSession(configuration: ChatSessionConfiguration(name: "carol", relay: relay.localAddress, transport: .tcp))
    let (aliceInbox, carolInbox) = (SessionInbox(), SessionInbox())
    try alice.start { aliceInbox.append($0) }
    try carol.start { carolInbox.append($0) }
    defer { alice.close(); carol.close() }
    #expect(aliceInbox.wait(timeout: 10, until: isJoined))
    #expect(carolInbox.wait(timeout: 10, until: isJoined))

    var said = 0
    for round in 1...3 {
        let members = try (1...16).map { index in try PlaintextMember(relay: relay.localAddress, name: "m\(round)x\(index)") }
        for member in members { #expect(member.waitForWelcome(timeout: 5), "\(member.name) should join") }
        for member in members { member.stream.reset() }
        for _ in 1...5 {
            said += 1
            try alice.say("line \(said)", in: "#lobby")
        }
        let expected = said
        #expect(carolInbox.wait(timeout: 10) { SessionInbox.texts(in: $0).count >= expected || isLost($0) })
    }
    #expect(!carolInbox.wait(timeout: 0, until: isLost), "carol's sealed stream must stay open")
    #expect(carolInbox.texts == (1...said).map { "line \($0)" })
}

private func isLost(_ events: [ChatSessionEvent]) -> Bool {
    events.contains { if case .connection(.lost) = $0 { true } else { false } }
}

/// A plaintext TCP member of #lobby that joins and then never reads.
private final class PlaintextMember {
    let name: String
    let stream: TCPStream

    init(relay: SocketAddress, name: String) throws {
        self.name = name
        stream = try TCPStream.connect(to: relay)
        let limit = Date().addingTimeInterval(2)
        while try !stream.finishConnecting() {
            guard Date() < limit else { throw TestFailure("connect to \(relay) did not complete") }
            usleep(1000)
        }
        _ = try stream.write(Framing.frame(ClientMessage.hello(Hello(sessionSecret: SessionSecret(rawValue: .random(in: 1...UInt64.max)),
                                                                    name: name, rooms: ["#lobby"])).encoded()))
    }

    /// Reads until a WELCOME arrives; false after `timeout` seconds.
    func waitForWelcome(timeout: Double) -> Bool {
        var decoder = FrameDecoder()
        var buffer: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            buffer.removeAll(keepingCapacity: true)
            guard let result = try? stream.read(into: &buffer) else { return false }
            if case .bytes = result { decoder.append(buffer) } else { usleep(1000) }
            while let frame = try? decoder.nextFrame() {
                if case .welcome? = try? RelayMessage(decoding: frame) { return true }
            }
        }
        return false
    }
}

private struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
