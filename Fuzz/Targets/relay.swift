// Fuzz target `relay`: a `RelayCore` driven by a byte-coded program, with real Datagram client
// connections for four UDP endpoints and four TCP endpoints.
//
// Instructions (opcode byte, then operands; the low 2 bits of most operands pick the endpoint):
// a UDP client connects (the cookie handshake runs as a real client does it); a UDP client sends a
// chat message (structured: HELLO, SAY, JOIN, ... with names and rooms from a small set so they
// collide) or arbitrary bytes as one message; an attacker sends a forged datagram from an endpoint
// (its client's connection id, packet numbers near the real ones); a TCP stream opens, sends a
// structured message as a frame, arbitrary bytes, reports a backlog, closes; time passes or jumps to
// the next deadline; a UDP client goes silent or comes back; the relay shuts down.
//
// What the clients send reaches the relay in batches (`handleDatagrams`), forged datagrams one by one.
//
// Checks: nothing crashes; memory stays bounded (-rss_limit_mb); every datagram the relay sends fits
// the maximum; every frame it writes to a stream is within the frame limit and decodes as a relay
// message, and so does every message a UDP client receives; after a shutdown, the relay finishes
// within its drain timeout plus a second; every log line is safe to print (no escape, control or
// bidirectional-override character; issue 8, item 8). FUZZ_RELAY_LOGS=0 in the environment turns the
// log check off.
import Chat
import Datagram
import Relay
#if canImport(Glibc)
import Glibc
#endif

private let checksLogLines: Bool = {
    guard let value = getenv("FUZZ_RELAY_LOGS") else { return true }
    return String(cString: value) != "0"
}()

private let names = ["alice", "bob", "ALICE", "carol", "", "a b", String(repeating: "n", count: 40)]
private let rooms = ["#lobby", "#a", "#b", "lobby", "", "#" + String(repeating: "r", count: 40)]

private func udpEndpoint(_ k: Int) -> Endpoint { Endpoint(transport: .udp, address: [10, 0, 0, UInt8(k)], port: 5000 + UInt16(k)) }
private func tcpEndpoint(_ k: Int) -> Endpoint { Endpoint(transport: .tcp, address: [10, 0, 1, UInt8(k)], port: 6000 + UInt16(k)) }

private func chatMessage(_ input: inout FuzzInput) -> [UInt8] {
    let kind = input.byte()
    let text: String = switch input.byte() % 4 {
    case 0: "hi"
    case 1: String(decoding: input.blob(), as: UTF8.self)
    case 2: String(repeating: "x", count: Int(input.uint16()) % 5_000)
    default: ""
    }
    let message: ClientMessage = switch kind % 14 {
    case 0, 1:
        .hello(Hello(sessionSecret: SessionSecret(rawValue: UInt64(input.byte() % 4)), name: input.pick(names),
                     rooms: (0..<Int(input.byte() % 4)).map { _ in input.pick(rooms) }, software: text))
    case 2, 3: .say(room: input.pick(rooms), messageID: UInt64(input.byte()), flags: MessageFlags(rawValue: input.byte()), text: text)
    case 4: .privateMessage(to: input.pick(names), messageID: UInt64(input.byte()), flags: [], text: text)
    case 5: .joinRoom(input.bool() ? input.pick(rooms) : "#" + String(input.uint16()))
    case 6: .partRoom(input.pick(rooms))
    case 7: .listRooms
    case 8: .who(room: input.pick(rooms))
    case 9: .nick(input.pick(names))
    case 10: .whois(name: input.pick(names))
    case 11: .sealedPrivate(to: input.pick(names), messageID: UInt64(input.byte()),
                            sealed: input.bool() ? input.blob() : [UInt8](repeating: input.byte(), count: 96 + Int(input.uint16()) % 4_100))
    case 12:
        // ACCOUNT (Specs/chat-protocol.md section 4.11.5): every action, names that collide, short and
        // long passwords; the harness's cheap hashing keeps it fast.
        .account(AccountRequest(AccountAction(rawValue: 1 + input.byte() % 5) ?? .register, name: input.pick(names),
                                password: input.bool() ? "password\(input.byte() % 3)" : text,
                                newPassword: input.bool() ? "" : "password\(input.byte() % 3)"))
    default: input.bool() ? .quit(reason: text) : .heartbeat(timestamp: input.uint64(), roundTripTime: input.bool() ? .milliseconds(Int64(input.byte())) : nil)
    }
    return message.encoded()
}

