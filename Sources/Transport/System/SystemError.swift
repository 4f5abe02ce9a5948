import Glibc

/// A failed system call: which call failed and the `errno` it left behind.
///
/// Every wrapper in this target turns `-1` plus `errno` into one of these, so a caller sees
/// `sendto: Network is unreachable (errno 101)` rather than a bare number. `EINTR` never reaches a
/// caller (the call is retried), and `EAGAIN` on a non-blocking socket is reported as "drained"
/// (a `nil` or `false` result), never as an error.
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name of the system call that failed, for example `"bind"`.
    public var call: String
    /// The `errno` value the call set.
    public var code: Int32

    /// Creates an error for `call` failing with `code`.
    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
    }

    /// The C library's text for `code` (`strerror`).
    public var message: String {
        String(cString: strerror(code))
    }

    /// True when the call would have blocked (`EAGAIN` or `EWOULDBLOCK`).
    /// True for EBADF: the descriptor was closed (a level-triggered source on it would fire forever).
    public var isBadDescriptor: Bool { code == EBADF }

    /// True for EADDRINUSE: another socket has the address.
    public var isAddressInUse: Bool { code == EADDRINUSE }

    /// EBADF from `call`.
    public static func badDescriptor(call: String) -> SystemError { SystemError(call: call, code: EBADF) }

    public var isWouldBlock: Bool {
        code == EAGAIN || code == EWOULDBLOCK
    }

    /// `call: message (errno N)`.
    public var description: String {
        "\(call): \(message) (errno \(code))"
    }
}

/// Runs `body` until it stops failing with `EINTR`; turns `-1` into a `SystemError` named `call`.
///
/// The one place that reads `errno`: the Glibc twin of swift-system's `valueOrErrno`.
@inline(__always)
func systemCall<Value: FixedWidthInteger>(
    _ call: String, _ body: () -> Value
) throws(SystemError) -> Value {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(call: call, code: code)
    }
}

/// Like `systemCall`, but answers `nil` when the call would block: the non-blocking "drained" case.
@inline(__always)
func systemCallUnlessWouldBlock<Value: FixedWidthInteger>(
    _ call: String, _ body: () -> Value
) throws(SystemError) -> Value? {
    do {
        return try systemCall(call, body)
    } catch {
        if error.isWouldBlock { return nil }
        throw error
    }
}
