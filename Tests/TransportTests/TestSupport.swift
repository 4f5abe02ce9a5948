import Datagram
import Transport

/// Polls `condition` until it holds or `limit` passes; returns whether it held. Not a timing
/// assertion: the limit is a generous bound so a broken run fails with a message instead of hanging.
func eventually(within limit: Duration = .seconds(30), _ condition: () throws -> Bool) async rethrows -> Bool {
    let clock = MonotonicClock()
    while clock.now().sinceOrigin < limit {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return try condition()
}

/// Whether this machine can bind a UDP socket to ::1 (containers often have no IPv6 loopback).
let isIPv6LoopbackAvailable: Bool = {
    guard let socket = try? UDPSocket(bindingTo: .loopbackIPv6(port: 0)) else { return false }
    socket.close()
    return true
}()
