/// One packet this side sent, as loss recovery remembers it.
struct SentPacket: Sendable {
    enum State: Sendable { case outstanding, acknowledged, lost, untracked }

    let packetNumber: UInt32
    let sentTime: Timestamp
    let size: Int
    let type: PacketType
    /// The reliable or unreliable fragment it carried, if DATA.
    let fragment: FragmentReference?
    var state: State

    /// Counted in bytes in flight and armed the probe timer (RFC 9002: ack-eliciting).
    var isAckEliciting: Bool { type.isAckEliciting }
}

/// The packets sent and not yet acknowledged or lost, in packet-number order (quinn's `SentPackets`).
///
/// Every packet sent is appended, so entry `i` is packet `firstPacketNumber + i` and lookup by number
/// is O(1). Packets that are not ack-eliciting enter as `untracked`. Finished entries stay where they
/// are until everything before them has finished too, then leave from the front; so the front, when
/// there is one, is always the oldest outstanding packet.
struct SentPacketTable: Sendable {
    private(set) var packets = Deque<SentPacket>()
    private var firstPacketNumber: UInt32 = 0

    var isEmpty: Bool { packets.isEmpty }
    var count: Int { packets.count }

    subscript(index: Int) -> SentPacket {
        get { packets[index] }
        set { packets[index] = newValue }
    }

    mutating func append(_ packet: SentPacket) {
        if let last = packets.last {
            assert(packet.packetNumber == last.packetNumber &+ 1, "packet numbers must increase by one")
        } else {
            firstPacketNumber = packet.packetNumber
        }
        packets.append(packet)
        trimFront()
    }

    /// The number of the oldest packet still in the table (nil when empty): every packet before it has
    /// finished (acknowledged, lost or untracked) and left.
    var oldestPacketNumber: UInt32? { packets.isEmpty ? nil : firstPacketNumber }

    /// The index of `packetNumber` in the table, if it is there.
    func index(of packetNumber: UInt32) -> Int? {
        guard !packets.isEmpty else { return nil }
        let offset = Int(packetNumber.serialDistance(from: firstPacketNumber))
        return offset >= 0 && offset < packets.count ? offset : nil
    }

    /// Drops finished packets from the front.
    mutating func trimFront() {
        while let first = packets.first, first.state != .outstanding {
            packets.popFirst()
            firstPacketNumber &+= 1
        }
    }

    /// Forgets everything (the connection closed).
    mutating func removeAll() {
        packets.removeAll()
    }
}
