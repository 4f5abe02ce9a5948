import Chat
import Datagram
import DatagramRuntime
import Foundation
import Measurement
import Transport

/// A TCP chat client with no manners: it writes frames and reads them only when told to.
final class RawTCPClient {
    let stream: TCPStream
    private var decoder = FrameDecoder()
    private var buffer: [UInt8] = []
    private(set) var isClosed = false

    /// Connects (waiting up to a second) and optionally shrinks the kernel's receive buffer, so a
    /// client that never reads fills up quickly.
    init(relay: SocketAddress, receiveBuffer: Int32? = nil) throws {
        stream = try TCPStream.connect(to: relay)
        if let receiveBuffer { try? stream.setKernelBufferSizes(send: nil, receive: receiveBuffer) }
        let limit = Date().addingTimeInterval(1)
        while try !stream.finishConnecting() {
            guard Date() < limit else { throw BenchError("TCP connect to \(relay) did not complete") }
            usleep(1000)
        }
    }

    /// Queues a framed message; false when the stream's outgoing buffer is full or the stream is gone.
    @discardableResult
    func send(_ message: ClientMessage) -> Bool {
        sendBytes(Framing.frame(message.encoded()))
    }

    /// Queues raw bytes (framed or not); false when refused.
    @discardableResult
    func sendBytes(_ bytes: [UInt8]) -> Bool {
        guard !isClosed else { return false }
        do {
            if case .refused = try stream.write(bytes) {
                _ = try stream.flush()
                return false
            }
            return true
        } catch {
            isClosed = true
            return false
        }
    }

    /// Reads whatever is waiting and returns the decoded relay messages.
    func receive() -> [RelayMessage] {
        guard !isClosed else { return [] }
        var messages: [RelayMessage] = []
        while true {
            buffer.removeAll(keepingCapacity: true)
            guard let result = try? stream.read(into: &buffer) else { isClosed = true; break }
            switch result {
            case .bytes: decoder.append(buffer)
            case .drained: break
            case .endOfStream: isClosed = true
            }
            if result != .bytes(buffer.count) || buffer.isEmpty { break }
        }
        while let frame = try? decoder.nextFrame() {
            if let message = try? RelayMessage(decoding: frame) { messages.append(message) }
        }
        return messages
    }

    /// Waits up to `timeout` for a message matching `predicate`, reading as it goes.
    func waitFor(timeout: TimeInterval, _ predicate: (RelayMessage) -> Bool) -> RelayMessage? {
        let limit = Date().addingTimeInterval(timeout)
        while Date() < limit {
            if let match = receive().first(where: predicate) { return match }
            if isClosed { return nil }
            usleep(2000)
        }
        return nil
    }

    func close() {
        isClosed = true
        stream.close()
    }
}

extension SocketAddress {
    /// 127.A.B.C, port 0: another loopback address, so that an attacker is not the legitimate users'
    /// address (the whole of 127.0.0.0/8 is loopback on Linux).
    static func loopback(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> SocketAddress {
        SocketAddress(ipBytes: [127, a, b, c], port: 0)
    }
}
