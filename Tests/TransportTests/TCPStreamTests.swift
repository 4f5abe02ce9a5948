import Dispatch
import Synchronization
import Testing
import Transport

@Suite("TCP on loopback")
struct TCPStreamTests {
    @Test func echoesTwoMegabytesThroughPartialWritesAndBackPressure() async throws {
        let listener = try TCPListener(bindingTo: .loopbackIPv4(port: 0))
        defer { listener.close() }
        let client = try await connect(to: try listener.localAddress, outputLimit: 128 << 10)
        defer { client.close() }
        var accepted: TCPStream?
        #expect(try await eventually { accepted = try listener.accept(outputLimit: 128 << 10); return accepted != nil })
        let server = try #require(accepted)
        defer { server.close() }
        #expect(server.peerAddress == (try client.localAddress))

        // Small kernel buffers so that a 2 MiB payload cannot fit in flight: writes must go partial.
        try client.setKernelBufferSizes(send: 16 << 10, receive: 16 << 10)
        try server.setKernelBufferSizes(send: 16 << 10, receive: 16 << 10)
        let payload = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        var echo = EchoRun(payload: payload)
        let finished = try await eventually(within: .seconds(120)) {
            try echo.advance(client: client, server: server)
            return echo.returned.count == payload.count
        }
        let (returnedCount, isIntact) = (echo.returned.count, echo.returned == payload)
        let (sawRefusal, sawBuffering) = (echo.sawRefusal, echo.sawBuffering)
        #expect(finished, "echoed \(returnedCount) of \(payload.count) bytes")
        #expect(isIntact, "the echo differs from what was sent")
        #expect(sawRefusal, "the client's output limit never pushed back")
        #expect(sawBuffering, "no write was ever partial")
    }

    @Test func connectToAClosedPortReportsConnectionRefused() async throws {
        // Bind then close a listener, so the port is almost certainly unused for a moment.
        let listener = try TCPListener(bindingTo: .loopbackIPv4(port: 0))
        let address = try listener.localAddress
        listener.close()
        let result = await connectResult(to: address)
        guard case .failure(let error) = result else {
            Issue.record("connected to a closed port")
            return
        }
        #expect(error.call == "connect")
        #expect(error.description.contains("refused"))
    }

    @Test func shutdownOutputGivesThePeerEndOfStream() async throws {
        let listener = try TCPListener(bindingTo: .loopbackIPv4(port: 0))
        defer { listener.close() }
        let client = try await connect(to: try listener.localAddress)
        defer { client.close() }
        var accepted: TCPStream?
        #expect(try await eventually { accepted = try listener.accept(); return accepted != nil })
        let server = try #require(accepted)
        defer { server.close() }
        #expect(try client.write(Array("bye".utf8)) == .flushed)
        try client.shutdownOutput()
        var buffer: [UInt8] = []
        var sawEnd = false
        #expect(try await eventually {
            if try server.read(into: &buffer) == .endOfStream { sawEnd = true }
            return sawEnd
        })
        #expect(buffer == Array("bye".utf8))
    }

    private func connect(to address: SocketAddress, outputLimit: Int = TCPStream.defaultOutputLimit) async throws -> TCPStream {
        try await connectResult(to: address, outputLimit: outputLimit).get()
    }

    private func connectResult(to address: SocketAddress, outputLimit: Int = TCPStream.defaultOutputLimit) async -> Result<TCPStream, SystemError> {
        await withCheckedContinuation { continuation in
            TCPStream.connect(to: address, queue: DispatchQueue(label: "test.connect"), outputLimit: outputLimit) { result in
                continuation.resume(returning: result)
            }
        }
    }
}

/// One client writing a payload in 64 KiB chunks, a server echoing what it reads, both non-blocking.
struct EchoRun {
    let payload: [UInt8]
    var written = 0
    var returned: [UInt8] = []
    var serverInbox: [UInt8] = []
    var sawRefusal = false
    var sawBuffering = false

    init(payload: [UInt8]) {
        self.payload = payload
    }

    mutating func advance(client: TCPStream, server: TCPStream) throws {
        if written < payload.count {
            let chunk = Array(payload[written..<min(written + (64 << 10), payload.count)])
            switch try client.write(chunk) {
            case .flushed: written += chunk.count
            case .buffered: written += chunk.count; sawBuffering = true
            case .refused: sawRefusal = true; try client.flush()
            }
        } else {
            try client.flush()
        }
        while case .bytes = try server.read(into: &serverInbox) {}
        if !serverInbox.isEmpty, case .refused = try server.write(serverInbox) {
            try server.flush()
        } else {
            serverInbox.removeAll(keepingCapacity: true)
        }
        while case .bytes = try client.read(into: &returned) {}
    }
}
