// The server side's stateless front door (the cookie jar itself is in Handshake/CookieJar.swift).

/// What a server does with a datagram from an endpoint it keeps no connection for.
public enum StatelessResponse: Sendable, Hashable {
    /// Send these bytes back (a COOKIE or a RESET, never larger than the datagram received) and forget it.
    case reply([UInt8])
    /// A HELLO with a valid cookie: create `Connection(role: .server, id:)` and feed it this datagram.
    case accept(ConnectionID)
    /// Nothing to answer (garbage, a RESET, a stale cookie ...); count it and drop it.
    case drop(reason: String)
}

/// Protocol-wide constants (wire format, section 8).
public enum Limits {
    /// The largest datagram either end sends or accepts, in bytes.
    public static let maximumDatagramSize = 1200
    /// The fixed header every packet starts with, in bytes.
    public static let headerSize = 32
    /// The payload of every fragment but a message's last, in bytes.
    public static let maximumFragmentPayload = 1158
    /// The most fragments one message may have.
    public static let maximumFragmentCount = 57
    /// The largest message payload a connection copies under loss (`copiesSmallMessagesUnderLoss`):
    /// chat lines, notices and receipts, not file chunks or long pastes. Not part of the wire format.
    public static let redundantCopyPayload = 512
    /// The largest message `send` accepts and a receiver reassembles, in bytes: 56 full fragments of
    /// 1158 bytes and a last one of at most 688.
    public static let maximumMessageSize = 65_536
    /// The most a packet number may differ from the largest received, either way, and still be looked
    /// at (wire format, section 4). Anything further is dropped without changing any state.
    public static let packetNumberWindow: UInt32 = 1 << 16
    /// The most bytes one message being reassembled can hold (`receiveBufferBudget` comes on top).
    public static let largestHeldMessage = ReceiveCost.largestMessage

    /// The fragment geometry of sealed packets: the 16-byte tag leaves 1,142 bytes per fragment, so
    /// a message of `maximumMessageSize` bytes needs up to 58 fragments (wire format, section 9.2).
    public enum Sealed {
        /// The payload of every fragment but a message's last, in a sealed packet.
        public static let maximumFragmentPayload = 1142
        /// The most fragments one message may have in a sealed session.
        public static let maximumFragmentCount = 58
    }

    /// The largest payload fragment `index` of a `count`-fragment message may carry: 1158, except that
    /// a last fragment may not take the message over `maximumMessageSize`.
    static func maximumPayload(ofLastFragmentOf count: Int) -> Int {
        Swift.min(maximumFragmentPayload, maximumMessageSize - (count - 1) * maximumFragmentPayload)
    }
}


/// How messages are cut into fragments: plaintext (1,158 bytes, at most 57) or sealed (1,142, 58).
struct FragmentGeometry: Sendable, Hashable {
    let fragmentPayload: Int
    let maximumFragmentCount: Int

    static let plaintext = FragmentGeometry(fragmentPayload: Limits.maximumFragmentPayload,
                                            maximumFragmentCount: Limits.maximumFragmentCount)
    static let sealed = FragmentGeometry(fragmentPayload: Limits.Sealed.maximumFragmentPayload,
                                         maximumFragmentCount: Limits.Sealed.maximumFragmentCount)

    func maximumPayload(ofLastFragmentOf count: Int) -> Int {
        Swift.min(fragmentPayload, Limits.maximumMessageSize - (count - 1) * fragmentPayload)
    }

    func fragmentCount(forSize size: Int) -> Int {
        Swift.max(1, (size + fragmentPayload - 1) / fragmentPayload)
    }
}
