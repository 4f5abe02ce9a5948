/// The fields of a DATA body before its payload (wire format, section 5).
public struct FragmentHeader: Sendable, Hashable {
    /// The channel the message travels on.
    public var channel: Channel
    /// The per-channel message number.
    public var messageNumber: UInt32
    /// This fragment's 0-based index within the message.
    public var fragmentIndex: UInt16
    /// How many fragments the message has, 1 to `Limits.maximumFragmentCount`.
    public var fragmentCount: UInt16

    /// Creates the fields of a DATA body.
    public init(channel: Channel, messageNumber: UInt32, fragmentIndex: UInt16, fragmentCount: UInt16) {
        self.channel = channel
        self.messageNumber = messageNumber
        self.fragmentIndex = fragmentIndex
        self.fragmentCount = fragmentCount
    }
}

/// The type-dependent part of a packet (wire format, section 3).
public enum PacketBody: Sendable, Hashable {
    /// One message fragment (section 5).
    case data(FragmentHeader, payload: ArraySlice<UInt8>)
    /// Only the header's acknowledgement fields.
    case ack
    /// Asks for an acknowledgement (keepalive, probe).
    case ping
    /// The sender closed, with a reason code (section 7).
    case close(code: CloseCode)
    /// The server has no state for this connection id.
    case reset
    /// The 16-byte cookie field; all zeros on the first HELLO.
    case hello(cookie: [UInt8])
    /// The 16-byte cookie the client must echo.
    case cookie([UInt8])
    /// The server accepted the handshake.
    case welcome
    /// A HELLO carrying a cookie and Noise message 1 (32 bytes): a request for a sealed session.
    case helloNoise(cookie: [UInt8], message: [UInt8])
    /// A WELCOME carrying Noise message 2 (96 bytes).
    case welcomeNoise(message: [UInt8])
    /// FINISH: Noise message 3 (64 bytes), client to server.
    case finish(message: [UInt8])
    /// RESET carrying the 16-byte reset token a sealed session's message 2 announced (section 10.4).
    case resetToken([UInt8])
    /// PATH_CHALLENGE: 8 bytes to echo (sealed sessions only).
    case pathChallenge([UInt8])
    /// PATH_RESPONSE: the echoed 8 bytes.
    case pathResponse([UInt8])

    /// The type byte that goes with this body.
    public var type: PacketType {
        switch self {
        case .data: .data
        case .ack: .ack
        case .ping: .ping
        case .close: .close
        case .reset, .resetToken: .reset
        case .hello, .helloNoise: .hello
        case .cookie: .cookie
        case .welcome, .welcomeNoise: .welcome
        case .finish: .finish
        case .pathChallenge: .pathChallenge
        case .pathResponse: .pathResponse
        }
    }
}

/// A validated packet: what `parse` accepts and `emit` writes, byte for byte (wire format, sections 2-7).
public struct Packet: Sendable, Hashable {
    /// The header fields.
    public var header: PacketHeader
    /// The body, which also determines the type byte.
    public var body: PacketBody

    /// Creates a packet from its parts.
    public init(header: PacketHeader, body: PacketBody) {
        self.header = header
        self.body = body
    }

    /// The packet's type.
    public var type: PacketType { body.type }

    /// Reads one datagram. Checks, in order: length and magic, checksum, version, type, body.
    public static func parse(_ datagram: [UInt8]) throws(WireError) -> Packet {
        try parse(datagram, isOpened: false)
    }

    /// Checks what can be checked of a datagram before it is opened: length and magic, checksum,
    /// version, type. Returns the type.
    static func checkEnvelope(_ datagram: [UInt8]) throws(WireError) -> PacketType {
        guard datagram.count >= 2 else { throw .truncated }
        let view = PacketView(bytes: datagram)
        guard view.magic == HeaderLayout.magic else { throw .badMagic }
        guard datagram.count >= HeaderLayout.size else { throw .truncated }
        guard datagram.count <= Limits.maximumDatagramSize else { throw .invalidField("datagram length") }
        guard view.checksum == CRC32C.datagramChecksum(datagram) else { throw .checksumMismatch }
        guard view.version == HeaderLayout.version else { throw .unsupportedVersion(view.version) }
        guard let type = PacketType(rawValue: view.typeCode) else { throw .unknownType(view.typeCode) }
        return type
    }

