import Noise

// Encrypted sessions (Specs/noise.md sections 4-5, Specs/wire-format.md section 9): the Noise XX
// handshake riding on HELLO, WELCOME and FINISH, then every DATA, ACK, PING and CLOSE sealed with
// ChaCha20-Poly1305 (nonce: the extended packet number; associated data: the header with its
// checksum zeroed). Datagram stays free of any C library: the primitives come in as a
// `NoiseCryptography` value (LibCrypto's `LibCryptoNoise` in the product, anything in a test).

/// What a client decides about the relay's static key, once Noise message 2 has proved the relay
/// holds its private key, and before message 3 reveals the client's own identity.
public enum PeerKeyDecision: Sendable, Hashable {
    /// Go on: write message 3.
    case accept
    /// Stop: the connection closes with `.handshakeFailed(message)` and sends nothing more.
    case reject(String)
}

/// How a connection seals its packets. `Connection.Configuration.sealing == nil` is the plaintext
/// protocol, byte for byte as before.
public struct Sealing: Sendable, Hashable {
    /// The primitives (`25519`, `ChaChaPoly`, `SHA256`: the lengths on the wire assume 32-byte keys).
    public var crypto: any NoiseCryptography
    /// This end's static key pair (the client's identity, or the relay's).
    public var staticKeyPair: NoiseKeyPair
    /// Fixed ephemeral key pair: for test vectors only. Nil: a fresh one per connection.
    public var ephemeralKeyPair: NoiseKeyPair?
    /// The sending key rotates (Noise `Rekey()`, key phase bit flipped) after this many sealed packets.
    public var rekeyInterval: UInt64
    /// ... or once it has been in use this long, whichever comes first (checked when a packet is
    /// sealed; Specs/noise.md section 5.3).
    public var rekeyAge: Duration
    /// The connection closes (CLOSE code 2, `CloseReason.tooManyFailedOpenings`) once this many
    /// sealed packets have failed to open: the forgery limit of ChaCha20-Poly1305 (RFC 9001 section
    /// 6.6). The peer handshakes again with fresh keys.
    public var maximumFailedOpenings: UInt64
    /// Client only: called with the relay's static key after message 2, before message 3 is written.
    /// Nil accepts every key.
    public var checkPeerKey: (@Sendable ([UInt8]) -> PeerKeyDecision)?

    /// The default rotation interval: 2^20 packets (Specs/noise.md section 5.3).
    public static let defaultRekeyInterval: UInt64 = 1 << 20
    /// The default age at which a sending key rotates: 10 minutes (Specs/noise.md section 5.3).
    public static let defaultRekeyAge: Duration = .seconds(600)
    /// The default forgery limit: 2^36 packets that did not open (Specs/noise.md section 5.3).
    public static let defaultMaximumFailedOpenings: UInt64 = 1 << 36

    public init(crypto: any NoiseCryptography, staticKeyPair: NoiseKeyPair, ephemeralKeyPair: NoiseKeyPair? = nil,
                rekeyInterval: UInt64 = Sealing.defaultRekeyInterval,
                checkPeerKey: (@Sendable ([UInt8]) -> PeerKeyDecision)? = nil,
                rekeyAge: Duration = Sealing.defaultRekeyAge,
                maximumFailedOpenings: UInt64 = Sealing.defaultMaximumFailedOpenings) {
        self.crypto = crypto
        self.staticKeyPair = staticKeyPair
        self.ephemeralKeyPair = ephemeralKeyPair
        self.rekeyInterval = Swift.max(1, rekeyInterval)
        self.rekeyAge = Swift.max(.milliseconds(1), rekeyAge)
        self.maximumFailedOpenings = Swift.max(1, maximumFailedOpenings)
        self.checkPeerKey = checkPeerKey
    }

