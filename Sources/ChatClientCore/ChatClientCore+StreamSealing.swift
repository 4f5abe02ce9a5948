import Chat
import Datagram
import Noise

// The client's side of TCP sealing (Specs/chat-protocol.md section 5.1): marker and Noise message 1
// in the first frame, message 2 read and the pin check asked, message 3 written, then every frame
// sealed. Uses the same `Sealing` as UDP (`datagramConfiguration.sealing`).

/// Where the client's TCP stream is in its handshake.
enum ClientStreamSeal: Sendable {
    case none
    case awaitingWelcome(HandshakeState)
    case sealed(NoiseSession)
}

extension ChatClientCore {
    /// The stream is connected: a sealed session writes message 1; a plaintext one says HELLO at once.
    mutating func startStreamSession(at now: Timestamp) {
        guard let sealing = configuration.datagramConfiguration.sealing else {
            streamSeal = .none
            transmit(ledger.hello(configuration), at: now)
            return
        }
        do {
            var handshake = try HandshakeState(pattern: .xx, role: .initiator, prologue: Sealing.prologue(connectionID: nil),
                                               localStatic: sealing.staticKeyPair, crypto: sealing.crypto)
            let first = try handshake.writeMessage()
            streamSeal = .awaitingWelcome(handshake)
            writeRawFrame([0x00] + first)
        } catch {
            streamSeal = .none
            linkLost("cannot start the encrypted handshake: \(error)", at: now)
        }
    }

    /// One frame from the relay: the handshake's message 2, or a sealed chat message opened.
    /// Nil when nothing more is to be done with it.
    mutating func openStreamFrame(_ frame: [UInt8], at now: Timestamp) -> [UInt8]? {
        switch streamSeal {
        case .none:
            return frame
        case .awaitingWelcome(var handshake):
            guard let sealing = configuration.datagramConfiguration.sealing,
                  (try? handshake.readMessage(frame)) != nil, let relayKey = handshake.remoteStaticKey else {
                streamSeal = .none
                linkLost("the relay's handshake message did not read (does it accept encrypted sessions?)", at: now)
                return nil
            }
            if case let .reject(reason) = sealing.checkPeerKey?(relayKey) ?? .accept {
                streamSeal = .none
                shutDown(at: now, reporting: .handshakeFailed(reason: reason))
                return nil
            }
            guard let third = try? handshake.writeMessage(), let session = try? handshake.split() else {
                streamSeal = .none
                linkLost("the encrypted handshake could not finish", at: now)
                return nil
            }
            writeRawFrame(third)
            streamSeal = .sealed(session)
            transmit(ledger.hello(configuration), at: now)
            return nil
        case .sealed(var session):
            guard let plaintext = try? session.decrypt(frame) else {
                ledger.statistics.streamFramesUnopened += 1
                linkLost("a frame from the relay did not open", at: now)
                return nil
            }
            streamSeal = .sealed(session)
            return plaintext
        }
    }

    /// True once chat messages may go on the stream (plaintext, or the handshake done).
    var isStreamReady: Bool {
        switch streamSeal {
        case .none: true
        case .awaitingWelcome: false
        case .sealed: true
        }
    }

    /// The size of the frame `streamFrame(for:)` makes of `byteCount` bytes, found without sealing:
    /// sealing takes a nonce, so a frame is sealed only once it is certain to go out.
    func streamFrameSize(forPayload byteCount: Int) -> Int {
        guard case .sealed = streamSeal else { return ChatLimits.frameHeaderSize + byteCount }
        return ChatLimits.frameHeaderSize + byteCount + CipherState.tagLength
    }

    /// The frame for one encoded chat message: sealed when the stream is. Each call takes a nonce:
    /// the frame must be sent, in order.
    mutating func streamFrame(for bytes: [UInt8]) -> [UInt8]? {
        guard case .sealed(var session) = streamSeal else { return Framing.frame(bytes) }
        guard let sealed = try? session.encrypt(bytes) else { return nil }
        streamSeal = .sealed(session)
        return Framing.frame(sealed)
    }

    private mutating func writeRawFrame(_ payload: [UInt8]) {
        queueFrame(Framing.frame(payload))
    }
}
