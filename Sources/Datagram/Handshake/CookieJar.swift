/// Issues and checks handshake cookies without keeping any state per client (wire format, section 6).
///
/// A cookie is 16 bytes: the issue time in milliseconds since the server's time origin (8 bytes,
/// big-endian), then a SipHash-2-4 MAC (8 bytes, big-endian) keyed with the server's secret over
///
/// ```
/// address bytes (IP address, then port, as the caller gives them) | connection id (4) | issue time (8)
/// ```
///
/// so a client must receive the COOKIE at the address it claims before it can create state. The secret
/// comes from the caller (the relay draws it from the system's random source at start); `address` is
/// `CookieJar.addressInput(ip:port:)`: the client's IP address bytes (4 or 16; an IPv4-mapped IPv6
/// address as its 4 IPv4 bytes) followed by its big-endian port. Every reply is at most as
/// large as the datagram that caused it, so the server cannot be used to amplify a spoofed flood.
public struct CookieJar: Sendable {
    private let secret: (UInt64, UInt64)
    private let lifetime: Duration

    /// A jar whose cookies are accepted for `lifetime` after issue.
    public init(secret: (UInt64, UInt64), lifetime: Duration = .seconds(10)) {
        self.secret = secret
        self.lifetime = lifetime
    }

    /// The key of the reset tokens (`resetToken(for:)`); nil: the cookie secret. A server whose
    /// tokens must survive a restart sets one derived from something it keeps (the relay derives it
    /// from its static key).
    public var resetSecret: (UInt64, UInt64)?

    /// Decides what to do with `datagram`, which came from `address` for which there is no connection.
    ///
    /// - a HELLO with a zero cookie field, or with a cookie that expired: `.reply(COOKIE)` (48 bytes);
    /// - a HELLO with a valid cookie: `.accept(id)`;
    /// - a HELLO with a forged cookie, a RESET, a COOKIE, or anything unparseable: `.drop`;
    /// - any other packet: `.reply(RESET)` (32 bytes), since we hold no state for it.
    public func respond(to datagram: [UInt8], from address: [UInt8], at now: Timestamp) -> StatelessResponse {
        let packet: Packet
        do {
            packet = try Packet.parse(datagram)
        } catch {
            // A sealed DATA, ACK, PING or CLOSE cannot be parsed without its keys; its envelope is
            // enough to answer it with a RESET (never larger: a sealed packet is at least 48 bytes).
            if let type = try? Packet.checkEnvelope(datagram), Connection.isSealedType(type),
               datagram.count >= HeaderLayout.size + 16 {
                let id = ConnectionID(rawValue: PacketView(bytes: datagram).connectionID)
                let reset = Packet(header: PacketHeader(connectionID: id, packetNumber: 0), body: .resetToken(resetToken(for: id)))
                return .reply(reset.emit())
            }
            return .drop(reason: error.description)
        }
        let id = packet.header.connectionID
        switch packet.body {
        case .hello(let cookie), .helloNoise(let cookie, _):
            return respondToHello(packet, cookie: cookie, from: address, at: now)
        case .reset, .resetToken:
            return .drop(reason: "RESET is never answered")
        case .cookie:
            return .drop(reason: "COOKIE sent to a server")
        case .data, .ack, .ping, .close, .welcome, .welcomeNoise, .finish, .pathChallenge, .pathResponse:
            let reset = Packet(header: PacketHeader(connectionID: id, packetNumber: 0), body: .reset)
            return .reply(reset.emit())
        }
    }

    private func respondToHello(_ hello: Packet, cookie: [UInt8], from address: [UInt8],
                                at now: Timestamp) -> StatelessResponse {
        let id = hello.header.connectionID
        if cookie.allSatisfy({ $0 == 0 }) {
            return .reply(cookieReply(to: hello, from: address, at: now))
        }
        switch check(cookie, id: id, from: address, at: now) {
        case .valid: return .accept(id)
        case .expired: return .reply(cookieReply(to: hello, from: address, at: now))
        case .forged: return .drop(reason: "forged cookie")
        }
    }

    /// A COOKIE acknowledging the HELLO (so the client gets a first RTT sample), with packet number 0.
    private func cookieReply(to hello: Packet, from address: [UInt8], at now: Timestamp) -> [UInt8] {
        let id = hello.header.connectionID
        let header = PacketHeader(connectionID: id, packetNumber: 0,
                                  acknowledgement: Acknowledgement(largest: hello.header.packetNumber))
        return Packet(header: header, body: .cookie(makeCookie(id: id, address: address, at: now))).emit()
    }

