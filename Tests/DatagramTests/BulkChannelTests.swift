import Testing
@testable import Datagram

/// Specs/reliability.md, "The bulk channel": channel 2 is reliable and ordered with its own numbers
/// and its own send budget, and is scheduled strictly below channels 0 and 1 under one shared
/// congestion window.
@Suite("Bulk channel (2): scheduled below chat, its own numbers and budget")
struct BulkChannelTests {
    static func configuration() -> Connection.Configuration {
        var configuration = Connection.Configuration.rfc9002
        configuration.bulkSendQueueLimit = 2 << 20
        return configuration
    }

    /// 1 MiB of bulk data in 16 messages of 64 KiB.
    static func queueOneMegabyte(_ connection: inout Connection, at now: Timestamp) {
        for index in 0..<16 {
            try! connection.send([UInt8](repeating: UInt8(index), count: 65_536), on: .bulk, at: now)
        }
    }

    /// Specs/reliability.md, "The bulk channel: files below chat"
    @Test("a chat message queued after 1 MiB of bulk data is the next DATA to leave")
    func chatGoesFirst() throws {
        var configuration = Self.configuration()
        configuration.congestionControl = .disabled
        var (client, _) = Script.establishedPair(configuration)
        Self.queueOneMegabyte(&client, at: .ms(100))
        for _ in 0..<10 { #expect(Script.fragment(client.pollTransmit(at: .ms(100))!)?.channel == .bulk) }
        try client.send(Array("hello".utf8), at: .ms(100))
        let next = Script.fragment(client.pollTransmit(at: .ms(100))!)
        #expect(next == FragmentHeader(channel: .reliableOrdered, messageNumber: 0, fragmentIndex: 0, fragmentCount: 1))
        #expect(Script.fragment(client.pollTransmit(at: .ms(100))!)?.channel == .bulk)
    }

    /// Specs/reliability.md, "The bulk channel: files below chat"
    @Test("when the window opens, a waiting chat message takes it before the bulk data queued earlier")
    func chatTakesTheWindowFirst() throws {
        var (client, server) = Script.establishedPair(Self.configuration())
        Self.queueOneMegabyte(&client, at: .ms(100))
        let flight = Script.transmitAll(&client, at: .ms(100))
        #expect(!flight.isEmpty && flight.allSatisfy { Script.fragment($0)?.channel == .bulk })
        #expect(client.pollTransmit(at: .ms(100)) == nil, "the congestion window is full")
        try client.send(Array("hello".utf8), at: .ms(110))
        #expect(client.pollTransmit(at: .ms(110)) == nil, "chat shares the window: it waits for room too")
        for datagram in flight.prefix(2) { server.handleDatagram(datagram, at: .ms(150)) }
        for ack in Script.transmitAll(&server, at: .ms(150)) { client.handleDatagram(ack, at: .ms(200)) }
        let next = client.pollTransmit(at: .ms(200))
        #expect(next.flatMap { Script.fragment($0)?.channel } == .reliableOrdered)
    }

    /// Specs/reliability.md, "The bulk channel: files below chat"
    @Test("over a lossy link the chat message arrives long before 1 MiB of bulk data, and everything arrives in order")
    func chatOvertakesBulkEndToEnd() {
        var pair = VirtualPair(configuration: Self.configuration(), delay: .milliseconds(10))
        pair.drop = { direction, index in direction == .toServer && index % 20 == 7 }
        pair.run(until: .milliseconds(1_200))
        Self.queueOneMegabyte(&pair.client, at: pair.now)
        pair.run(until: pair.now + .milliseconds(100))
        let chatSentAt = pair.now
        _ = try! pair.client.send(Array("hello".utf8), at: chatSentAt)
        var chatArrival: Timestamp?
        var bulkBeforeChat = 0
        pair.run(until: chatSentAt + .seconds(60)) { pair in
            pair.serverEvents.contains { if case .message(_, .reliableOrdered) = $0 { true } else { false } } == false
        }
        chatArrival = pair.now
        bulkBeforeChat = pair.serverEvents.count { if case .message(_, .bulk) = $0 { true } else { false } }
        pair.run(until: chatSentAt + .seconds(60)) { pair in
            pair.serverEvents.count { if case .message(_, .bulk) = $0 { true } else { false } } < 16
        }
        let bulk = pair.serverEvents.compactMap { if case let .message(bytes, .bulk) = $0 { bytes } else { nil } }
        #expect(bulk.count == 16)
        #expect(bulk.map { $0.first } == (0..<16).map { UInt8($0) })
        #expect(bulkBeforeChat < 16)
        #expect(chatArrival! - chatSentAt < .milliseconds(200))
        #expect(pair.now - chatSentAt > (chatArrival! - chatSentAt) * 2, "the bulk data took much longer than the chat message")
    }

    /// Specs/reliability.md, "The bulk channel: files below chat"
    @Test("bulk data has its own send budget: a full bulk queue does not refuse chat")
    func separateBudgets() throws {
        var configuration = Connection.Configuration.rfc9002
        configuration.sendQueueLimit = 10_000
        configuration.bulkSendQueueLimit = 10_000
        var (client, _) = Script.establishedPair(configuration)
        try client.send([UInt8](repeating: 1, count: 6_000), on: .bulk, at: .ms(100))
        #expect(throws: SendError.sendQueueFull(queuedBytes: 6_000, limit: 10_000)) {
            try client.send([UInt8](repeating: 2, count: 6_000), on: .bulk, at: .ms(100))
        }
        #expect(throws: Never.self) { try client.send([UInt8](repeating: 3, count: 6_000), at: .ms(100)) }
        #expect(client.queuedBytes(on: .bulk) == 6_000)
        #expect(client.queuedBytes(on: .reliableOrdered) == 6_000)
        #expect(client.statistics.queuedBytes == 12_000)
    }

    /// Specs/reliability.md, "The bulk channel: files below chat"
    @Test("bulk messages are numbered from 0 on channel 2, apart from channel 0's numbers")
    func ownNumbers() throws {
        var configuration = Self.configuration()
        configuration.congestionControl = .disabled
        var (client, server) = Script.establishedPair(configuration)
        try client.send(Array("a".utf8), at: .ms(100))
        try client.send(Array("b".utf8), on: .bulk, at: .ms(100))
        try client.send(Array("c".utf8), on: .bulk, at: .ms(100))
        let datagrams = Script.transmitAll(&client, at: .ms(100))
        #expect(datagrams.compactMap { Script.fragment($0) } == [
            FragmentHeader(channel: .reliableOrdered, messageNumber: 0, fragmentIndex: 0, fragmentCount: 1),
            FragmentHeader(channel: .bulk, messageNumber: 0, fragmentIndex: 0, fragmentCount: 1),
            FragmentHeader(channel: .bulk, messageNumber: 1, fragmentIndex: 0, fragmentCount: 1),
        ])
        for datagram in datagrams.reversed() { server.handleDatagram(datagram, at: .ms(150)) }
        let messages = Script.events(&server).compactMap { if case let .message(bytes, channel) = $0 { (String(decoding: bytes, as: UTF8.self), channel) } else { nil } }
        #expect(messages.map(\.0) == ["b", "c", "a"])
        #expect(messages.map(\.1) == [.bulk, .bulk, .reliableOrdered])
    }
}
