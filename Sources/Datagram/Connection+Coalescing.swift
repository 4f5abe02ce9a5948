/// Coalescing (wire format, section 10; Specs/reliability.md, "Coalescing"): an established connection
/// with `Configuration.coalescesPackets` puts the packets that are ready at a send opportunity into one
/// datagram, up to `Limits.maximumDatagramSize`. Nothing waits for company: the first packet goes out
/// in this datagram whatever follows, and only packets ready at the same call join it. A packet built
/// but too large for the rest of the datagram is held and leads the next one (the caller drains
/// `pollTransmit` until it answers false, so it leaves at the same instant).
extension Connection {
    mutating func pollCoalesced(into datagram: inout [UInt8], at now: Timestamp) -> Bool {
        var first: [UInt8] = []
        if !heldPacket.isEmpty {
            swap(&first, &heldPacket)
        } else if !pollPacket(into: &first, at: now) {
            return false
        }
        // Only packets of an established connection are coalesced: the handshake's go alone, so the
        // stateless cookie jar always sees a plain HELLO.
        guard state == .established, canJoin(packetBytes: first.count, count: 1, adding: HeaderLayout.size) else {
            swap(&datagram, &first)
            return true
        }
        var packets = [first]
        var packetBytes = first.count
        var next: [UInt8] = []
        while packets.count < CoalescedDatagram.maximumPackets,
              canJoin(packetBytes: packetBytes, count: packets.count, adding: HeaderLayout.size),
              pollPacket(into: &next, at: now) {
            guard state == .established, canJoin(packetBytes: packetBytes, count: packets.count, adding: next.count) else {
                swap(&heldPacket, &next)
                break
            }
            packetBytes += next.count
            packets.append(next)
            next = []
        }
        if packets.count == 1 {
            swap(&datagram, &packets[0])
        } else {
            datagram = CoalescedDatagram.join(packets)
            counters.coalescedDatagrams += 1
            counters.coalescedPackets += packets.count
            counters.bytesSent += datagram.count - packetBytes
        }
        return true
    }

    private func canJoin(packetBytes: Int, count: Int, adding size: Int) -> Bool {
        CoalescedDatagram.size(packetBytes: packetBytes + size, count: count + 1) <= Limits.maximumDatagramSize
    }
}
