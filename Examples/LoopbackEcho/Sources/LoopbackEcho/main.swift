// A server and a client in one process, over real UDP on loopback: the client sends three words,
// the server answers each in capitals, the client prints the answers. Exits 0 when all came back.
import Datagram
import DatagramRuntime
import Transport

let listener = try AsyncDatagramListener(bindingTo: .loopbackIPv4(port: 0))
async let accepted = listener.accept()
let client = try await AsyncDatagramConnection.connect(to: listener.localAddress)
let server = try await accepted

let echo = Task {
    for await message in server.messages {
        try await server.send(Array(String(decoding: message, as: UTF8.self).uppercased().utf8))
    }
}

let words = ["hello", "over", "datagram"]
for word in words {
    try await client.send(Array(word.utf8))  // suspends, rather than fails, while the send queue is full
}
var replies: [String] = []
for await reply in client.messages {
    replies.append(String(decoding: reply, as: UTF8.self))
    print("echoed: \(replies.last!)")
    if replies.count == words.count { break }
}

client.close()
server.close()
listener.close()
echo.cancel()
struct UnexpectedReplies: Error { var replies: [String] }
guard replies == words.map({ $0.uppercased() }) else { throw UnexpectedReplies(replies: replies) }