    /// Equal when the suite, the static public key and the rotation interval are (the closure and the
    /// primitives' implementation are not compared).
    public static func == (lhs: Sealing, rhs: Sealing) -> Bool {
        lhs.crypto.suiteName == rhs.crypto.suiteName && lhs.staticKeyPair.publicKey == rhs.staticKeyPair.publicKey
            && lhs.rekeyInterval == rhs.rekeyInterval && lhs.ephemeralKeyPair?.publicKey == rhs.ephemeralKeyPair?.publicKey
            && lhs.rekeyAge == rhs.rekeyAge && lhs.maximumFailedOpenings == rhs.maximumFailedOpenings
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(crypto.suiteName)
        hasher.combine(staticKeyPair.publicKey)
        hasher.combine(rekeyInterval)
    }

    /// The 27-byte prologue of Specs/noise.md section 4.3 for a UDP connection.
    public static func prologue(connectionID: ConnectionID?) -> [UInt8] {
        var bytes = Array("datagram-chat noise".utf8)
        bytes.append(0)
        bytes.append(HeaderLayout.version)
        bytes.append(1)
        bytes.append(connectionID == nil ? 2 : 1)
        bytes.appendBigEndian(connectionID?.rawValue ?? 0)
        return bytes
    }
}

/// The Noise message lengths of XX over 25519 with empty payloads (wire format, section 9).
public enum NoiseMessageLength {
    /// HELLO's message 1: the client's ephemeral key.
    public static let first = 32
    /// WELCOME's message 2: ephemeral, encrypted static key, tag.
    public static let second = 96
    /// FINISH's message 3: encrypted static key, tag.
    public static let third = 64
    /// A reset token (section 10.4).
    public static let resetToken = 16
    /// What a reset token adds to message 2: the token encrypted, with its tag.
    public static let resetTokenPayload = 16
}

/// One direction's receiving keys: the current phase and, for three probe timeouts after a
/// rotation, the previous one.
struct ReceiveKeys: Sendable {
    var current: CipherState
    var phase: Bool = false
    var previous: CipherState?
    var previousExpiry: Timestamp?
}

/// A sealed connection's cryptographic state.
struct SealState: Sendable {
    let sealing: Sealing
    var handshake: HandshakeState?
    /// The bytes of this end's handshake message, repeated unchanged (client: message 1 then 3;
    /// server: message 2).
    var message1: [UInt8]?
    var welcomeBody: [UInt8]?
    var finishBody: [UInt8]?
    /// Client: FINISH must go out (first after message 2, then whenever a probe or a WELCOME says so).
    var isFinishPending = false
    /// Client: a sealed packet from the server opened, so it has read FINISH.
    var isFinishConfirmed = false
    /// The reset token: the server's (put in message 2), or the one the client read from message 2.
    /// While the client knows one, it honours only a RESET that carries it.
    var resetToken: [UInt8]?
    var sending: CipherState?
    var sendPhase = false
    var packetsUnderSendKey: UInt64 = 0
    /// When the current sending key came into use: its first sealed packet, or the rotation that
    /// made it (the age limit counts from there).
    var sendKeySince: Timestamp?
    /// Sealed packets that did not open, over the connection's life (the forgery limit).
    var failedOpenings: UInt64 = 0
    var receiving: ReceiveKeys?
    var remoteStaticKey: [UInt8]?
    /// The largest extended packet number received from the peer (the reference for reconstruction).
    var largestReceived: UInt64?
    /// The high 32 bits of this end's extended packet number (wraps of the 32-bit counter).
    var sendWraps: UInt64 = 0

    init(sealing: Sealing, role: Connection.Role, id: ConnectionID) throws(NoiseError) {
        self.sealing = sealing
        handshake = try HandshakeState(pattern: .xx, role: role == .client ? .initiator : .responder,
                                       prologue: Sealing.prologue(connectionID: id),
                                       localStatic: sealing.staticKeyPair, localEphemeral: sealing.ephemeralKeyPair,
                                       crypto: sealing.crypto)
    }

