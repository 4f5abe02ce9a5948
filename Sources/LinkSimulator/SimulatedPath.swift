import Datagram

/// The two simulated links a driver may put between its connection and the socket: one for
/// datagrams going out, one for datagrams coming in. A direction without conditions passes
/// datagrams straight through.
///
/// Each direction has its own generator, seeded from one seed (`outgoingSeed`,
/// `incomingSeed`), so traffic in one direction never shifts the other's losses.
/// Changing conditions at run time keeps the datagrams already in flight on a link.
public struct SimulatedPath: Sendable {
    /// The seed both directions' generators derive from.
    public let seed: UInt64
    /// The outgoing link (connection to socket), if simulated.
    public private(set) var outgoing: SimulatedLink?
    /// The incoming link (socket to connection), if simulated.
    public private(set) var incoming: SimulatedLink?

    /// Creates a path that passes everything through until conditions are set.
    public init(seed: UInt64) {
        self.seed = seed
    }

    /// Sets the conditions of each direction. Nil makes a simulated direction perfect (no loss, no
    /// delay) while still delivering what it holds; a direction never simulated stays a pass-through.
    public mutating func setConditions(outgoing: LinkConditions?, incoming: LinkConditions?) {
        SimulatedPath.update(&self.outgoing, to: outgoing, seed: outgoingSeed)
        SimulatedPath.update(&self.incoming, to: incoming, seed: incomingSeed)
    }

    /// The outgoing direction's seed: `SimulatedLink.seed(for: seed, direction: 0)`.
    public var outgoingSeed: UInt64 {
        SimulatedLink.seed(for: seed, direction: 0)
    }

    /// The incoming direction's seed: `SimulatedLink.seed(for: seed, direction: 1)`.
    public var incomingSeed: UInt64 {
        SimulatedLink.seed(for: seed, direction: 1)
    }

    /// Statistics of each direction (nil when that direction was never simulated).
    public var statistics: (outgoing: LinkStatistics?, incoming: LinkStatistics?) {
        (outgoing?.statistics, incoming?.statistics)
    }

    /// When the next datagram leaves either link, or nil when both are empty.
    public var nextDeliveryTime: Timestamp? {
        [outgoing?.nextDeliveryTime, incoming?.nextDeliveryTime].compactMap { $0 }.min()
    }

    /// A datagram the connection wants to send; returns it at once when the direction is not simulated.
    public mutating func sendOutgoing(_ datagram: [UInt8], at now: Timestamp) -> [UInt8]? {
        guard outgoing != nil else { return datagram }
        outgoing!.send(datagram, at: now)
        return nil
    }

    /// A datagram from the socket; returns it at once when the direction is not simulated.
    public mutating func sendIncoming(_ datagram: [UInt8], at now: Timestamp) -> [UInt8]? {
        guard incoming != nil else { return datagram }
        incoming!.send(datagram, at: now)
        return nil
    }

    /// The next outgoing datagram due by `now`, to put on the socket.
    public mutating func pollOutgoing(at now: Timestamp) -> [UInt8]? {
        outgoing?.pollDelivery(at: now)
    }

    /// The next incoming datagram due by `now`, to feed to the connection.
    public mutating func pollIncoming(at now: Timestamp) -> [UInt8]? {
        incoming?.pollDelivery(at: now)
    }

    private static func update(_ link: inout SimulatedLink?, to conditions: LinkConditions?, seed: UInt64) {
        switch (conditions, link) {
        case (let conditions?, nil):
            link = SimulatedLink(conditions: conditions, seed: seed)
        case (let conditions?, _?):
            link!.conditions = conditions
        case (nil, _?):
            // Keep delivering what is in flight, perfectly; `send` is only used while conditions exist.
            link!.conditions = LinkConditions()
        case (nil, nil):
            break
        }
    }
}
