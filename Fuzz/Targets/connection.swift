// Fuzz target `connection`: a client and a server `Connection` (with the server's `CookieJar` in
// front, as the relay has it) driven by a byte-coded program.
//
// Each instruction is an opcode byte and its operands (see `Op`): either side sends a message (sizes
// from empty to many fragments, on either channel); the network delivers, drops, duplicates, reorders
// or corrupts a datagram in flight; time passes, or jumps to the next deadline; an attacker injects
// forged packets (DATA with any fragment fields, ACKs, PINGs, CLOSE, RESET, raw sealed bytes) with
// the right connection id and packet numbers near the real ones; a side closes or stops accepting data.
//
// Checks, always: nothing crashes; memory stays bounded (libFuzzer's -rss_limit_mb). While no forged
// packet was injected at a side: it only delivers messages the other side sent, each at most once,
// reliable ones in the order sent. At the end of a program without forgeries, the network heals and
// runs until both sides are idle: then every reliable message sent was delivered, or (if a side
// closed) was handed back by `takeUnacknowledgedMessages()`: nothing is lost silently.
import Datagram

private let clientAddress: [UInt8] = [10, 0, 0, 1, 0x13, 0x88]
private let jar = CookieJar(secret: (0x1111, 0x2222))

private enum Side: Int { case client = 0, server = 1 }

private struct Direction {
    /// Datagrams in flight towards this side.
    var inFlight: [[UInt8]] = []
    /// Messages the other side sent towards this side, per channel, in order.
    var sentReliable: [[UInt8]] = []
    var sentUnreliable: Set<[UInt8]> = []
    var deliveredReliable = 0
    var deliveredUnreliable: Set<[UInt8]> = []
    /// True once a forged packet reached this side: its deliveries are no longer checked.
    var isForged = false
    /// Packets this side's peer has emitted (where its packet numbers are now).
    var peerPacketsSent: UInt32 = 0
}

private struct Harness {
    var now = Timestamp.milliseconds(1)
    let id: ConnectionID
    var client: Connection
    var server: Connection?
    var toServer = Direction()
    var toClient = Direction()
    var serial: UInt32 = 0
    var closedUnacknowledged: [Side: [[UInt8]]] = [:]

    init(id: ConnectionID) {
        self.id = id
        client = Connection(role: .client, id: id, now: now)
    }

    /// A message whose first 4 bytes make it unique, so deliveries can be matched to sends.
    mutating func message(length: Int) -> [UInt8] {
        serial += 1
        let tag = [UInt8(truncatingIfNeeded: serial >> 24), UInt8(truncatingIfNeeded: serial >> 16),
                   UInt8(truncatingIfNeeded: serial >> 8), UInt8(truncatingIfNeeded: serial)]
        return Array((tag + [UInt8](repeating: UInt8(truncatingIfNeeded: serial), count: max(0, length - 4))).prefix(length))
    }

    mutating func send(from side: Side, length: Int, channel: Channel) {
        let bytes = message(length: channel == .unreliable ? max(length, 4) : length)
        switch side {
        case .client:
            if (try? client.send(bytes, on: channel, at: now)) != nil { record(bytes, channel, in: &toServer) }
        case .server:
            if server == nil { return }
            if (try? server!.send(bytes, on: channel, at: now)) != nil { record(bytes, channel, in: &toClient) }
        }
    }

    private func record(_ bytes: [UInt8], _ channel: Channel, in direction: inout Direction) {
        if channel == .reliableOrdered { direction.sentReliable.append(bytes) } else { direction.sentUnreliable.insert(bytes) }
    }

    /// Feeds one datagram to a side (through the cookie jar while the server does not exist).
    mutating func deliver(_ datagram: [UInt8], to side: Side) {
        switch side {
        case .client:
            client.handleDatagram(datagram, at: now)
        case .server:
            if server != nil {
                server!.handleDatagram(datagram, at: now)
                return
            }
            switch jar.respond(to: datagram, from: clientAddress, at: now) {
            case .reply(let reply):
                invariant(reply.count <= datagram.count, "cookie jar amplified")
                toClient.inFlight.append(reply)
            case .accept(let acceptedID):
                var connection = Connection(role: .server, id: acceptedID, now: now)
                connection.handleDatagram(datagram, at: now)
                server = connection
            case .drop:
                break
            }
        }
    }

    /// Drains both sides' transmissions and events, checking every delivery.
    mutating func drain() {
        for _ in 0..<10_000 {
            guard let datagram = client.pollTransmit(at: now) else { break }
            invariant(datagram.count <= Limits.maximumDatagramSize, "client sent a \(datagram.count)-byte datagram")
            toServer.inFlight.append(datagram)
            toServer.peerPacketsSent &+= 1
        }
        while let event = client.pollEvent() { check(event, at: .client) }
        if server != nil {
            for _ in 0..<10_000 {
                guard let datagram = server!.pollTransmit(at: now) else { break }
                invariant(datagram.count <= Limits.maximumDatagramSize, "server sent a \(datagram.count)-byte datagram")
                toClient.inFlight.append(datagram)
                toClient.peerPacketsSent &+= 1
            }
            while let event = server!.pollEvent() { check(event, at: .server) }
        }
        // A network holds a bounded number of datagrams: the oldest are lost.
        if toServer.inFlight.count > 512 { toServer.inFlight.removeFirst(toServer.inFlight.count - 512) }
        if toClient.inFlight.count > 512 { toClient.inFlight.removeFirst(toClient.inFlight.count - 512) }
    }

