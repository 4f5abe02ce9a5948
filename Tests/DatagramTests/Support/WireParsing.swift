@testable import Datagram

/// The error `Packet.parse` throws for `bytes`, or nil when they parse.
func parse(_ bytes: [UInt8]) -> WireError? {
    do {
        _ = try Packet.parse(bytes)
        return nil
    } catch {
        return error
    }
}

/// `bytes` with the checksum sealed again, so that only the field under test is wrong.
func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var bytes = bytes
    Packet.sealChecksum(&bytes)
    return bytes
}
