import Chat
import Datagram
import Relay
import Testing

/// Specs/chat-protocol.md, section 4.12: the relay streams files through, paced by credit.
@Suite("File transfer through the relay (section 4.12)")
struct FileRelayTests {
    static let digest = FileDigest([UInt8](repeating: 0xAB, count: 32))!

    static func offer(_ id: UInt64 = 42, to target: String = "bob", name: String = "notes.txt", size: UInt64 = 100_000) -> ClientMessage {
        .fileOffer(FileOffer(offerID: id, target: target, name: name, size: size, digest: digest))
    }

    static func configuration(window: UInt64 = 32_768) -> RelayConfiguration {
        var configuration = RelayConfiguration()
        configuration.files.recipientWindow = window
        return configuration
    }

    static func chunk(_ transfer: UInt64, at offset: UInt64, count: Int = FileTransferLimits.maximumChunkSize) -> ClientMessage {
        .fileChunk(transfer: transfer, offset: offset, bytes: [UInt8](repeating: UInt8(truncatingIfNeeded: offset / 16_384), count: count))
    }

    /// alice (tcp 1) offers bob (tcp 2) a 100,000-byte file and bob accepts: transfer 1 runs.
    static func running(window: UInt64 = 32_768) -> (RelayHarness, Endpoint, Endpoint) {
        var relay = RelayHarness(configuration: configuration(window: window))
        let alice = relay.joinTCP("alice", port: 1)
        let bob = relay.joinTCP("bob", port: 2)
        _ = relay.take(alice)
        relay.send(offer(), from: alice)
        _ = relay.take(bob)
        relay.send(.fileAccept(transfer: 1, offset: 0), from: bob)
        _ = relay.take(alice)
        return (relay, alice, bob)
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func anOfferToAUserReachesItAsItsOwnTransfer() {
        var relay = RelayHarness()
        let alice = relay.joinTCP("alice", port: 1)
        let bob = relay.joinTCP("bob", port: 2)
        _ = relay.take(alice)
        relay.send(Self.offer(), from: alice)
        #expect(relay.take(bob) == [.fileOffered(FileOffered(transferID: 1, from: "alice", target: "bob", name: "notes.txt",
                                                             size: 100_000, digest: Self.digest, expiresIn: 300))])
        #expect(relay.take(alice) == [])
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func acceptingGivesTheSenderTheOffsetAndAWindowedLimit() {
        var relay = RelayHarness(configuration: Self.configuration())
        let alice = relay.joinTCP("alice", port: 1)
        let bob = relay.joinTCP("bob", port: 2)
        _ = relay.take(alice)
        relay.send(Self.offer(), from: alice)
        _ = relay.take(bob)
        relay.send(.fileAccept(transfer: 1, offset: 0), from: bob)
        #expect(relay.take(alice) == [.fileAccepted(offerID: 42, transfer: 1, by: "bob", offset: 0, limit: 32_768)])
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func chunksAreForwardedAtOnceAndConfirmationsBecomeCredit() {
        var (relay, alice, bob) = Self.running()
        relay.send(Self.chunk(1, at: 0), from: alice)
        relay.send(Self.chunk(1, at: 16_384), from: alice)
        let received = relay.take(bob)
        #expect(received == [
            .fileChunk(transfer: 1, offset: 0, bytes: [UInt8](repeating: 0, count: 16_384)),
            .fileChunk(transfer: 1, offset: 16_384, bytes: [UInt8](repeating: 1, count: 16_384)),
        ])
        relay.send(.fileConfirm(transfer: 1, offset: 16_384), from: bob)
        #expect(relay.take(alice) == [.fileCredit(transfer: 1, confirmed: 16_384, limit: 49_152)])
        relay.send(Self.chunk(1, at: 32_768), from: alice)
        #expect(relay.take(bob).count == 1)
        #expect(relay.core.statistics.fileBytesForwarded == 3 * 16_384)
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func theLastCreditStopsAtTheEndOfTheFile() {
        var (relay, alice, bob) = Self.running()
        for offset in stride(from: UInt64(0), to: 32_768, by: 16_384) { relay.send(Self.chunk(1, at: offset), from: alice) }
        relay.send(.fileConfirm(transfer: 1, offset: 32_768), from: bob)
        relay.send(Self.chunk(1, at: 32_768), from: alice)
        relay.send(.fileConfirm(transfer: 1, offset: 49_152), from: bob)
        relay.send(.fileConfirm(transfer: 1, offset: 49_152), from: bob)
        #expect(relay.take(alice) == [
            .fileCredit(transfer: 1, confirmed: 32_768, limit: 65_536),
            .fileCredit(transfer: 1, confirmed: 49_152, limit: 81_920),
            .fileCredit(transfer: 1, confirmed: 49_152, limit: 81_920),
        ])
        relay.send(Self.chunk(1, at: 49_152), from: alice)
        relay.send(.fileConfirm(transfer: 1, offset: 65_536), from: bob)
        #expect(relay.take(alice) == [.fileCredit(transfer: 1, confirmed: 65_536, limit: 98_304)])
        relay.send(Self.chunk(1, at: 65_536), from: alice)
        relay.send(.fileConfirm(transfer: 1, offset: 81_920), from: bob)
        #expect(relay.take(alice) == [.fileCredit(transfer: 1, confirmed: 81_920, limit: 100_000)])
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func aChunkBeyondTheWindowFailsTheTransferForBoth() {
        var (relay, alice, bob) = Self.running()
        relay.send(Self.chunk(1, at: 0), from: alice)
        relay.send(Self.chunk(1, at: 16_384), from: alice)
        relay.send(Self.chunk(1, at: 32_768, count: 1), from: alice)
        let failed = RelayMessage.fileCancelled(offerID: 42, transfer: 1, reason: .failed, by: "",
                                                text: "chunk beyond the window (to 32769, limit 32768)")
        #expect(relay.take(alice) == [failed])
        #expect(relay.take(bob).last == .fileCancelled(offerID: 0, transfer: 1, reason: .failed, by: "",
                                                        text: "chunk beyond the window (to 32769, limit 32768)"))
        // Chunks still in flight afterwards are counted and dropped, with no answer.
        relay.send(Self.chunk(1, at: 32_768), from: alice)
        #expect(relay.take(alice) == [])
        #expect(relay.take(bob) == [])
        #expect(relay.core.statistics.fileMessagesIgnored == 1)
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func aChunkOutOfPlaceFailsTheTransfer() {
        var (relay, alice, bob) = Self.running()
        relay.send(Self.chunk(1, at: 16_384), from: alice)
        #expect(relay.take(alice) == [.fileCancelled(offerID: 42, transfer: 1, reason: .failed, by: "",
                                                      text: "chunk at offset 16384, expected 0")])
        #expect(relay.take(bob).count == 1)
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func onlyTheSenderMaySendChunksAndOnlyTheRecipientMayConfirm() {
        var (relay, alice, bob) = Self.running()
        let mallory = relay.joinTCP("mallory", port: 3)
        _ = relay.take(alice)
        _ = relay.take(bob)
        relay.send(Self.chunk(1, at: 0), from: mallory)
        relay.send(.fileConfirm(transfer: 1, offset: 0), from: mallory)
        relay.send(.fileAccept(transfer: 1, offset: 0), from: mallory)
        relay.send(.fileDone(transfer: 1, result: .verified), from: mallory)
        #expect(relay.take(alice) == [])
        #expect(relay.take(bob) == [])
        #expect(relay.core.statistics.fileMessagesIgnored == 4)
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func resumingAcceptsFromTheRecipientsOffset() {
        var relay = RelayHarness(configuration: Self.configuration())
        let alice = relay.joinTCP("alice", port: 1)
        let bob = relay.joinTCP("bob", port: 2)
        _ = relay.take(alice)
        relay.send(Self.offer(), from: alice)
        _ = relay.take(bob)
        relay.send(.fileAccept(transfer: 1, offset: 65_536), from: bob)
        #expect(relay.take(alice) == [.fileAccepted(offerID: 42, transfer: 1, by: "bob", offset: 65_536, limit: 98_304)])
        relay.send(Self.chunk(1, at: 65_536), from: alice)
        #expect(relay.take(bob).count == 1)
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func aVerifiedFileIsReportedToTheSenderAndTheTransferForgotten() {
        var (relay, alice, bob) = Self.running()
        relay.send(.fileDone(transfer: 1, result: .verified), from: bob)
        #expect(relay.take(alice) == [.fileDone(transfer: 1, by: "bob", result: .verified)])
        #expect(relay.core.statistics.fileTransfersCompleted == 1)
        relay.send(.fileConfirm(transfer: 1, offset: 0), from: bob)
        #expect(relay.take(alice) == [])
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func aRejectedOfferTellsTheSenderWhoRejectedIt() {
        var relay = RelayHarness()
        let alice = relay.joinTCP("alice", port: 1)
        let bob = relay.joinTCP("bob", port: 2)
        _ = relay.take(alice)
        relay.send(Self.offer(), from: alice)
        _ = relay.take(bob)
        relay.send(.fileCancel(id: 1, reason: .rejected, text: "no thanks"), from: bob)
        #expect(relay.take(alice) == [.fileCancelled(offerID: 42, transfer: 1, reason: .rejected, by: "bob", text: "no thanks")])
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func theSenderCancelsEveryTransferOfAnOfferByItsOfferID() {
        var relay = RelayHarness()
        let alice = relay.joinTCP("alice", port: 1, rooms: ["#class"])
        let bob = relay.joinTCP("bob", port: 2, rooms: ["#class"])
        let carol = relay.joinTCP("carol", port: 3, rooms: ["#class"])
        _ = relay.take(alice)
        _ = relay.take(bob)
        relay.send(Self.offer(to: "#class"), from: alice)
        #expect(relay.take(bob).map(\.offeredTransfer) == [1])
        #expect(relay.take(carol).map(\.offeredTransfer) == [2])
        relay.send(.fileCancel(id: 42, reason: .cancelled, text: ""), from: alice)
        #expect(relay.take(bob) == [.fileCancelled(offerID: 0, transfer: 1, reason: .cancelled, by: "alice", text: "")])
        #expect(relay.take(carol) == [.fileCancelled(offerID: 0, transfer: 2, reason: .cancelled, by: "alice", text: "")])
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func anUnansweredOfferExpiresForBoth() {
        var configuration = RelayConfiguration()
        configuration.files.offerTimeout = .seconds(5)
        var relay = RelayHarness(configuration: configuration)
        let alice = relay.joinTCP("alice", port: 1)
        let bob = relay.joinTCP("bob", port: 2)
        _ = relay.take(alice)
        relay.send(Self.offer(), from: alice)
        _ = relay.take(bob)
        #expect(relay.core.nextDeadline != nil)
        #expect(relay.core.nextDeadline! <= relay.now + .seconds(5))
        relay.advance(by: .seconds(4))
        relay.timeout()
        #expect(relay.take(alice) == [])
        relay.advance(by: .seconds(1))
        relay.timeout()
        #expect(relay.take(alice) == [.fileCancelled(offerID: 42, transfer: 1, reason: .expired, by: "", text: "No answer in 5.0 seconds")])
        #expect(relay.take(bob) == [.fileCancelled(offerID: 0, transfer: 1, reason: .expired, by: "", text: "No answer in 5.0 seconds")])
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func anOfferOverTheRelaysLimitIsRefusedAsTooLarge() {
        var configuration = RelayConfiguration()
        configuration.files.maximumFileSize = 1_000
        var relay = RelayHarness(configuration: configuration)
        let alice = relay.joinTCP("alice", port: 1)
        let bob = relay.joinTCP("bob", port: 2)
        _ = relay.take(alice)
        relay.send(Self.offer(size: 1_001), from: alice)
        #expect(relay.take(alice) == [.fileCancelled(offerID: 42, transfer: 0, reason: .tooLarge, by: "",
                                                      text: "The file is 1001 bytes; this relay forwards at most 1000")])
        #expect(relay.take(bob) == [])
        relay.send(Self.offer(size: 1_000), from: alice)
        #expect(relay.take(bob).count == 1)
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test(arguments: ["../../etc/passwd", "a/b", "a\\b", "", "bell\u{7}", String(repeating: "x", count: 256)])
    func aHostileFileNameIsRefused(_ name: String) {
        var relay = RelayHarness()
        let alice = relay.joinTCP("alice", port: 1)
        let bob = relay.joinTCP("bob", port: 2)
        _ = relay.take(alice)
        relay.send(Self.offer(name: name), from: alice)
        #expect(relay.take(alice).first?.cancelReason == .refused)
        #expect(relay.take(bob) == [])
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func offersToNobodyAreRefused() {
        var relay = RelayHarness()
        let alice = relay.joinTCP("alice", port: 1)
        for target in ["carol", "alice", "#nowhere", "#lobby"] {
            relay.send(Self.offer(to: target), from: alice)
            #expect(relay.take(alice).first?.cancelReason == .refused, "target \(target)")
        }
        relay.send(Self.offer(0), from: alice)
        #expect(relay.take(alice).first?.cancelReason == .refused)
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func aRecipientLeavingInterruptsTheTransferForTheSender() {
        var (relay, alice, bob) = Self.running()
        relay.send(.quit(reason: ""), from: bob)
        #expect(relay.take(alice).contains(.fileCancelled(offerID: 42, transfer: 1, reason: .interrupted, by: "bob",
                                                           text: "bob disconnected")))
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func aSenderLeavingInterruptsTheTransferForTheRecipient() {
        var (relay, alice, bob) = Self.running()
        relay.core.handleStreamClosed(alice, at: relay.now)
        #expect(relay.take(bob).contains(.fileCancelled(offerID: 0, transfer: 1, reason: .interrupted, by: "alice",
                                                         text: "alice disconnected")))
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func chunksDoNotCountTowardTheChatRateLimit() {
        var configuration = Self.configuration(window: 1 << 20)
        configuration.rateLimit = RateLimit(messagesPerSecond: 5, bytesPerSecond: 10_000, burstSeconds: 1)
        var relay = RelayHarness(configuration: configuration)
        let alice = relay.joinTCP("alice", port: 1)
        let bob = relay.joinTCP("bob", port: 2)
        _ = relay.take(alice)
        relay.send(Self.offer(size: 1 << 20), from: alice)
        relay.send(.fileAccept(transfer: 1, offset: 0), from: bob)
        for index in 0..<32 { relay.send(Self.chunk(1, at: UInt64(index) * 16_384), from: alice) }
        #expect(relay.take(bob).count(where: { if case .fileChunk = $0 { true } else { false } }) == 32)
        #expect(relay.core.statistics.rateLimitEpisodes == 0)
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func overTCPChunksAndChatShareTheStreamInTheOrderSent() {
        var (relay, alice, bob) = Self.running()
        relay.send(Self.chunk(1, at: 0), from: alice)
        relay.send(.say(room: "#lobby", messageID: 1, flags: [], text: "look"), from: alice)
        relay.send(Self.chunk(1, at: 16_384), from: alice)
        let kinds = relay.take(bob).map { message -> String in
            switch message {
            case .fileChunk: "chunk"
            case .message: "chat"
            default: "other"
            }
        }
        #expect(kinds == ["chunk", "chat", "chunk"])
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func aUDPSenderReachesATCPRecipientAndBack() {
        var relay = RelayHarness(configuration: Self.configuration())
        let alice = relay.joinUDP("alice", port: 5001)
        let carol = relay.joinTCP("carol", port: 2)
        _ = relay.takeUDP(alice)
        relay.sendUDP(Self.offer(to: "carol"), from: alice)
        #expect(relay.take(carol).map(\.offeredTransfer) == [1])
        relay.send(.fileAccept(transfer: 1, offset: 0), from: carol)
        #expect(relay.takeUDP(alice) == [.fileAccepted(offerID: 42, transfer: 1, by: "carol", offset: 0, limit: 32_768)])
        relay.sendUDP(Self.chunk(1, at: 0), from: alice)
        #expect(relay.take(carol) == [.fileChunk(transfer: 1, offset: 0, bytes: [UInt8](repeating: 0, count: 16_384))])
        relay.send(.fileConfirm(transfer: 1, offset: 16_384), from: carol)
        #expect(relay.takeUDP(alice) == [.fileCredit(transfer: 1, confirmed: 16_384, limit: 49_152)])
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func aTCPSenderReachesAUDPRecipient() {
        var relay = RelayHarness(configuration: Self.configuration())
        let carol = relay.joinTCP("carol", port: 2)
        let alice = relay.joinUDP("alice", port: 5001)
        relay.send(Self.offer(to: "alice"), from: carol)
        #expect(relay.takeUDP(alice).map(\.offeredTransfer) == [1])
        relay.sendUDP(.fileAccept(transfer: 1, offset: 0), from: alice)
        _ = relay.take(carol)
        relay.send(Self.chunk(1, at: 0), from: carol)
        #expect(relay.takeUDP(alice) == [.fileChunk(transfer: 1, offset: 0, bytes: [UInt8](repeating: 0, count: 16_384))])
    }

    /// Specs/chat-protocol.md, section 4.12
    @Test func theWindowIsSharedAmongARecipientsRunningTransfers() {
        var relay = RelayHarness(configuration: Self.configuration(window: 65_536))
        let alice = relay.joinTCP("alice", port: 1)
        let bob = relay.joinTCP("bob", port: 2)
        _ = relay.take(alice)
        relay.send(Self.offer(1), from: alice)
        relay.send(Self.offer(2), from: alice)
        relay.send(.fileAccept(transfer: 1, offset: 0), from: bob)
        relay.send(.fileAccept(transfer: 2, offset: 0), from: bob)
        let accepted = relay.take(alice)
        #expect(accepted == [
            .fileAccepted(offerID: 1, transfer: 1, by: "bob", offset: 0, limit: 65_536),
            .fileAccepted(offerID: 2, transfer: 2, by: "bob", offset: 0, limit: 32_768),
        ])
    }
}

extension RelayMessage {
    var offeredTransfer: UInt64? {
        if case let .fileOffered(offer) = self { return offer.transferID }
        return nil
    }

    var cancelReason: FileCancelReason? {
        if case let .fileCancelled(_, _, reason, _, _) = self { return reason }
        return nil
    }
}
