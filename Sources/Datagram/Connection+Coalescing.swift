/// Coalescing (wire format, section 11; Specs/reliability.md, "Coalescing"): an established connection
/// with `Configuration.coalescesPackets` puts the packets that are ready at a send opportunity into one
/// datagram, up to `Limits.maximumDatagramSize`. Nothing waits for company: the first packet goes out
/// in this datagram whatever follows, and only packets ready at the same call join it. A packet built
/// but too large for the rest of the datagram is held and leads the next one (the caller drains
/// `pollTransmit` until it answers false, so it leaves at the same instant).
extension Connection {
    mutating func pollCoalesced(into datagram: inout [UInt8], at now: Timestamp) -> Bool {
        if !heldPacket.isEmpty {
            datagram.removeAll(keepingCapacity: true)
            swap(&datagram, &heldPacket)
        } else if !pollPacket(into: &datagram, at: now) {
            return false
        }
        // Only packets of an established connection are coalesced: the handshake's go alone, so the
        // stateless cookie jar always sees a plain HELLO. The usual case, a lone packet, costs one
        // more look at what is ready and no copy.
        guard state == .established, canJoin(packetBytes: datagram.count, count: 1, adding: HeaderLayout.size) else {
            return true
        }
        // A copy (`pendingCopy`) never joins: it leads a datagram of its own.
        isJoiningDatagram = true
        defer { isJoiningDatagram = false }
        var next: [UInt8] = []
        guard pollPacket(into: &next, at: now) else { return true }
        guard state == .established, canJoin(packetBytes: datagram.count, count: 1, adding: next.count) else {
            swap(&heldPacket, &next)
            return true
        }
        var packets = [datagram, next]
        var packetBytes = datagram.count + next.count
        while packets.count < CoalescedDatagram.maximumPackets,
              canJoin(packetBytes: packetBytes, count: packets.count, adding: HeaderLayout.size) {
            next = []
            guard pollPacket(into: &next, at: now) else { break }
            guard state == .established, canJoin(packetBytes: packetBytes, count: packets.count, adding: next.count) else {
                swap(&heldPacket, &next)
                break
            }
            packetBytes += next.count
            packets.append(next)
        }
        datagram = CoalescedDatagram.join(packets)
        counters.coalescedDatagrams += 1
        counters.coalescedPackets += packets.count
        counters.bytesSent += datagram.count - packetBytes
        return true
    }

    private func canJoin(packetBytes: Int, count: Int, adding size: Int) -> Bool {
        CoalescedDatagram.size(packetBytes: packetBytes + size, count: count + 1) <= Limits.maximumDatagramSize
    }
}
