// Fuzz target `client-message`: the relay's decoder for what clients send (chat protocol, 4.1).
//
// Checks: `ClientMessage(decoding:)` never crashes on any bytes; what it accepts re-encodes to bytes
// that decode to the same message and fit the protocol's maximum message size.
import Chat

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClientMessage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let bytes = input.rest()
    guard let message = try? ClientMessage(decoding: bytes) else { return 0 }
    let again = message.encoded()
    invariant(again.count <= ChatLimits.maximumMessageSize, "re-encoded message of \(again.count) bytes")
    invariant((try? ClientMessage(decoding: again)) == message, "re-encoded message decodes differently: \(message)")
    return 0
}
