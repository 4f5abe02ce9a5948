import Datagram
import LinkSimulator

/// The invariants a run checks beyond delivery: closing, identifiers, counters, wraparound, giving up.
extension SimulationRun {
    /// After the client's `close(code: 7)` (a code the spec does not name): the client says `.local`, the server says `.peer(code: 7)` (or
    /// times out, when the single CLOSE was lost), and every message planned after the close was refused.
    mutating func checkClientClose() {
        let client = pair.record(of: .client)
        if client.closed?.reason != .local { fail("client closed with \(String(describing: client.closed)), expected .local") }
        if let server = pair.record(of: .server).closed,
           ![.peer(code: CloseCode(rawValue: 7)), .idleTimeout, .probeTimeout].contains(server.reason) {
            fail("server closed with \(server.reason), expected .peer(code: 7) or a timeout")
        }
        let planned = workload.messages.filter { $0.side == .client }.count
        if client.sent.count + client.refused.count != planned {
            fail("client: \(client.sent.count) sent + \(client.refused.count) refused != \(planned) planned")
        }
        if client.refused.contains(where: { $0.error != .connectionClosed }) {
            fail("client: a send after close failed with something other than .connectionClosed")
        }
    }

    /// Message identifiers rise by one per accepted message; each reliable one is acknowledged at most once,
    /// and unreliable ones never.
    mutating func checkIdentifiers(of side: Side) {
        let record = pair.record(of: side)
        let ids = record.sent.map(\.id.rawValue)
        if ids != Array(ids.indices.map { UInt64($0) + 1 }) { fail("\(side) message ids not 1, 2, 3 ...: \(ids.prefix(12))") }
        let reliable = Set(record.sentReliable.map(\.id))
        if Set(record.acknowledged).count != record.acknowledged.count { fail("\(side) acknowledged a message twice") }
        if let stray = record.acknowledged.first(where: { !reliable.contains($0) }) {
            fail("\(side) acknowledged \(stray), which is not a reliable message it sent")
        }
    }

    /// The client hears everything the server-to-client link delivers: each corrupted datagram must be
    /// counted as corrupt or malformed and every other one as received, and each datagram it sent counted.
    mutating func checkClientCounters() {
        guard pair.record(of: .client).closed == nil, let statistics = pair.statistics(of: .client) else { return }
        let link = pair.serverToClient.statistics
        if statistics.corruptDropped + statistics.malformedDropped != link.corruptedDeliveries {
            fail("client counted \(statistics.corruptDropped) corrupt + \(statistics.malformedDropped) malformed, "
                 + "but the link delivered \(link.corruptedDeliveries) corrupted datagrams")
        }
        // A sealed session counts what does not open apart (always 0 in plaintext).
        let heard = statistics.packetsReceived + statistics.unopenedDropped
        if heard != link.delivered - link.corruptedDeliveries {
            fail("client counted \(statistics.packetsReceived) packets received + \(statistics.unopenedDropped) unopened of \(link.delivered - link.corruptedDeliveries) intact deliveries")
        }
        if statistics.packetsSent != pair.clientToServer.statistics.sent {
            fail("client counted \(statistics.packetsSent) packets sent, its link saw \(pair.clientToServer.statistics.sent)")
        }
    }

    /// A wraparound run must actually carry each side's packet numbers past `UInt32.max`.
    mutating func checkWrapped() {
        let needed = Int(UInt32.max - scenario.firstPacketNumber) + 1
        for side in Side.allCases {
            let sent = pair.statistics(of: side)?.packetsSent ?? 0
            if sent < needed, !pair.isGivenUp {
                fail("\(side) sent \(sent) packets from \(scenario.firstPacketNumber): never crossed UInt32.max")
            }
        }
    }

    /// Reliable: exactly the sent sequence (or a prefix of it, if a side gave up), byte for byte.
    /// Unreliable: each delivered message is one that was sent, intact, and delivered at most once.
    mutating func checkDelivery(to receiver: Side, from sender: Side) {
        let sent = pair.record(of: sender).sentReliable.map(\.bytes)
        let received = pair.record(of: receiver).received(on: .reliableOrdered).map(\.bytes)
        let direction = "\(sender)→\(receiver)"
        if received.count > sent.count {
            fail("\(direction) reliable: \(received.count) delivered but only \(sent.count) sent (duplicates?)")
        }
        for (index, (got, expected)) in zip(received, sent).enumerated() where got != expected {
            tally.corruptedDelivered += 1
            fail("\(direction) reliable message \(index): delivered \(got.count) bytes \(describe(got, against: expected))")
        }
        if received.count < sent.count, !pair.isGivenUp {
            fail("\(direction) reliable: only \(received.count) of \(sent.count) delivered")
        }
        checkUnreliable(to: receiver, from: sender)
    }

    mutating func checkUnreliable(to receiver: Side, from sender: Side) {
        let planned = workload.planned(from: sender, on: .unreliable).map(\.bytes)
        var seen = Set<Int>()
        for message in pair.record(of: receiver).received(on: .unreliable).map(\.bytes) {
            let index = planned.firstIndex(where: { $0.prefix(6) == message.prefix(6) })
            guard let index, planned[index] == message else {
                tally.corruptedDelivered += 1
                fail("\(sender)→\(receiver) unreliable: delivered \(message.count) bytes matching nothing sent")
                continue
            }
            if !seen.insert(index).inserted { fail("\(sender)→\(receiver) unreliable message \(index) delivered twice") }
        }
    }

    /// After a side closes: it reports a timeout in time and hands back exactly what was never acknowledged.
    mutating func checkGivingUp() {
        for side in Side.allCases {
            let record = pair.record(of: side)
            guard let closed = record.closed else {
                if scenario.kind == .silentPeer, pair.state(of: side) != nil {
                    fail("\(side) never closed although its peer went silent")
                }
                continue
            }
            if scenario.kind == .silentPeer { checkSilence(closed, on: side) }
            let acknowledged = Set(record.acknowledged)
            let expected = record.sentReliable.filter { !acknowledged.contains($0.id) }.map(\.bytes)
            let returned = pair.takeUnacknowledgedMessages(of: side)
            if returned != expected {
                fail("\(side) takeUnacknowledgedMessages returned \(returned.count) messages "
                     + "(\(returned.map(\.count)) bytes), expected the \(expected.count) never acknowledged "
                     + "(\(expected.map(\.count)) bytes)")
            }
        }
    }

    /// A side whose peer went silent gives up with a timeout within idle timeout plus one maximum probe timeout.
    mutating func checkSilence(_ closed: (reason: Connection.CloseReason, time: Timestamp), on side: Side) {
        if closed.reason != .idleTimeout, closed.reason != .probeTimeout {
            fail("\(side) closed with \(closed.reason), expected .idleTimeout or .probeTimeout")
        }
        let configuration = Connection.Configuration()
        let bound = configuration.idleTimeout + configuration.maximumProbeTimeout
        if closed.time - Scenario.silenceStart > bound {
            fail("\(side) closed at \(closed.time), more than \(bound) after the silence began at \(Scenario.silenceStart)")
        }
    }
}
