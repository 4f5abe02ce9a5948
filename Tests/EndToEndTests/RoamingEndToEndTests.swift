import Chat
import ChatClientCore
import Datagram
import DatagramRuntime
import Foundation
import Testing
import Transport

/// Specs/wire-format.md, section 10.8: roaming end to end (issue 10): a sealed UDP client whose socket
/// moves to a new port in the middle of a conversation, under 20 % simulated loss, keeps its session:
/// the relay moves it after the path check, nothing is lost, nothing doubled, and nobody sees it leave.
@Test(.timeLimit(.minutes(1)))
func aSealedClientRebindsToANewPortMidConversationUnderLossAndLosesNothing() throws {
    let quiet = Logger(label: "relay", level: .error) { _ in }
    let relay = try RelayHost(bindingTo: .loopbackIPv4(port: 0), logger: quiet)
    relay.start()
    var aliceConfiguration = ChatSessionConfiguration(name: "alice", relay: relay.localAddress, transport: .udp)
    aliceConfiguration.linkSeed = 7
    let alice = ChatSession(configuration: aliceConfiguration)
    let bob = ChatSession(configuration: ChatSessionConfiguration(name: "bob", relay: relay.localAddress, transport: .udp))
    let (aliceInbox, bobInbox) = (SessionInbox(), SessionInbox())
    try alice.start { aliceInbox.append($0) }
    try bob.start { bobInbox.append($0) }
    #expect(aliceInbox.wait(timeout: 10, until: isJoined))
    #expect(bobInbox.wait(timeout: 10, until: isJoined))
    #expect(alice.setLoss(percent: 20))

    for number in 1...15 { try alice.say("before \(number)", in: "#lobby") }
    #expect(bobInbox.wait(timeout: 20) { SessionInbox.texts(in: $0).count >= 5 })
    let port = try alice.rebindSocketForTesting()
    #expect(port != nil)
    for number in 1...15 { try alice.say("after \(number)", in: "#lobby") }
    #expect(bobInbox.wait(timeout: 20) { SessionInbox.texts(in: $0).count >= 30 })
    #expect(bobInbox.texts == (1...15).map { "before \($0)" } + (1...15).map { "after \($0)" })
    #expect(aliceInbox.wait(timeout: 10) { _ in alice.isAllAcknowledged })
    // Every message can be acknowledged before the move: the relay's PATH_CHALLENGE to the new
    // address carries its acknowledgements, and under 20 % loss alice's answer may be lost, leaving
    // the move to the challenge's timer. With copies of small messages under loss, alice's messages
    // are acknowledged faster than the path check completes in about 2 runs of 5, so wait for it.
    let moveDeadline = Date().addingTimeInterval(10)
    while relay.statistics.peersMigrated == 0, Date() < moveDeadline { Thread.sleep(forTimeInterval: 0.01) }
    #expect(relay.statistics.peersMigrated == 1)
    #expect(relay.statistics.handshakesCompleted == 2)
    #expect(relay.users.map(\.name).sorted() == ["alice", "bob"])

    let stopped = DispatchSemaphore(value: 0)
    alice.close()
    bob.close()
    relay.shutDown(reason: "test over") { stopped.signal() }
    #expect(stopped.wait(timeout: .now() + 5) == .success)
}
