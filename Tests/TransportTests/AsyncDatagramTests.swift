import Datagram
import DatagramRuntime
import Testing
import Transport

/// The async face over real loopback UDP: connect, accept, send under backpressure, messages in order.
///
/// Alone it takes a tenth of a second. In the whole suite the end-to-end tests, which block their
/// threads while child processes run, can hold every thread of the cooperative pool (two on two
/// cores) for tens of seconds, and this test's tasks wait for one; the limit allows for that.
@Test(.timeLimit(.minutes(3)))
func asyncSendSuspendsUnderBackpressureAndEveryMessageArrivesInOrder() async throws {
    var configuration = Connection.Configuration()
    configuration.sendQueueLimit = 16 * 1024
    let listener = try AsyncDatagramListener(bindingTo: .loopbackIPv4(port: 0))
    async let accepted = listener.accept()
    let client = try await AsyncDatagramConnection.connect(to: listener.localAddress, configuration: configuration)
    let server = try await accepted
    let count = 1_000
    let sender = Task {
        for index in 0..<count {
            var message = Array("message \(index) ".utf8)
            message += [UInt8](repeating: UInt8(index % 251), count: 1_000)
            try await client.send(message)
        }
    }
    var received = 0
    for await message in server.messages {
        #expect(message.starts(with: Array("message \(received) ".utf8)))
        received += 1
        if received == count { break }
    }
    try await sender.value
    #expect(received == count)
    #expect(client.driver.connectionStatistics.messagesSent == count)
    client.close()
    server.close()
    listener.close()
}

@Test(.timeLimit(.minutes(1)))
func asyncConnectToNobodyThrowsOnceTheHandshakeGivesUp() async throws {
    var configuration = Connection.Configuration()
    configuration.idleTimeout = .milliseconds(300)
    configuration.maximumProbeCount = 2
    configuration.initialRTT = .milliseconds(20)
    let silent = try UDPSocket(bindingTo: .loopbackIPv4(port: 0))
    defer { silent.close() }
    await #expect(throws: AsyncDatagramError.self) {
        _ = try await AsyncDatagramConnection.connect(to: try silent.localAddress, configuration: configuration)
    }
}
