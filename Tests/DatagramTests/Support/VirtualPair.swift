@testable import Datagram

/// Two connections joined by a virtual link, driven in virtual time (quinn's `Pair`, smoltcp's netsim).
///
/// The server side goes through a real `CookieJar`. Every datagram takes `delay` to cross; `drop`
/// decides, per direction and per datagram (counted from 0 in that direction), which ones vanish.
struct VirtualPair {
    enum Direction: Hashable { case toServer, toClient }

    struct InFlight {
        let arrival: Timestamp
        let sequence: Int
        let direction: Direction
        let bytes: [UInt8]
    }

    var now: Timestamp
    var client: Connection
    var server: Connection?
    let serverConfiguration: Connection.Configuration
    let jar = CookieJar(secret: (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210))
    let clientAddress: [UInt8] = [127, 0, 0, 1, 0xC3, 0x50]
    var delay: Duration
    var drop: (Direction, Int) -> Bool = { _, _ in false }
    /// Deliver this datagram twice.
    var duplicate: (Direction, Int) -> Bool = { _, _ in false }
    /// Flip a byte of this datagram (at the returned index, modulo its length).
    var corrupt: (Direction, Int) -> Int? = { _, _ in nil }
    /// Extra delay per datagram (for reordering), on top of `delay`.
    var jitter: (Direction, Int) -> Duration = { _, _ in .zero }
    var inFlight: [InFlight] = []
    var sentCount: [Direction: Int] = [.toServer: 0, .toClient: 0]
    var sequence = 0
    var clientEvents: [Connection.Event] = []
    var serverEvents: [Connection.Event] = []

    init(configuration: Connection.Configuration = .rfc9002, delay: Duration = .milliseconds(50),
         start: Timestamp = .milliseconds(1000), clientFirstPacketNumber: UInt32 = 0,
         serverFirstPacketNumber: UInt32 = 0) {
        now = start
        self.delay = delay
        client = Connection(role: .client, id: ConnectionID(rawValue: 0xC0FFEE), configuration: configuration,
                            now: start, firstPacketNumber: clientFirstPacketNumber)
        serverConfiguration = configuration
        self.serverFirstPacketNumber = serverFirstPacketNumber
    }

    let serverFirstPacketNumber: UInt32

    /// The client's messages delivered to the server, in order.
    var serverMessages: [[UInt8]] {
        serverEvents.compactMap { if case let .message(bytes, _) = $0 { bytes } else { nil } }
    }

    var clientMessages: [[UInt8]] {
        clientEvents.compactMap { if case let .message(bytes, _) = $0 { bytes } else { nil } }
    }

    /// Drains both sides' output into the link.
    mutating func flush() {
        while let datagram = client.pollTransmit(at: now) { put(datagram, .toServer) }
        while let event = client.pollEvent() { clientEvents.append(event) }
        if server != nil {
            while let datagram = server!.pollTransmit(at: now) { put(datagram, .toClient) }
            while let event = server!.pollEvent() { serverEvents.append(event) }
        }
    }

    private mutating func put(_ datagram: [UInt8], _ direction: Direction) {
        let index = sentCount[direction]!
        sentCount[direction] = index + 1
        if drop(direction, index) { return }
        var bytes = datagram
        if let position = corrupt(direction, index) { bytes[position % bytes.count] ^= 0x20 }
        inFlight.append(InFlight(arrival: now + delay + jitter(direction, index), sequence: sequence,
                                 direction: direction, bytes: bytes))
        sequence += 1
        if duplicate(direction, index) {
            inFlight.append(InFlight(arrival: now + delay + jitter(direction, index), sequence: sequence,
                                     direction: direction, bytes: bytes))
            sequence += 1
        }
    }

    /// The earliest thing that will happen, or nil when nothing will.
    var nextEventTime: Timestamp? {
        var times = inFlight.map(\.arrival)
        if let deadline = client.nextDeadline { times.append(deadline) }
        if let deadline = server?.nextDeadline { times.append(deadline) }
        return times.min()
    }

    /// Jumps to the next event and handles everything due then. Returns false when nothing is left.
    @discardableResult
    mutating func step() -> Bool {
        flush()
        guard let next = nextEventTime else { return false }
        now = Swift.max(now, next)
        let due = inFlight.filter { $0.arrival <= now }.sorted { ($0.arrival, $0.sequence) < ($1.arrival, $1.sequence) }
        inFlight.removeAll { $0.arrival <= now }
        for item in due { deliver(item) }
        if let deadline = client.nextDeadline, deadline <= now { client.handleTimeout(at: now) }
        if let deadline = server?.nextDeadline, deadline <= now { server!.handleTimeout(at: now) }
        flush()
        return true
    }

    private mutating func deliver(_ item: InFlight) {
        switch item.direction {
        case .toClient:
            client.handleDatagram(item.bytes, at: now)
        case .toServer where server != nil:
            server!.handleDatagram(item.bytes, at: now)
        case .toServer:
            switch jar.respond(to: item.bytes, from: clientAddress, at: now) {
            case .reply(let reply): put(reply, .toClient)
            case .accept(let id):
                server = Connection(role: .server, id: id, configuration: serverConfiguration, now: now,
                                    firstPacketNumber: serverFirstPacketNumber)
                server!.handleDatagram(item.bytes, at: now)
            case .drop: break
            }
        }
    }

    /// Steps until `condition` holds or virtual time passes `limit`.
    mutating func run(until limit: Timestamp, while condition: (VirtualPair) -> Bool = { _ in true }) {
        while now < limit, condition(self), step() {}
    }
}