    mutating func check(_ event: Connection.Event, at side: Side) {
        guard case let .message(bytes, channel) = event else {
            if case .closed = event {
                let taken = side == .client ? client.takeUnacknowledgedMessages() : server!.takeUnacknowledgedMessages()
                closedUnacknowledged[side, default: []] += taken
            }
            return
        }
        var direction = side == .client ? toClient : toServer
        defer { if side == .client { toClient = direction } else { toServer = direction } }
        guard !direction.isForged else { return }
        if channel == .reliableOrdered {
            invariant(direction.deliveredReliable < direction.sentReliable.count,
                      "\(side) delivered more reliable messages (\(direction.deliveredReliable + 1)) than were sent (\(direction.sentReliable.count))")
            invariant(direction.sentReliable[direction.deliveredReliable] == bytes,
                      "\(side) delivered reliable message \(direction.deliveredReliable) out of order or altered (\(bytes.count) bytes)")
            direction.deliveredReliable += 1
        } else {
            invariant(direction.sentUnreliable.contains(bytes), "\(side) delivered an unreliable message never sent (\(bytes.count) bytes)")
            invariant(direction.deliveredUnreliable.insert(bytes).inserted, "\(side) delivered an unreliable message twice")
        }
    }

    mutating func timeouts() {
        if let deadline = client.nextDeadline, deadline <= now { client.handleTimeout(at: now) }
        if let deadline = server?.nextDeadline, deadline <= now { server!.handleTimeout(at: now) }
    }

    var nextDeadline: Timestamp? {
        [client.nextDeadline, server?.nextDeadline].compactMap { $0 }.min()
    }

