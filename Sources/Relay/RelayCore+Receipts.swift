import Chat
import Datagram

/// A PRIVATE message a user was sent, whose receipt its sender may get.
struct AwaitedReceipt: Hashable, Sendable {
    var sender: SenderID
    var messageID: UInt64
}

extension RelayCore {
    /// Receipts remembered per recipient; older ones are forgotten (their receipt is then dropped).
    static let maximumAwaitedReceipts = 256

    /// A PRIVATE from `sender` was routed to `recipient`: its receipt will be passed on.
    mutating func awaitReceipt(at recipient: Endpoint, from sender: SenderID, messageID: UInt64) {
        guard var peer = peers[recipient] else { return }
        peers[recipient] = nil
        if peer.awaitedReceipts.count >= Self.maximumAwaitedReceipts { peer.awaitedReceipts.removeFirst() }
        peer.awaitedReceipts.append(AwaitedReceipt(sender: sender, messageID: messageID))
        peers[recipient] = peer
    }

    /// RECEIPT: passed on to the sender as DELIVERED when this user was sent that PRIVATE and its
    /// sender is connected; otherwise counted and dropped (a client may send a receipt twice after a
    /// reconnection; a forged one matches nothing).
    mutating func handleReceipt(sender: SenderID, messageID: UInt64, from endpoint: Endpoint, at now: Timestamp) {
        guard let peer = peers[endpoint],
              let index = peer.awaitedReceipts.firstIndex(of: AwaitedReceipt(sender: sender, messageID: messageID)) else {
            statistics.receiptsDropped += 1
            return
        }
        peers[endpoint]?.awaitedReceipts.remove(at: index)
        guard let target = joinedEndpoint(of: sender) else {
            statistics.receiptsDropped += 1
            return
        }
        statistics.receiptsDelivered += 1
        send(.delivered(to: peer.name, messageID: messageID), to: target, at: now)
    }
}
