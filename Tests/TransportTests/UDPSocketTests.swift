import Testing
import Transport

@Suite("UDPSocket on loopback")
struct UDPSocketTests {
    @Test func sendsAndReceivesOverIPv4() async throws {
        try await exchange(on: .loopbackIPv4(port: 0))
    }

    @Test(.enabled(if: isIPv6LoopbackAvailable, "::1 is not available here"))
    func sendsAndReceivesOverIPv6() async throws {
        try await exchange(on: .loopbackIPv6(port: 0))
    }

    @Test func bindingToPortZeroReportsTheChosenPort() throws {
        let socket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        defer { socket.close() }
        let local = try socket.localAddress
        #expect(local.port != 0)
        #expect(local.ipBytes == [127, 0, 0, 1])
    }

    @Test func receiveOnAnEmptySocketReportsDrained() throws {
        let socket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        defer { socket.close() }
        #expect(try socket.receive() == nil)
    }

    @Test func closeIsIdempotentAndLaterCallsThrowEBADF() throws {
        let socket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        socket.close()
        socket.close()
        #expect(socket.isClosed)
        #expect(socket.fileDescriptor == -1)
        let error = #expect(throws: SystemError.self) { try socket.receive() }
        #expect(error?.call == "recvfrom")
        #expect(error?.description.contains("Bad file descriptor") == true)
    }

    @Test func sendingToAnotherFamilyFailsWithANamedError() throws {
        let socket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
        defer { socket.close() }
        let error = #expect(throws: SystemError.self) { try socket.send([1], to: .loopbackIPv6(port: 9)) }
        #expect(error?.call == "sendto")
    }

    /// Sends three datagrams (one empty, one of 1200 bytes) each way and checks bytes and sender.
    private func exchange(on address: SocketAddress) async throws {
        let first = try UDPSocket(bindingTo: address)
        let second = try UDPSocket(bindingTo: address)
        defer { first.close(); second.close() }
        let firstAddress = try first.localAddress
        let secondAddress = try second.localAddress
        let payloads: [[UInt8]] = [[], [1, 2, 3], (0..<1200).map { UInt8(truncatingIfNeeded: $0) }]
        for payload in payloads {
            #expect(try first.send(payload, to: secondAddress))
            #expect(try second.send(payload.reversed(), to: firstAddress))
        }
        let atSecond = try await receive(payloads.count, from: second)
        let atFirst = try await receive(payloads.count, from: first)
        #expect(atSecond.map(\.bytes) == payloads)
        #expect(atFirst.map(\.bytes) == payloads.map { $0.reversed() })
        #expect(atSecond.allSatisfy { $0.from == firstAddress })
        #expect(atFirst.allSatisfy { $0.from == secondAddress })
    }

    private func receive(_ count: Int, from socket: UDPSocket) async throws -> [(bytes: [UInt8], from: SocketAddress)] {
        var received: [(bytes: [UInt8], from: SocketAddress)] = []
        let arrived = try await eventually {
            while let datagram = try socket.receive() { received.append(datagram) }
            return received.count >= count
        }
        #expect(arrived, "only \(received.count) of \(count) datagrams arrived")
        return received
    }
}
