/// A message accepted by `Connection.send` and not yet finished with.
struct OutgoingMessage: Sendable {
    let id: MessageID
    let number: UInt32
    let bytes: [UInt8]
    let fragmentCount: Int
    var fragmentPayload = Limits.maximumFragmentPayload
    var acknowledgedFragments = 0

    var isFullyAcknowledged: Bool { acknowledgedFragments == fragmentCount }

    /// The payload of fragment `index`: 1158 bytes (1142 sealed), except the last.
    func payload(ofFragment index: Int) -> ArraySlice<UInt8> {
        let start = index * fragmentPayload
        return bytes[start..<Swift.min(start + fragmentPayload, bytes.count)]
    }

    static func fragmentCount(forSize size: Int) -> Int {
        Swift.max(1, (size + Limits.maximumFragmentPayload - 1) / Limits.maximumFragmentPayload)
    }
}

/// One reliable fragment's life on the sending side.
struct FragmentState: Sendable {
    /// The message's position in `SendQueue.reliableMessages` counting from the first ever (its ordinal).
    let messageOrdinal: UInt64
    let index: Int
    var isAcknowledged = false
    /// Packets carrying this fragment that are neither acknowledged nor declared lost.
    var packetsInFlight = 0
    var isQueuedForRetransmission = false
}

/// Names one fragment for a packet: a reliable one by its ordinal (in the reliable-ordered channel's
/// queue, or the bulk channel's), an unreliable one by message.
enum FragmentReference: Sendable {
    case reliable(ordinal: UInt64)
    case bulk(ordinal: UInt64)
    case unreliable
}

/// The sending side's messages: reliable ones until every fragment is acknowledged, unreliable ones
/// until every fragment has been sent once.
///
/// Reliable fragments get consecutive ordinals (0, 1, 2, ... across messages). `fragments[0]` is the
/// oldest unacknowledged one; fragments from `nextNewOrdinal` on have never been sent. The window rule
/// of Specs/reliability.md keeps `nextNewOrdinal < oldestUnacknowledgedOrdinal + reorderLimit`.
struct SendQueue: Sendable {
    /// The reliable channel this queue numbers: `reliableOrdered` (which also carries the unreliable
    /// messages) or `bulk`.
    var reliableChannel: Channel = .reliableOrdered

    init(reliableChannel: Channel = .reliableOrdered) { self.reliableChannel = reliableChannel }
    private(set) var reliableMessages = Deque<OutgoingMessage>()
    private(set) var firstMessageOrdinal: UInt64 = 0
    private(set) var fragments = Deque<FragmentState>()
    private(set) var oldestUnacknowledgedOrdinal: UInt64 = 0
    private(set) var nextNewOrdinal: UInt64 = 0
    private var retransmissions = Deque<UInt64>()
    private(set) var unreliableMessages = Deque<OutgoingMessage>()
    private var nextUnreliableFragment = 0
    private var nextUnreliableNumber: UInt32 = 0
    /// Bytes of reliable messages not fully acknowledged plus unreliable messages not fully sent.
    var queuedBytes = 0
    /// How messages are cut: plaintext or sealed fragment sizes.
    var geometry = FragmentGeometry.plaintext

    var isEmpty: Bool { reliableMessages.isEmpty && unreliableMessages.isEmpty }
    var hasRetransmissions: Bool { !retransmissions.isEmpty }
    var hasUnsentReliable: Bool { nextNewOrdinal < oldestUnacknowledgedOrdinal + UInt64(fragments.count) }
    var hasUnreliable: Bool { !unreliableMessages.isEmpty }

    mutating func enqueue(_ bytes: [UInt8], id: MessageID, on channel: Channel) {
        let count = geometry.fragmentCount(forSize: bytes.count)
        queuedBytes += bytes.count
        switch channel {
        case .reliableOrdered, .bulk:
            let ordinal = firstMessageOrdinal + UInt64(reliableMessages.count)
            let message = OutgoingMessage(id: id, number: UInt32(truncatingIfNeeded: ordinal), bytes: bytes,
                                          fragmentCount: count, fragmentPayload: geometry.fragmentPayload)
            reliableMessages.append(message)
            for index in 0..<count { fragments.append(FragmentState(messageOrdinal: ordinal, index: index)) }
        case .unreliable:
            unreliableMessages.append(OutgoingMessage(id: id, number: nextUnreliableNumber, bytes: bytes,
                                                      fragmentCount: count, fragmentPayload: geometry.fragmentPayload))
            nextUnreliableNumber &+= 1
        }
    }

    // MARK: Choosing what to send

