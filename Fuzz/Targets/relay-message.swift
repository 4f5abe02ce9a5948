// Fuzz target `relay-message`: the client's decoder for what the relay sends (chat protocol, 4.2).
//
// Checks: `RelayMessage(decoding:)` never crashes on any bytes; what it accepts re-encodes to bytes
// that decode to the same message; `ChatRenderer` turns it into lines that hold no escape, control or
// bidirectional-override character (whatever the relay, or someone posing as it, sends).
import Chat

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRelayMessage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let bytes = input.rest()
    guard let message = try? RelayMessage(decoding: bytes) else { return 0 }
    let again = message.encoded()
    invariant((try? RelayMessage(decoding: again)) == message, "re-encoded message decodes differently: \(message)")
    for room in [nil, "#lobby"] as [String?] {
        for line in ChatRenderer.render(message, time: "12:00:00", currentRoom: room) {
            invariant(!line.unicodeScalars.contains(where: SafeText.isForbidden),
                      "a rendered line holds a control character: \(line.unicodeScalars.map { $0.escaped(asASCII: true) }.joined())")
        }
    }
    return 0
}
