import Chat
import Relay
import Testing

/// Specs/chat-protocol.md, section 4.7: Endpoint text (IPv4, IPv6 per RFC 5952); an address only to its owner:
/// `joined` carries the transport, WHO_LIST rows of others have an empty endpoint.
@Test func endpointDescriptions() {
    #expect(Endpoint(transport: .udp, address: [127, 0, 0, 1], port: 5000).description == "127.0.0.1:5000 udp")
    let loopback6 = Endpoint(transport: .tcp, address: Array(repeating: 0, count: 15) + [1], port: 7)
    #expect(loopback6.description == "[::1]:7 tcp")
    #expect(Endpoint(transport: .udp, address: [10, 0, 0, 2], port: 0x1234).cookieAddress == [10, 0, 0, 2, 0x12, 0x34])
}

/// Endpoints hash with their own seeded mix in dictionaries and sets (Endpoint.swift): equal
/// endpoints hash equally under every seed, the seed changes the hash, and the 10,000 ports of one
/// address (a relay-scale run) spread over a table's buckets with no pile-up.
@Test func endpointsHashEquallyWhenEqualAndSpreadAcrossBuckets() {
    let a = Endpoint(transport: .udp, address: [127, 0, 0, 1], port: 5000)
    let same = Endpoint(transport: .udp, ip: InlineIPAddress([127, 0, 0, 1]), port: 5000)
    for seed in [0, 1, -1, 0x5EED, Int.max] {
        #expect(a._rawHashValue(seed: seed) == same._rawHashValue(seed: seed))
    }
    #expect(a._rawHashValue(seed: 1) != a._rawHashValue(seed: 2))
    #expect(a._rawHashValue(seed: 7) != Endpoint(transport: .tcp, address: [127, 0, 0, 1], port: 5000)._rawHashValue(seed: 7))
    let ports = (0..<10_000).map { Endpoint(transport: .udp, address: [127, 0, 0, 1], port: UInt16(20_000 + $0)) }
    let buckets = 1 << 14
    var load = [Int](repeating: 0, count: buckets)
    for endpoint in ports { load[endpoint._rawHashValue(seed: 0x1234_5678) & (buckets - 1)] += 1 }
    #expect(load.max()! <= 8, "the fullest of \(buckets) buckets holds \(load.max()!) of 10,000 endpoints")
    #expect(Set(ports).count == 10_000)
    var table: [Endpoint: Int] = [:]
    for (index, endpoint) in ports.enumerated() { table[endpoint] = index }
    #expect(ports.enumerated().allSatisfy { table[$0.element] == $0.offset })
}