    /// What a DATA packet will carry: the fragment header, its payload and how to track it.
    struct Outgoing {
        let header: FragmentHeader
        let payload: ArraySlice<UInt8>
        let reference: FragmentReference
        let message: MessageID
    }

    func state(ofOrdinal ordinal: UInt64) -> FragmentState? {
        guard ordinal >= oldestUnacknowledgedOrdinal else { return nil }
        let index = Int(ordinal - oldestUnacknowledgedOrdinal)
        return index < fragments.count ? fragments[index] : nil
    }

    /// The next fragment waiting for retransmission that still needs it, taken off the queue.
    mutating func popRetransmission() -> Outgoing? {
        while let ordinal = retransmissions.popFirst() {
            guard let state = state(ofOrdinal: ordinal) else { continue }
            updateFragmentState(ordinal) { $0.isQueuedForRetransmission = false }
            // Acknowledged meanwhile, or a probe already sent a copy: nothing to do (if that copy is
            // lost, `onLost` queues the fragment again).
            if state.isAcknowledged || state.packetsInFlight > 0 { continue }
            return outgoing(ordinal)
        }
        return nil
    }

    /// The next never-sent reliable fragment, if it lies inside `window` fragments of the oldest
    /// unacknowledged one.
    mutating func popNewReliable(window: Int) -> Outgoing? {
        guard hasUnsentReliable, nextNewOrdinal < oldestUnacknowledgedOrdinal + UInt64(window) else { return nil }
        defer { nextNewOrdinal += 1 }
        return outgoing(nextNewOrdinal)
    }

    /// Reliable fragment `ordinal` if it was sent and is not acknowledged yet, for a copy.
    func unacknowledgedFragment(_ ordinal: UInt64) -> Outgoing? {
        guard ordinal < nextNewOrdinal, let state = state(ofOrdinal: ordinal), !state.isAcknowledged else { return nil }
        return outgoing(ordinal)
    }

    /// The oldest sent and unacknowledged reliable fragment, for a probe.
    func oldestUnacknowledgedSent() -> Outgoing? {
        guard oldestUnacknowledgedOrdinal < nextNewOrdinal else { return nil }
        return outgoing(oldestUnacknowledgedOrdinal)
    }

    /// The next unreliable fragment; a message leaves the queue once its last fragment is taken.
    mutating func popUnreliable() -> Outgoing? {
        guard let message = unreliableMessages.first else { return nil }
        let index = nextUnreliableFragment
        let header = FragmentHeader(channel: .unreliable, messageNumber: message.number,
                                    fragmentIndex: UInt16(index), fragmentCount: UInt16(message.fragmentCount))
        let result = Outgoing(header: header, payload: message.payload(ofFragment: index),
                              reference: .unreliable, message: message.id)
        nextUnreliableFragment += 1
        if nextUnreliableFragment == message.fragmentCount {
            unreliableMessages.popFirst()
            nextUnreliableFragment = 0
            queuedBytes -= message.bytes.count
        }
        return result
    }

    private func outgoing(_ ordinal: UInt64) -> Outgoing {
        let state = fragments[Int(ordinal - oldestUnacknowledgedOrdinal)]
        let message = reliableMessages[Int(state.messageOrdinal - firstMessageOrdinal)]
        let header = FragmentHeader(channel: reliableChannel, messageNumber: message.number,
                                    fragmentIndex: UInt16(state.index), fragmentCount: UInt16(message.fragmentCount))
        return Outgoing(header: header, payload: message.payload(ofFragment: state.index),
                        reference: reliableChannel == .bulk ? .bulk(ordinal: ordinal) : .reliable(ordinal: ordinal), message: message.id)
    }

    mutating func updateFragmentState(_ ordinal: UInt64, _ change: (inout FragmentState) -> Void) {
        guard ordinal >= oldestUnacknowledgedOrdinal else { return }
        let index = Int(ordinal - oldestUnacknowledgedOrdinal)
        guard index < fragments.count else { return }
        change(&fragments[index])
    }

    mutating func updateMessage(_ index: Int, _ change: (inout OutgoingMessage) -> Void) {
        change(&reliableMessages[index])
    }

    mutating func appendRetransmission(_ ordinal: UInt64) {
        retransmissions.append(ordinal)
    }

    /// Drops acknowledged fragments and fully acknowledged messages from the front.
    mutating func trimAcknowledged() {
        while let first = fragments.first, first.isAcknowledged {
            fragments.popFirst()
            oldestUnacknowledgedOrdinal += 1
        }
        while let first = reliableMessages.first, first.isFullyAcknowledged {
            reliableMessages.popFirst()
            firstMessageOrdinal += 1
        }
    }
}