    var hasKeys: Bool { sending != nil && receiving != nil }

    /// Completes the handshake: the transport keys of Split().
    mutating func split() throws(NoiseError) {
        guard let handshake else { throw .handshakeNotComplete }
        let session = try handshake.split()
        guard let send = session.sending, let receive = session.receiving else { throw .handshakeNotComplete }
        sending = send
        receiving = ReceiveKeys(current: receive)
        remoteStaticKey = session.remoteStaticKey
        self.handshake = nil
    }

    /// QUIC's packet number reconstruction (RFC 9000 appendix A.3) over 32-bit packet numbers.
    func extended(_ packetNumber: UInt32) -> UInt64 {
        guard let largest = largestReceived else { return UInt64(packetNumber) }
        let window: UInt64 = 1 << 32
        let half = window / 2
        let expected = largest &+ 1
        var candidate = (expected & ~(window - 1)) | UInt64(packetNumber)
        if candidate &+ half <= expected, candidate < (UInt64.max - window) {
            candidate += window
        } else if candidate > expected &+ half, candidate >= window {
            candidate -= window
        }
        return candidate
    }

    mutating func noteReceived(_ packetNumber: UInt32) {
        let value = extended(packetNumber)
        if largestReceived.map({ value > $0 }) ?? true { largestReceived = value }
    }
}

extension Connection {
    /// Packet types that travel sealed once the keys exist.
    public static func isSealedType(_ type: PacketType) -> Bool {
        switch type {
        case .data, .ack, .ping, .close, .pathChallenge, .pathResponse: true
        case .reset, .hello, .cookie, .welcome, .finish: false
        }
    }

    /// Seals an emitted plaintext datagram in place: key phase flag, body encrypted under the
    /// extended packet number with the zero-checksum header as associated data, checksum last.
    ///
    /// The work is done by `SealState` methods called through `seal!`, in place: `guard var seal`
    /// copied the whole state (the handshake, the keys, the primitives) out and back twice per packet.
    mutating func sealDatagram(_ datagram: inout [UInt8], packetNumber: UInt32) {
        guard seal?.sending != nil else { return }
        // A key in use for `rekeyAge` rotates before it seals again (Specs/noise.md section 5.3).
        if let since = seal?.sendKeySince, let age = seal?.sealing.rekeyAge, now - since >= age, seal!.rotate(at: now) {
            counters.keyUpdatesSent += 1
        }
        if seal!.seal(&datagram, packetNumber: packetNumber, at: now) { counters.keyUpdatesSent += 1 }
    }

    /// Opens a sealed datagram whose envelope (length, magic, checksum, version, type) is valid:
    /// the plaintext datagram (header and body, checksum not recomputed), or nil when it does not
    /// open under the current key, the previous one, or the next one (counted by the caller).
    mutating func openDatagram(_ datagram: [UInt8]) -> [UInt8]? {
        guard seal?.receiving != nil else { return nil }
        let (opened, isKeyUpdate) = seal!.open(datagram, at: now)
        if isKeyUpdate {
            // The previous key stays for three probe timeouts. Computed here, on a key update only:
            // `Duration * Int` goes through Int128 (~500 instructions, per packet when it was an
            // argument to `open`).
            seal!.receiving!.previousExpiry = now + currentProbeTimeout * 3
            counters.keyUpdatesReceived += 1
        }
        if opened == nil, let failures = seal?.failedOpenings, let limit = seal?.sealing.maximumFailedOpenings, failures >= limit {
            // The forgery limit: these keys have been tried too often. Close; a new handshake
            // brings new keys (Specs/noise.md section 5.3).
            finish(.tooManyFailedOpenings, closeCode: .protocolError)
        }
        return opened
    }
}

extension SealState {
    /// Rotates the sending key (Noise `Rekey()`, key phase flipped); false if `Rekey()` failed.
    mutating func rotate(at now: Timestamp) -> Bool {
        guard var next = sending, (try? next.rekey()) != nil else { return false }
        sending = next
        sendPhase.toggle()
        packetsUnderSendKey = 0
        sendKeySince = now
        return true
    }