private struct Harness {
    var now = Timestamp.milliseconds(1)
    var core: RelayCore
    var clients: [Endpoint: Connection] = [:]
    var clientPackets: [Endpoint: UInt32] = [:]
    var silenced: Set<Endpoint> = []
    var streams: [Endpoint: FrameDecoder] = [:]
    var shutdownAt: Timestamp?

    init() {
        var configuration = RelayConfiguration()
        configuration.maximumPeers = 6
        configuration.streamSendQueueLimit = 64 * 1024
        // The sender-id derivation is injected; the relay links SHA-256 (LibCrypto), which this
        // harness does not build, so it uses a cheap one-to-one stand-in (the relay only compares ids).
        core = RelayCore(configuration: configuration, cookieSecret: (0xABCD, 0x1234),
                         senderIDs: { SenderID(rawValue: $0.rawValue &* 0x9E37_79B9_7F4A_7C15 ^ 0x5EED) }, at: now)
        // Accounts: a cheap stand-in for scrypt (the relay only compares the derived bytes).
        core.passwordHashing = PasswordHashing(cost: PasswordCost(n: 2, r: 1, p: 1),
                                               derive: { password, salt, _ in Array((salt + password).suffix(32)) },
                                               salt: { [1, 2, 3, 4] })
    }

    /// Performs the relay's actions and passes datagrams both ways until nothing moves (bounded).
    mutating func pump() {
        for _ in 0..<200 {
            var moved = false
            while let action = core.pollAction() {
                switch action {
                case let .sendDatagram(bytes, to: endpoint):
                    invariant(bytes.count <= Limits.maximumDatagramSize, "relay sent a \(bytes.count)-byte datagram")
                    if !silenced.contains(endpoint), clients[endpoint] != nil {
                        clients[endpoint]!.handleDatagram(bytes, at: now)
                        moved = true
                    }
                case let .sendStream(bytes, to: endpoint):
                    invariant(streams[endpoint] != nil, "relay wrote to a stream that is not open: \(endpoint)")
                    streams[endpoint]!.append(bytes)
                    do {
                        while let frame = try streams[endpoint]!.nextFrame() {
                            invariant((try? RelayMessage(decoding: frame)) != nil, "relay wrote a frame that does not decode (\(frame.count) bytes)")
                        }
                    } catch {
                        invariant(false, "relay wrote a bad frame to \(endpoint): \(error)")
                    }
                case let .closeStream(endpoint):
                    if streams.removeValue(forKey: endpoint) != nil {
                        core.handleStreamClosed(endpoint, at: now)
                    }
                case let .log(_, line):
                    if checksLogLines {
                        invariant(!line.unicodeScalars.contains(where: SafeText.isForbidden),
                                  "a log line holds a control character: \(line.unicodeScalars.map { $0.escaped(asASCII: true) }.joined())")
                    }
                }
            }
            // What the clients send reaches the relay as one batch, as `recvmmsg` hands it over
            // (`RelayCore.handleDatagrams`: acknowledgements held to the batch's end, quiet
            // connections drained there).
            var batch: [(bytes: [UInt8], from: Endpoint)] = []
            for endpoint in clients.keys.sorted(by: { $0.port < $1.port }) {
                while let bytes = clients[endpoint]!.pollTransmit(at: now) {
                    clientPackets[endpoint, default: 0] &+= 1
                    if !silenced.contains(endpoint) { batch.append((bytes, endpoint)) }
                }
            }
            if !batch.isEmpty {
                core.handleDatagrams(batch, at: now)
                moved = true
            }
            for endpoint in clients.keys.sorted(by: { $0.port < $1.port }) {
                while let event = clients[endpoint]!.pollEvent() {
                    if case let .message(bytes, _) = event {
                        invariant((try? RelayMessage(decoding: bytes)) != nil, "a UDP client received a message that does not decode (\(bytes.count) bytes)")
                    }
                }
            }
            if !moved { return }
        }
    }