    /// The 16-byte reset token of connection `id` (wire format, section 10.4): keyed with the jar's
    /// secret and nothing else, so the server can recompute it for a connection it has lost.
    public func resetToken(for id: ConnectionID) -> [UInt8] {
        var token: [UInt8] = []
        for label in ["datagram reset token 1", "datagram reset token 2"] {
            var hasher = SipHash24(key: resetSecret ?? secret)
            var input = Array(label.utf8)
            input.appendBigEndian(id.rawValue)
            hasher.append(input)
            token.appendBigEndian(hasher.finalize())
        }
        return token
    }

    /// The 8 bytes of a path challenge to `address` for connection `id` (wire format, section 10.8):
    /// keyed with the jar's secret, so nobody without it can predict them.
    public func pathChallenge(for id: ConnectionID, address: [UInt8], at now: Timestamp) -> [UInt8] {
        var hasher = SipHash24(key: secret)
        var input: [UInt8] = Array("datagram path challenge".utf8)
        input.append(contentsOf: address)
        input.appendBigEndian(id.rawValue)
        input.appendBigEndian(UInt64(bitPattern: now.microsecondsSinceOrigin))
        hasher.append(input)
        var bytes: [UInt8] = []
        bytes.appendBigEndian(hasher.finalize())
        return bytes
    }

    enum Verdict { case valid, expired, forged }

    /// The 16-byte cookie for this client at `now`.
    func makeCookie(id: ConnectionID, address: [UInt8], at now: Timestamp) -> [UInt8] {
        let issued = UInt64(clamping: now.microsecondsSinceOrigin / 1000)
        var cookie = [UInt8]()
        cookie.reserveCapacity(HeaderLayout.cookieSize)
        cookie.appendBigEndian(issued)
        cookie.appendBigEndian(mac(id: id, address: address, issued: issued))
        return cookie
    }

    func check(_ cookie: [UInt8], id: ConnectionID, from address: [UInt8], at now: Timestamp) -> Verdict {
        let view = PacketView(bytes: cookie)
        let issued = view.readUInt64(at: 0)
        guard view.readUInt64(at: 8) == mac(id: id, address: address, issued: issued) else { return .forged }
        let nowMilliseconds = now.microsecondsSinceOrigin / 1000
        guard issued <= UInt64(clamping: nowMilliseconds) else { return .forged }
        let age = Duration.milliseconds(nowMilliseconds - Int64(issued))
        return age <= lifetime ? .valid : .expired
    }

    /// The address bytes a cookie is bound to (wire format, section 6): the client's IP address as it
    /// appears on the wire, 4 bytes for IPv4 or 16 for IPv6 in network byte order, then its port as 2
    /// big-endian bytes. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, as a dual-stack socket reports
    /// an IPv4 client) is the IPv4 address: its last 4 bytes. No family byte is needed, since the
    /// lengths differ. Anything that is neither 4 nor 16 bytes is used as given.
    public static func addressInput(ip: [UInt8], port: UInt16) -> [UInt8] {
        var bytes = ip
        if ip.count == 16, ip[0..<10].allSatisfy({ $0 == 0 }), ip[10] == 0xFF, ip[11] == 0xFF {
            bytes = Array(ip[12..<16])
        }
        bytes.appendBigEndian(port)
        return bytes
    }

    /// A server connection's first packet number (wire format, section 4: random), drawn from the
    /// jar's secret: a keyed hash of a domain tag, the client's address, the connection id and the
    /// time, so a pure server needs no random source of its own and an off-path attacker cannot
    /// predict it.
    public func initialPacketNumber(for id: ConnectionID, address: [UInt8], at now: Timestamp) -> UInt32 {
        var hasher = SipHash24(key: secret)
        var input: [UInt8] = Array("datagram initial packet number".utf8)
        input.append(contentsOf: address)
        input.appendBigEndian(id.rawValue)
        input.appendBigEndian(UInt64(bitPattern: now.microsecondsSinceOrigin))
        hasher.append(input)
        return UInt32(truncatingIfNeeded: hasher.finalize())
    }

    private func mac(id: ConnectionID, address: [UInt8], issued: UInt64) -> UInt64 {
        var hasher = SipHash24(key: secret)
        hasher.append(address)
        var tail = [UInt8]()
        tail.appendBigEndian(id.rawValue)
        tail.appendBigEndian(issued)
        hasher.append(tail)
        return hasher.finalize()
    }
}
