/// What happens to fragments when the packets that carried them are sent, acknowledged or lost.
extension SendQueue {
    /// A packet carrying `ordinal` left.
    mutating func onSent(_ ordinal: UInt64) {
        updateFragmentState(ordinal) { $0.packetsInFlight += 1 }
    }

    /// A packet carrying `ordinal` was acknowledged. Returns the message's id when this completed it.
    mutating func onAcknowledged(_ ordinal: UInt64) -> MessageID? {
        guard let state = state(ofOrdinal: ordinal), !state.isAcknowledged else { return nil }
        updateFragmentState(ordinal) {
            $0.isAcknowledged = true
            $0.packetsInFlight -= 1
        }
        let messageIndex = Int(state.messageOrdinal - firstMessageOrdinal)
        var completed: MessageID?
        updateMessage(messageIndex) { message in
            message.acknowledgedFragments += 1
            if message.isFullyAcknowledged { completed = message.id }
        }
        if completed != nil { queuedBytes -= reliableMessages[messageIndex].bytes.count }
        trimAcknowledged()
        return completed
    }

    /// A packet carrying `ordinal` was declared lost. Returns true when the fragment was queued to go
    /// again (it is unacknowledged, no other copy is in flight, and it is not queued already).
    mutating func onLost(_ ordinal: UInt64) -> Bool {
        guard let state = state(ofOrdinal: ordinal), !state.isAcknowledged else { return false }
        var queue = false
        updateFragmentState(ordinal) {
            $0.packetsInFlight -= 1
            if $0.packetsInFlight <= 0, !$0.isQueuedForRetransmission {
                $0.isQueuedForRetransmission = true
                queue = true
            }
        }
        if queue { appendRetransmission(ordinal) }
        return queue
    }

    /// The message and fragment index `ordinal` belongs to, for traces.
    func describe(_ ordinal: UInt64) -> (MessageID, Int)? {
        guard let state = state(ofOrdinal: ordinal) else { return nil }
        return (reliableMessages[Int(state.messageOrdinal - firstMessageOrdinal)].id, state.index)
    }

    /// Every reliable message not fully acknowledged, oldest first; empties the reliable queue.
    mutating func takeUnacknowledged() -> [[UInt8]] {
        let remaining = reliableMessages.elements.filter { !$0.isFullyAcknowledged }.map(\.bytes)
        let geometry = self.geometry
        self = SendQueue(reliableChannel: reliableChannel)
        self.geometry = geometry
        return remaining
    }
}
