@testable import Datagram

/// The test vectors of Specs/wire-format.md section 9, as values. `WireVectorTests` checks that each
/// one's bytes (in the spec and in `bytes`) decode to the packet and the packet encodes to the bytes.
enum WireVectors {
    static let id = ConnectionID(rawValue: 0x1234_ABCD)
    static let secret: (UInt64, UInt64) = (0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908)
    static let clientAddress: [UInt8] = [192, 0, 2, 1, 0x1F, 0x90]
    static let cookieIssueTime = Timestamp.milliseconds(10_000)

    static var cookie: [UInt8] {
        CookieJar(secret: secret).makeCookie(id: id, address: clientAddress, at: cookieIssueTime)
    }

    static var all: [(name: String, packet: Packet)] {
        [
            ("HELLO", Packet(header: PacketHeader(connectionID: id, packetNumber: 0xFFFF_FFFE),
                             body: .hello(cookie: [UInt8](repeating: 0, count: 16)))),
            ("COOKIE", Packet(header: PacketHeader(connectionID: id, packetNumber: 0,
                                                   acknowledgement: Acknowledgement(largest: 0xFFFF_FFFE)),
                              body: .cookie(cookie))),
            ("WELCOME", Packet(header: PacketHeader(connectionID: id, packetNumber: 7,
                                                    acknowledgement: Acknowledgement(largest: 0xFFFF_FFFF, bitfield: 1)),
                               body: .welcome)),
            ("DATA", Packet(header: PacketHeader(connectionID: id, packetNumber: 0xFFFF_FFFF,
                                                 acknowledgement: Acknowledgement(largest: 2, bitfield: 0x8000_0000_0000_0003,
                                                                                  delay: 625)),
                            body: .data(FragmentHeader(channel: .reliableOrdered, messageNumber: 0xFFFF_FFFE,
                                                       fragmentIndex: 0, fragmentCount: 1),
                                        payload: Array("hi".utf8)[...]))),
            ("ACK", Packet(header: PacketHeader(connectionID: id, packetNumber: 0x10,
                                                acknowledgement: Acknowledgement(largest: 0x2A, bitfield: .max, delay: 5)),
                           body: .ack)),
            ("PING", Packet(header: PacketHeader(connectionID: id, packetNumber: 0x11,
                                                 acknowledgement: Acknowledgement(largest: 0x2A)),
                            body: .ping)),
            ("CLOSE", Packet(header: PacketHeader(connectionID: id, packetNumber: 0x12), body: .close(code: .shuttingDown))),
            ("RESET", Packet(header: PacketHeader(connectionID: id, packetNumber: 0), body: .reset)),
        ]
    }
}
