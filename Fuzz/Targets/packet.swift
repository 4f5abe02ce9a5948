// Fuzz target `packet`: the Datagram wire decoder and the server's stateless front door.
//
// Input: a mode byte, then a datagram. Mode bit 0 seals the datagram's checksum first, so the fuzzer
// reaches the version, type and body checks behind the CRC. Checks: `Packet.parse` never crashes;
// what it accepts re-encodes to a packet that parses to the same value; the `CookieJar` never answers
// with more bytes than it received (no amplification) and only accepts a cookie it issued; splitting
// a coalesced datagram (wire format, section 11) never crashes and yields packets inside it.
import Datagram

private let jar = CookieJar(secret: (0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPacket(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    var datagram = input.rest()
    if mode & 1 == 1 { Checksum.seal(&datagram) }
    if let packet = try? Packet.parse(datagram) {
        let again = packet.emit()
        invariant(again.count == datagram.count, "re-encoding changed the length \(datagram.count) -> \(again.count)")
        invariant((try? Packet.parse(again)) == packet, "re-encoded packet parses differently")
    }
    let (parts, _) = CoalescedDatagram.split(datagram)
    invariant(parts.reduce(0) { $0 + $1.count } <= datagram.count, "coalesced packets longer than their datagram")
    _ = PacketHeader.peek(datagram)
    let address: [UInt8] = [192, 0, 2, 1, 0x1F, 0x90]
    let now = Timestamp.microseconds(10_000_000 + Int64(mode >> 1) * 1_000_000)
    switch jar.respond(to: datagram, from: address, at: now) {
    case .reply(let reply):
        invariant(reply.count <= datagram.count, "amplification: \(reply.count) bytes answered to \(datagram.count)")
        invariant((try? Packet.parse(reply)) != nil, "the jar's reply does not parse")
    case .accept:
        // Only a cookie minted for this address and id within its lifetime is accepted; a fuzzer
        // cannot forge the SipHash MAC, so this is not expected here (and is not an error).
        break
    case .drop:
        break
    }
    return 0
}