    /// Reads one datagram; `isOpened`: the plaintext of a sealed packet (no checksum to check, the
    /// sealed fragment geometry of `Limits.sealed`).
    static func parse(_ datagram: [UInt8], isOpened: Bool) throws(WireError) -> Packet {
        guard datagram.count >= 2 else { throw .truncated }
        let view = PacketView(bytes: datagram)
        guard view.magic == HeaderLayout.magic else { throw .badMagic }
        guard datagram.count >= HeaderLayout.size else { throw .truncated }
        guard datagram.count <= Limits.maximumDatagramSize else { throw .invalidField("datagram length") }
        guard isOpened || view.checksum == CRC32C.datagramChecksum(datagram) else { throw .checksumMismatch }
        guard view.version == HeaderLayout.version else { throw .unsupportedVersion(view.version) }
        guard let type = PacketType(rawValue: view.typeCode) else { throw .unknownType(view.typeCode) }
        var acknowledgement: Acknowledgement?
        if view.flags & HeaderLayout.ackFlag != 0 {
            acknowledgement = Acknowledgement(largest: view.largestAcknowledged, bitfield: view.bitfield,
                                              delay: view.ackDelay)
        }
        let header = PacketHeader(connectionID: ConnectionID(rawValue: view.connectionID),
                                  packetNumber: view.packetNumber, acknowledgement: acknowledgement)
        return Packet(header: header, body: try parseBody(type, view, geometry: isOpened ? .sealed : .plaintext))
    }

    private static func parseBody(_ type: PacketType, _ view: PacketView,
                                  geometry: FragmentGeometry) throws(WireError) -> PacketBody {
        let body = view.body
        switch type {
        case .data: return try parseData(view, geometry: geometry)
        case .welcome where body.count == NoiseMessageLength.second
                         || body.count == NoiseMessageLength.second + NoiseMessageLength.resetTokenPayload:
            return .welcomeNoise(message: Array(body))
        case .reset where body.count == NoiseMessageLength.resetToken:
            return .resetToken(Array(body))
        case .hello where body.count == HeaderLayout.cookieSize + NoiseMessageLength.first:
            return .helloNoise(cookie: Array(body.prefix(HeaderLayout.cookieSize)),
                               message: Array(body.dropFirst(HeaderLayout.cookieSize)))
        case .pathChallenge, .pathResponse:
            guard body.count >= 8 else { throw .truncated }
            guard body.count == 8 else { throw .invalidField("body length") }
            return type == .pathChallenge ? .pathChallenge(Array(body)) : .pathResponse(Array(body))
        case .finish:
            guard body.count >= NoiseMessageLength.third else { throw .truncated }
            guard body.count == NoiseMessageLength.third else { throw .invalidField("body length") }
            return .finish(message: Array(body))
        case .ack, .ping, .reset, .welcome:
            guard body.isEmpty else { throw .invalidField("body length") }
            switch type {
            case .ack: return .ack
            case .ping: return .ping
            case .reset: return .reset
            default: return .welcome
            }
        case .close:
            guard body.count >= 1 else { throw .truncated }
            guard body.count == 1 else { throw .invalidField("body length") }
            return .close(code: CloseCode(rawValue: body[body.startIndex]))
        case .hello, .cookie:
            guard body.count >= HeaderLayout.cookieSize else { throw .truncated }
            guard body.count == HeaderLayout.cookieSize else { throw .invalidField("body length") }
            return type == .hello ? .hello(cookie: Array(body)) : .cookie(Array(body))
        }
    }

    private static func parseData(_ view: PacketView, geometry: FragmentGeometry) throws(WireError) -> PacketBody {
        let base = HeaderLayout.size
        guard view.bytes.count >= base + HeaderLayout.dataFieldsSize else { throw .truncated }
        guard let channel = Channel(rawValue: view.bytes[base]) else { throw .invalidField("channel") }
        let index = view.readUInt16(at: base + 2)
        let number = view.readUInt32(at: base + 4)
        let count = view.readUInt16(at: base + 8)
        guard count >= 1, Int(count) <= geometry.maximumFragmentCount else { throw .invalidField("fragment count") }
        guard index < count else { throw .invalidField("fragment index") }
        let payload = view.bytes[(base + HeaderLayout.dataFieldsSize)...]
        let isLast = index == count - 1
        guard isLast ? payload.count <= geometry.maximumPayload(ofLastFragmentOf: Int(count))
                     : payload.count == geometry.fragmentPayload else {
            throw .invalidField("payload length")
        }
        let fragment = FragmentHeader(channel: channel, messageNumber: number, fragmentIndex: index, fragmentCount: count)
        return .data(fragment, payload: payload)
    }

