import Chat
import ChatClientCore
import Foundation
import Testing
import DatagramRuntime
import Transport


/// The API the `compare` tool uses: a `RelayHost` and two `ChatSession`s (UDP with simulated loss,
/// TCP) in one process, on loopback.
@Test(.timeLimit(.minutes(1)))
func relayHostAndChatSessionsInOneProcess() throws {
    let quiet = Logger(label: "relay", level: .error) { _ in }
    let relay = try RelayHost(bindingTo: .loopbackIPv4(port: 0), logger: quiet)
    relay.start()
    #expect(relay.localAddress.port != 0)

    var udpConfiguration = ChatSessionConfiguration(name: "ursula", relay: relay.localAddress, transport: .udp)
    udpConfiguration.linkSeed = 42
    let udp = ChatSession(configuration: udpConfiguration)
    let tcp = ChatSession(configuration: ChatSessionConfiguration(name: "tom", relay: relay.localAddress, transport: .tcp))
    let (udpInbox, tcpInbox) = (SessionInbox(), SessionInbox())
    try udp.start { udpInbox.append($0) }
    try tcp.start { tcpInbox.append($0) }
    #expect(udpInbox.wait(timeout: 10, until: isJoined))
    #expect(tcpInbox.wait(timeout: 10, until: isJoined))
    #expect(udp.setLoss(percent: 25))
    #expect(!tcp.setLoss(percent: 25), "TCP cannot simulate loss")

    for number in 1...20 { try udp.say("from udp \(number)", in: "#lobby") }
    for number in 1...20 { try tcp.say("from tcp \(number)", in: "#lobby") }
    #expect(tcpInbox.wait(timeout: 20) { SessionInbox.texts(in: $0).count >= 20 })
    #expect(udpInbox.wait(timeout: 20) { SessionInbox.texts(in: $0).count >= 20 })
    #expect(tcpInbox.texts == (1...20).map { "from udp \($0)" })
    #expect(udpInbox.texts == (1...20).map { "from tcp \($0)" })
    #expect(udpInbox.wait(timeout: 10) { _ in udp.isAllAcknowledged })
    #expect(tcpInbox.wait(timeout: 10) { _ in tcp.isAllAcknowledged })
    #expect(relay.users.map(\.name).sorted() == ["tom", "ursula"])
    #expect(udp.statistics.connection?.packetsSent ?? 0 > 0)

    let stopped = DispatchSemaphore(value: 0)
    udp.close()
    tcp.close()
    relay.shutDown(reason: "test over") { stopped.signal() }
    #expect(stopped.wait(timeout: .now() + 5) == .success, "the relay should finish its shutdown within its drain time")
}