    mutating func advance(to time: Timestamp) {
        if time > now { now = time }
        for endpoint in clients.keys.sorted(by: { $0.port < $1.port }) {
            if let deadline = clients[endpoint]!.nextDeadline, deadline <= now { clients[endpoint]!.handleTimeout(at: now) }
        }
        if let deadline = core.nextDeadline, deadline <= now { core.handleTimeout(at: now) }
        pump()
    }

    var nextDeadline: Timestamp? {
        (clients.values.compactMap(\.nextDeadline) + [core.nextDeadline].compactMap { $0 }).min()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRelay(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var harness = Harness()
    var steps = 0
    while !input.isAtEnd, steps < 2_000 {
        steps += 1
        let op = input.byte()
        let k = Int(op >> 6)
        let udp = udpEndpoint(k)
        let tcp = tcpEndpoint(k)
        switch op & 0x0F {
        case 0:
            // A UDP client connects (replacing any earlier one at this endpoint).
            let id = input.bool() ? UInt32(k + 1) : input.uint32()
            harness.clients[udp] = Connection(role: .client, id: ConnectionID(rawValue: id), now: harness.now)
            harness.clientPackets[udp] = 0
        case 1, 2:
            _ = try? harness.clients[udp]?.send(chatMessage(&input), at: harness.now)
        case 3:
            _ = try? harness.clients[udp]?.send(input.blob(), on: input.bool() ? .reliableOrdered : .unreliable, at: harness.now)
        case 4, 5:
            let id = harness.clients[udp]?.id ?? ConnectionID(rawValue: input.uint32())
            let forged = PacketForge.packet(&input, id: id, nearPacketNumber: harness.clientPackets[udp] ?? 0)
            harness.core.handleDatagram(forged, from: udp, at: harness.now)
        case 6:
            if harness.streams[tcp] == nil {
                harness.streams[tcp] = FrameDecoder()
                harness.core.handleStreamOpened(tcp, at: harness.now)
            }
        case 7, 8:
            if harness.streams[tcp] != nil {
                harness.core.handleStreamBytes(Framing.frame(chatMessage(&input)), from: tcp, at: harness.now)
            }
        case 9:
            if harness.streams[tcp] != nil { harness.core.handleStreamBytes(input.blob(), from: tcp, at: harness.now) }
        case 10:
            if harness.streams.removeValue(forKey: tcp) != nil { harness.core.handleStreamClosed(tcp, at: harness.now) }
        case 11:
            if harness.streams[tcp] != nil {
                harness.core.handleStreamBacklog(Int(input.uint16()) * Int(input.byte() % 4 + 1), for: tcp, at: harness.now)
            }
        case 12:
            let step = input.byte()
            let micros = Int64(step & 0x0F + 1) << Int64(step >> 4 + (step >> 4) / 2)
            harness.advance(to: harness.now + .microseconds(micros))
        case 13:
            if let deadline = harness.nextDeadline { harness.advance(to: deadline) }
        case 14:
            if harness.silenced.contains(udp) { harness.silenced.remove(udp) } else { harness.silenced.insert(udp) }
        default:
            if input.byte() == 0x5D, harness.shutdownAt == nil {
                harness.shutdownAt = harness.now
                harness.core.beginShutdown(reason: "fuzz", at: harness.now)
            }
        }
        harness.pump()
    }
    if let start = harness.shutdownAt {
        // Drive on (the network heals) until the drain timeout has certainly passed.
        harness.silenced = []
        let end = max(start, harness.now) + harness.core.configuration.shutdownDrainTimeout + .seconds(1)
        for _ in 0..<10_000 {
            guard let deadline = harness.core.nextDeadline, deadline <= end else { break }
            // At least 1 ms: while a peer drains, its silence timeout can stay in the past and the relay
            // would be woken at the same instant forever (a busy loop in a real driver until the drain
            // deadline; Fuzz/README.md, "Found so far"). Stepping on keeps checking that it finishes.
            harness.advance(to: max(deadline, harness.now + .milliseconds(1)))
        }
        invariant(harness.core.isFinished, "relay not finished \(harness.core.configuration.shutdownDrainTimeout) after shutdown (\(harness.core.users.count) users left)")
    }
    return 0
}