    /// Writes the packet as one datagram, checksum included.
    public func emit() -> [UInt8] {
        var bytes = [UInt8]()
        emit(into: &bytes)
        return bytes
    }

    /// Writes the packet into `bytes`, replacing what was there and reusing its storage. Without
    /// `checksum` the checksum field is left zero: for a packet about to be sealed, whose checksum is
    /// computed over the ciphertext (wire format, section 10), so computing it here too is waste.
    public func emit(into bytes: inout [UInt8], checksum: Bool = true) {
        bytes.removeAll(keepingCapacity: true)
        bytes.reserveCapacity(HeaderLayout.size + bodySize + 16)
        emitHeader(into: &bytes)
        emitBody(into: &bytes)
        if checksum { Packet.sealChecksum(&bytes) }
    }

    private var bodySize: Int {
        switch body {
        case .data(_, let payload): HeaderLayout.dataFieldsSize + payload.count
        case .close: 1
        case .hello, .cookie: HeaderLayout.cookieSize
        case .ack, .ping, .reset, .welcome: 0
        case .helloNoise(_, let message): HeaderLayout.cookieSize + message.count
        case .welcomeNoise(let message), .finish(let message): message.count
        case .pathChallenge(let data), .pathResponse(let data), .resetToken(let data): data.count
        }
    }

    private func emitHeader(into bytes: inout [UInt8]) {
        bytes.appendBigEndian(HeaderLayout.magic)
        bytes.append(HeaderLayout.version)
        bytes.append(type.rawValue)
        bytes.appendBigEndian(header.connectionID.rawValue)
        bytes.appendBigEndian(header.packetNumber)
        let ack = header.acknowledgement
        bytes.appendBigEndian(ack?.largest ?? 0)
        bytes.appendBigEndian(ack?.bitfield ?? 0)
        bytes.appendBigEndian(ack?.delay ?? 0)
        bytes.append(ack == nil ? 0 : HeaderLayout.ackFlag)
        bytes.append(0)
        bytes.appendBigEndian(UInt32(0))
    }

    private func emitBody(into bytes: inout [UInt8]) {
        switch body {
        case let .data(fragment, payload):
            bytes.append(fragment.channel.rawValue)
            bytes.append(0)
            bytes.appendBigEndian(fragment.fragmentIndex)
            bytes.appendBigEndian(fragment.messageNumber)
            bytes.appendBigEndian(fragment.fragmentCount)
            bytes.append(contentsOf: payload)
        case .close(let code):
            bytes.append(code.rawValue)
        case .hello(let cookie), .cookie(let cookie):
            precondition(cookie.count == HeaderLayout.cookieSize, "a cookie field is 16 bytes")
            bytes.append(contentsOf: cookie)
        case .ack, .ping, .reset, .welcome:
            break
        case let .helloNoise(cookie, message):
            precondition(cookie.count == HeaderLayout.cookieSize, "a cookie field is 16 bytes")
            bytes.append(contentsOf: cookie)
            bytes.append(contentsOf: message)
        case .welcomeNoise(let message), .finish(let message):
            bytes.append(contentsOf: message)
        case .pathChallenge(let data), .pathResponse(let data):
            precondition(data.count == 8, "a path challenge is 8 bytes")
            bytes.append(contentsOf: data)
        case .resetToken(let token):
            bytes.append(contentsOf: token)
        }
    }

    /// Computes the checksum of a complete datagram and writes it into bytes 28..<32.
    static func sealChecksum(_ bytes: inout [UInt8]) {
        let checksum = CRC32C.datagramChecksum(bytes)
        bytes[28] = UInt8(truncatingIfNeeded: checksum >> 24)
        bytes[29] = UInt8(truncatingIfNeeded: checksum >> 16)
        bytes[30] = UInt8(truncatingIfNeeded: checksum >> 8)
        bytes[31] = UInt8(truncatingIfNeeded: checksum)
    }
}

extension Packet {
    /// Recomputes a datagram's checksum in place (tests that tamper with bytes behind the checksum).
    public static func sealChecksumForTests(_ bytes: inout [UInt8]) {
        guard bytes.count >= HeaderLayout.size else { return }
        for offset in HeaderLayout.checksumOffset..<HeaderLayout.size { bytes[offset] = 0 }
        sealChecksum(&bytes)
    }
}
