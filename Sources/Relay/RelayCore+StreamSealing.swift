import Chat
import Datagram
import Noise

// TCP sealing (Specs/chat-protocol.md section 5.1, Specs/noise.md section 6): the same XX handshake in
// the stream's first three frames, then every frame's payload sealed with the counting nonce and
// empty associated data. A frame that does not open closes the stream, counted.

/// Where a TCP stream is in its handshake.
enum StreamSealState: Sendable {
    /// Nothing read yet: the first frame says whether the stream is sealed.
    case awaitingFirstFrame
    /// Message 2 written; message 3 expected.
    case awaitingFinish(HandshakeState)
    /// Every frame sealed both ways.
    case sealed(NoiseSession)
    /// A plaintext stream (allowed, or no sealing configured).
    case plaintext
}

/// The first frame of a sealed stream: this marker byte (no chat message type is 0), then Noise
/// message 1.
let streamHandshakeMarker: UInt8 = 0x00

extension RelayCore {
    /// Turns one frame read from `endpoint` into a chat message to handle, handling the handshake
    /// frames itself. Nil: nothing more to do with this frame (or the stream was closed).
    mutating func openStreamFrame(_ frame: [UInt8], from endpoint: Endpoint, at now: Timestamp) -> [UInt8]? {
        guard let sealing = connectionConfiguration.sealing else { return frame }
        switch streamSeals[endpoint] ?? .awaitingFirstFrame {
        case .plaintext:
            return frame
        case .awaitingFirstFrame:
            guard frame.count == 1 + NoiseMessageLength.first, frame.first == streamHandshakeMarker else {
                guard configuration.allowsPlaintext else {
                    statistics.plaintextRefused += 1
                    log(.info, "\(endpoint): plaintext stream refused (--allow-plaintext is off)")
                    actions.append(.sendStream(Framing.frame(RelayMessage.error(
                        code: .encryptionRequired, messageID: 0,
                        text: "This relay accepts encrypted sessions only (it runs without --allow-plaintext)").encoded()),
                                               to: endpoint))
                    removePeer(endpoint, departure: .protocolError("plaintext stream refused"), at: now)
                    return nil
                }
                streamSeals[endpoint] = .plaintext
                return frame
            }
            do {
                var handshake = try HandshakeState(pattern: .xx, role: .responder,
                                                   prologue: Sealing.prologue(connectionID: nil),
                                                   localStatic: sealing.staticKeyPair, crypto: sealing.crypto)
                _ = try handshake.readMessage(Array(frame.dropFirst()))
                let second = try handshake.writeMessage()
                actions.append(.sendStream(Framing.frame(second), to: endpoint))
                streamSeals[endpoint] = .awaitingFinish(handshake)
            } catch {
                closeUnopenedStream(endpoint, "handshake message 1: \(error)", at: now)
            }
            return nil
        case .awaitingFinish(var handshake):
            do {
                _ = try handshake.readMessage(frame)
                let session = try handshake.split()
                streamSeals[endpoint] = .sealed(session)
                if let key = session.remoteStaticKey.flatMap(IdentityKey.init(bytes:)) {
                    peers[endpoint]?.identityKey = key
                    statistics.handshakesCompleted += 1
                }
            } catch {
                closeUnopenedStream(endpoint, "handshake message 3: \(error)", at: now)
            }
            return nil
        case .sealed(var session):
            do {
                let plaintext = try session.decrypt(frame)
                streamSeals[endpoint] = .sealed(session)
                return plaintext
            } catch {
                closeUnopenedStream(endpoint, "a frame did not open", at: now)
                return nil
            }
        }
    }

    /// Seals one outgoing frame's payload for a sealed stream; nil when it cannot go (the handshake is
    /// not finished). Every chat message fits a sealed frame (`send(encoded:)` checks
    /// `ChatLimits.maximumChatMessageSize` first), so sealing fails only on a broken cipher state.
    mutating func sealStreamPayload(_ bytes: [UInt8], to endpoint: Endpoint, at now: Timestamp) -> [UInt8]? {
        guard connectionConfiguration.sealing != nil else { return bytes }
        switch streamSeals[endpoint] ?? .awaitingFirstFrame {
        case .plaintext:
            return bytes
        case .sealed(var session):
            do {
                let sealed = try session.encrypt(bytes)
                streamSeals[endpoint] = .sealed(session)
                return sealed
            } catch {
                log(.error, "\(endpoint): message of \(bytes.count) bytes not sent: \(error)")
                return nil
            }
        case .awaitingFirstFrame, .awaitingFinish:
            log(.debug, "\(endpoint): message of \(bytes.count) bytes not sent before the handshake finished")
            return nil
        }
    }

    private mutating func closeUnopenedStream(_ endpoint: Endpoint, _ reason: String, at now: Timestamp) {
        statistics.streamFramesUnopened += 1
        log(.info, "\(endpoint): closing the stream: \(reason)")
        removePeer(endpoint, departure: .protocolError(reason), at: now)
    }
}