    /// `Connection.sealDatagram`'s work; true when the sending key rotated after this packet. The
    /// body is encrypted where it lies and the tag appended (the emitter reserves room for it): no
    /// copy of the header, the body or the ciphertext.
    mutating func seal(_ datagram: inout [UInt8], packetNumber: UInt32, at now: Timestamp) -> Bool {
        guard sending != nil else { return false }
        let nonce = sendWraps << 32 | UInt64(packetNumber)
        if sendPhase { datagram[HeaderLayout.flagsOffset] |= HeaderLayout.keyPhaseFlag }
        for offset in HeaderLayout.checksumOffset..<HeaderLayout.size { datagram[offset] = 0 }
        do {
            try sending!.encrypt(inPlace: &datagram, from: HeaderLayout.size, associatedData: 0..<HeaderLayout.size, nonce: nonce)
        } catch {
            return false
        }
        Packet.sealChecksum(&datagram)
        packetsUnderSendKey += 1
        if packetNumber == UInt32.max { sendWraps += 1 }
        if sendKeySince == nil { sendKeySince = now }
        guard packetsUnderSendKey >= sealing.rekeyInterval else { return false }
        return rotate(at: now)
    }

    /// `Connection.openDatagram`'s work: the opened datagram or nil, and whether the peer's key
    /// rotated (this packet opened under the next key; the caller then sets how long the previous
    /// key stays, `receiving.previousExpiry`). The body is opened where it lies in one
    /// copy of the datagram (the header, with its checksum zeroed for the associated data, then
    /// restored); only a packet of the other key phase, which may open under the previous or the
    /// next key, is copied once more per key it tries.
    mutating func open(_ datagram: [UInt8], at now: Timestamp) -> (opened: [UInt8]?, isKeyUpdate: Bool) {
        guard receiving != nil, datagram.count >= HeaderLayout.size else { return (nil, false) }
        let view = PacketView(bytes: datagram)
        let nonce = extended(view.packetNumber)
        let phase = view.flags & HeaderLayout.keyPhaseFlag != 0
        var buffer = datagram
        for offset in HeaderLayout.checksumOffset..<HeaderLayout.size { buffer[offset] = 0 }
        let header = 0..<HeaderLayout.size
        if let expiry = receiving!.previousExpiry, now >= expiry {
            receiving!.previous = nil
            receiving!.previousExpiry = nil
        }
        var isOpened = false
        var isKeyUpdate = false
        if phase == receiving!.phase {
            isOpened = (try? receiving!.current.decrypt(inPlace: &buffer, from: HeaderLayout.size, associatedData: header,
                                                        nonce: nonce)) != nil
        } else {
            if let previous = receiving!.previous {
                var attempt = buffer
                if (try? previous.decrypt(inPlace: &attempt, from: HeaderLayout.size, associatedData: header, nonce: nonce)) != nil {
                    buffer = attempt
                    isOpened = true
                }
            }
            if !isOpened {
                var next = receiving!.current
                var attempt = buffer
                if (try? next.rekey()) != nil,
                   (try? next.decrypt(inPlace: &attempt, from: HeaderLayout.size, associatedData: header, nonce: nonce)) != nil {
                    buffer = attempt
                    isOpened = true
                    receiving!.previous = receiving!.current
                    receiving!.previousExpiry = now // the caller sets the real expiry (see `openDatagram`)
                    receiving!.current = next
                    receiving!.phase = phase
                    isKeyUpdate = true
                }
            }
        }
        guard isOpened else {
            failedOpenings += 1
            return (nil, false)
        }
        isFinishConfirmed = true
        for offset in HeaderLayout.checksumOffset..<HeaderLayout.size { buffer[offset] = datagram[offset] }
        return (buffer, isKeyUpdate)
    }
}