    mutating func advance(to time: Timestamp) {
        if time > now { now = time }
        timeouts()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConnection(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var harness = Harness(id: ConnectionID(rawValue: 0x1234_ABCD))
    harness.drain()
    var steps = 0
    while !input.isAtEnd, steps < 4_000 {
        steps += 1
        let op = input.byte()
        let side: Side = op & 0x80 == 0 ? .server : .client     // the side acted on or delivered to
        switch op & 0x0F {
        case 0, 1:
            // Send: length class, then fine length.
            let lengthClass = input.byte()
            let length = switch lengthClass % 4 {
            case 0: Int(lengthClass >> 2)
            case 1: Int(input.uint16()) % 3_000
            case 2: Int(input.uint16())
            default: Limits.maximumMessageSize + Int(lengthClass >> 6)
            }
            harness.send(from: side == .client ? .server : .client, length: length,
                         channel: op & 0x40 == 0 ? .reliableOrdered : .unreliable)
        case 2, 3, 4:
            // Deliver the datagram at an index (0: the oldest) to `side`.
            let index = Int(input.byte())
            var queue = side == .client ? harness.toClient.inFlight : harness.toServer.inFlight
            if !queue.isEmpty {
                let datagram = queue.remove(at: index % queue.count)
                if side == .client { harness.toClient.inFlight = queue } else { harness.toServer.inFlight = queue }
                harness.deliver(datagram, to: side)
            }
        case 5:
            // Drop a datagram in flight.
            let index = Int(input.byte())
            if side == .client, !harness.toClient.inFlight.isEmpty {
                harness.toClient.inFlight.remove(at: index % harness.toClient.inFlight.count)
            } else if side == .server, !harness.toServer.inFlight.isEmpty {
                harness.toServer.inFlight.remove(at: index % harness.toServer.inFlight.count)
            }
        case 6:
            // Duplicate: deliver a copy, keep the original in flight.
            let index = Int(input.byte())
            let queue = side == .client ? harness.toClient.inFlight : harness.toServer.inFlight
            if !queue.isEmpty { harness.deliver(queue[index % queue.count], to: side) }
        case 7:
            // Corrupt one byte of a datagram in flight and deliver it: the CRC must catch it. With bit 6
            // set, an attacker tampers instead: the byte is replaced and the checksum sealed again.
            let index = Int(input.byte())
            let position = Int(input.byte())
            let value = input.byte()
            let queue = side == .client ? harness.toClient.inFlight : harness.toServer.inFlight
            if !queue.isEmpty {
                var datagram = queue[index % queue.count]
                if !datagram.isEmpty {
                    if op & 0x40 != 0 {
                        datagram[position % datagram.count] = value
                        Checksum.seal(&datagram)
                        if side == .client { harness.toClient.isForged = true } else { harness.toServer.isForged = true }
                    } else {
                        datagram[position % datagram.count] ^= value | 1
                    }
                }
                harness.deliver(datagram, to: side)
            }
        case 8:
            // Time passes: 0 µs to about 16 s, roughly exponential.
            let step = input.byte()
            let micros = Int64(step & 0x0F + 1) << Int64(step >> 4 + (step >> 4) / 2)
            harness.advance(to: harness.now + .microseconds(micros))
        case 9:
            // Jump to the next deadline.
            if let deadline = harness.nextDeadline { harness.advance(to: deadline) }
        case 10, 11:
            // Forge a packet to `side` with the real connection id.
            let near = side == .client ? harness.toClient.peerPacketsSent : harness.toServer.peerPacketsSent
            let forged = PacketForge.packet(&input, id: harness.id, nearPacketNumber: near)
            if side == .client { harness.toClient.isForged = true } else { harness.toServer.isForged = true }
            harness.deliver(forged, to: side)
        case 12:
            // Arbitrary bytes, unsealed (mostly refused by the CRC) or sealed.
            var raw = input.blob()
            if op & 0x40 != 0 { Checksum.seal(&raw) }
            if side == .client { harness.toClient.isForged = true } else { harness.toServer.isForged = true }
            harness.deliver(raw, to: side)
        case 13:
            // A side closes (rare: needs two matching bytes).
            if input.byte() == 0xC1 {
                if side == .client { harness.client.close(code: CloseCode(rawValue: input.byte()), at: harness.now) }
                else { harness.server?.close(code: CloseCode(rawValue: input.byte()), at: harness.now) }
            }
        case 14:
            // Receive-side flow control on or off.
            if side == .client { harness.client.isAcceptingData = input.bool() }
            else { harness.server?.isAcceptingData = input.bool() }
        default:
            // Deliver everything in flight both ways, in order.
            let toServer = harness.toServer.inFlight
            harness.toServer.inFlight = []
            for datagram in toServer { harness.deliver(datagram, to: .server) }
            let toClient = harness.toClient.inFlight
            harness.toClient.inFlight = []
            for datagram in toClient { harness.deliver(datagram, to: .client) }
        }
        harness.drain()
    }
    heal(&harness)
    return 0
}

/// Without forgeries: deliver everything, advance time to each deadline, until both sides are idle or
/// closed; then every reliable message sent is delivered or handed back.
private func heal(_ harness: inout Harness) {
    guard !harness.toServer.isForged, !harness.toClient.isForged else { return }
    harness.client.isAcceptingData = true
    harness.server?.isAcceptingData = true
    for _ in 0..<20_000 {
        harness.drain()
        let settled = (harness.client.isClosed || harness.client.isIdle)
            && (harness.server.map { $0.isClosed || $0.isIdle } ?? true)
            && harness.toServer.inFlight.isEmpty && harness.toClient.inFlight.isEmpty
        if settled { break }
        if !harness.toServer.inFlight.isEmpty {
            let datagram = harness.toServer.inFlight.removeFirst()
            harness.deliver(datagram, to: .server)
        } else if !harness.toClient.inFlight.isEmpty {
            let datagram = harness.toClient.inFlight.removeFirst()
            harness.deliver(datagram, to: .client)
        } else if let deadline = harness.nextDeadline {
            harness.advance(to: deadline)
        } else {
            break
        }
    }
    harness.drain()
    let clientOpen = !harness.client.isClosed
    let serverOpen = harness.server.map { !$0.isClosed } ?? false
    guard clientOpen, serverOpen, harness.client.isIdle, harness.server!.isIdle else {
        // A side closed: what it sent and the peer never delivered must have been handed back.
        checkHandedBack(harness.toServer, handedBack: harness.closedUnacknowledged[.client] ?? [], sender: "client",
                        senderClosed: harness.client.isClosed)
        if let server = harness.server {
            checkHandedBack(harness.toClient, handedBack: harness.closedUnacknowledged[.server] ?? [], sender: "server",
                            senderClosed: server.isClosed)
        }
        return
    }
    invariant(harness.toServer.deliveredReliable == harness.toServer.sentReliable.count,
              "client idle, yet server delivered \(harness.toServer.deliveredReliable) of \(harness.toServer.sentReliable.count) reliable messages")
    invariant(harness.toClient.deliveredReliable == harness.toClient.sentReliable.count,
              "server idle, yet client delivered \(harness.toClient.deliveredReliable) of \(harness.toClient.sentReliable.count) reliable messages")
}

private func checkHandedBack(_ direction: Direction, handedBack: [[UInt8]], sender: String, senderClosed: Bool) {
    // Messages acknowledged but still held by the receiver for an earlier gap die with the connection,
    // so only this much holds: what is handed back was sent, and not already delivered twice over.
    let sent = Set(direction.sentReliable)
    for message in handedBack {
        invariant(sent.contains(message), "\(sender) handed back a message it never sent (\(message.count) bytes)")
    }
}
