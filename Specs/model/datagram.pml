/*
 * Datagram reliability protocol: a Promela model for spin.
 *
 * One direction of a connection's reliable-ordered channel, as Specs/wire-format.md and the
 * Datagram target describe it. A Sender numbers every transmission with a fresh packet number
 * (never reused: a retransmission is a new packet number carrying the same message number). A
 * Receiver acknowledges with "largest received + a bitfield of the ACK_BITS packets before it",
 * remembers more packet numbers than it acknowledges (DEDUP_BITS), suppresses duplicate packets
 * and duplicate messages, and delivers in order through a bounded reorder buffer. Two Links
 * between them lose, duplicate and reorder packets, each kind of fault at most MAX_* times in all,
 * so that liveness can hold.
 *
 * Time is abstracted away. Timers become events: the probe timeout fires when nothing else in
 * the whole system can move (spin's `timeout`), or prematurely at any moment at most
 * MAX_EARLY_PROBE times; the loss timer may fire at any moment once a later packet is
 * acknowledged; a delayed acknowledgement may go out at any moment after the packet that
 * elicited it. Each packet carries one whole message (fragment count 1).
 *
 * tools/check-model.sh runs every check; Specs/checking.md maps each variable to the Swift code.
 *
 * Deliberately broken variants (each must FAIL):
 *   -DBROKEN_NO_DEDUP   the receiver forgets which messages it delivered: a retransmitted copy
 *                       of a delivered message is delivered again (an assertion fails).
 *   -DBROKEN_NO_PROBE   no probe timeout: when the last packets are lost nothing is ever sent
 *                       again (invalid end state; the liveness property has a counterexample).
 *   -DBROKEN_NO_WINDOW  the sender ignores the window rule: messages beyond the receiver's
 *                       reorder buffer arrive while an earlier one is missing (an assertion fails).
 * Not a property:
 *   -DWITNESS_ALL_FAULTS  asserts that no complete run spends the whole fault budget; the check
 *                       expects it to fail, which shows the faults really happen.
 */

#ifndef MESSAGES
#define MESSAGES 4          /* messages the sender sends */
#endif
#ifndef WINDOW
#define WINDOW 3            /* new messages go out only below oldestUnacknowledged + WINDOW */
#endif
#define REORDER_LIMIT WINDOW    /* messages the receiver may hold ahead of a gap */
#ifndef ACK_BITS
#define ACK_BITS 2          /* width of the acknowledgement bitfield (64 on the wire) */
#endif
#ifndef DEDUP_BITS
#define DEDUP_BITS 4        /* packet numbers the receiver remembers below the largest (1023) */
#endif
#define ACK_MASK ((1 << ACK_BITS) - 1)
#define DEDUP_MASK ((1 << DEDUP_BITS) - 1)
#define PACKET_THRESHOLD 3  /* lost once a packet 3 numbers later is acknowledged */
#ifndef MAX_LOSS
#define MAX_LOSS 2          /* fault budgets, shared by both directions */
#endif
#ifndef MAX_DUPLICATE
#define MAX_DUPLICATE 1
#endif
#ifndef MAX_REORDER
#define MAX_REORDER 1
#endif
#ifndef MAX_EARLY_PROBE
#define MAX_EARLY_PROBE 0   /* probe timeouts that fire while an acknowledgement is on its way */
#endif
#define MAX_PACKETS 20      /* packet numbers the model can hand out; asserted, never reached */
#define CAPACITY 2          /* packets each link can hold */
#define NONE 255
#define PING 254            /* sentMessage value of an outstanding PING */

/* Links: sender -> network -> receiver for DATA/PING, receiver -> network -> sender for ACK. */
chan dataToNetwork  = [CAPACITY] of { byte, byte };   /* packet number, message (or PING) */
chan dataToReceiver = [CAPACITY] of { byte, byte };
chan ackToNetwork   = [CAPACITY] of { byte, byte };   /* largest acknowledged, bitfield */
chan ackToSender    = [CAPACITY] of { byte, byte };

/* Observed by the properties. */
byte delivered = 0;         /* messages handed to the application, in order */
bool senderFinished = false;

/* Fault counters. */
byte losses = 0;
byte duplicates = 0;
byte reorders = 0;
byte earlyProbes = 0;

/* Liveness: every run, however the bounded faults fall, ends with every message delivered and
   the sender knowing it (all acknowledged). */
ltl eventuallyComplete { <> (delivered == MESSAGES && senderFinished) }

/* ---------------------------------------------------------------- sender */

byte nextPacketNumber = 0;
byte nextMessage = 0;                  /* next message never sent before */
byte oldestUnacknowledged = 0;
byte sentMessage[MAX_PACKETS];         /* outstanding packet -> its message or PING; NONE otherwise */
byte outstanding = 0;                  /* ack-eliciting packets neither acknowledged nor lost */
byte oldestOutstanding = NONE;         /* the smallest outstanding packet number */
byte copiesInFlight[MESSAGES];         /* outstanding packets carrying each message */
bool messageAcknowledged[MESSAGES];
bool queuedForRetransmission[MESSAGES];
chan retransmissions = [MESSAGES] of { byte };   /* FIFO, like SendQueue.retransmissions */
byte largestAcknowledged = NONE;

inline findOldestOutstanding() {
    oldestOutstanding = NONE;
    scan = 0;
    do
    :: scan < nextPacketNumber && sentMessage[scan] == NONE -> scan++
    :: scan < nextPacketNumber && sentMessage[scan] != NONE -> oldestOutstanding = scan; break
    :: scan >= nextPacketNumber -> break
    od
}

inline transmit(message) {
    assert(nextPacketNumber < MAX_PACKETS);
    sentMessage[nextPacketNumber] = message;
    outstanding++;
    if
    :: message != PING -> copiesInFlight[message]++
    :: else -> skip
    fi;
    if
    :: oldestOutstanding == NONE -> oldestOutstanding = nextPacketNumber
    :: else -> skip
    fi;
    dataToNetwork!nextPacketNumber, message;
    nextPacketNumber++
}

inline acknowledgePacket(packet) {
    assert(packet < nextPacketNumber);            /* only transmissions that happened are acknowledged */
    if
    :: sentMessage[packet] != NONE ->
        if
        :: sentMessage[packet] != PING && !messageAcknowledged[sentMessage[packet]] ->
            messageAcknowledged[sentMessage[packet]] = true;
            copiesInFlight[sentMessage[packet]]--
        :: else -> skip
        fi;
        sentMessage[packet] = NONE;
        outstanding--
    :: else -> skip                               /* already acknowledged or declared lost */
    fi
}

/* SendQueue.onLost: queue the message again only when no other copy is in flight. */
inline declareLost(packet) {
    if
    :: sentMessage[packet] != PING && !messageAcknowledged[sentMessage[packet]] ->
        copiesInFlight[sentMessage[packet]]--;
        if
        :: copiesInFlight[sentMessage[packet]] == 0 && !queuedForRetransmission[sentMessage[packet]] ->
            queuedForRetransmission[sentMessage[packet]] = true;
            retransmissions!sentMessage[packet]
        :: else -> skip
        fi
    :: else -> skip
    fi;
    sentMessage[packet] = NONE;
    outstanding--
}

inline probe() {
    if
    :: oldestUnacknowledged < nextMessage -> transmit(oldestUnacknowledged)
    :: oldestUnacknowledged == nextMessage && nextMessage < MESSAGES -> transmit(nextMessage); nextMessage++
    :: oldestUnacknowledged == MESSAGES -> transmit(PING)
    fi
}

proctype Sender() {
    byte largest, bits, i, packet, scan, message;
    do
    :: oldestUnacknowledged == MESSAGES -> break

    /* A new message, within the window (popNewReliable). */
#ifdef BROKEN_NO_WINDOW
    :: atomic { nextMessage < MESSAGES && nfull(dataToNetwork) ->
#else
    :: atomic { nextMessage < MESSAGES && nextMessage < oldestUnacknowledged + WINDOW &&
                nfull(dataToNetwork) ->
#endif
        transmit(nextMessage);
        nextMessage++ }

    /* A retransmission, in a new packet (popRetransmission skips what was acknowledged since). */
    :: atomic { nempty(retransmissions) && nfull(dataToNetwork) ->
        retransmissions?message;
        queuedForRetransmission[message] = false;
        if
        :: !messageAcknowledged[message] -> transmit(message)
        :: else -> skip
        fi }

    /* An acknowledgement: largest + bitfield, then loss by packet threshold (handleAcknowledgement). */
    :: atomic { ackToSender?largest, bits ->
        acknowledgePacket(largest);
        i = 0;
        do
        :: i < ACK_BITS && largest >= i + 1 ->
            if
            :: (bits >> i) & 1 -> acknowledgePacket(largest - 1 - i)
            :: else -> skip
            fi;
            i++
        :: else -> break
        od;
        if
        :: largestAcknowledged == NONE || largest > largestAcknowledged -> largestAcknowledged = largest
        :: else -> skip
        fi;
        packet = 0;
        do
        :: packet + PACKET_THRESHOLD <= largestAcknowledged ->
            if
            :: sentMessage[packet] != NONE -> declareLost(packet)
            :: else -> skip
            fi;
            packet++
        :: else -> break
        od;
        findOldestOutstanding();
        do
        :: oldestUnacknowledged < MESSAGES && messageAcknowledged[oldestUnacknowledged] ->
            oldestUnacknowledged++
        :: else -> break
        od }

    /* Loss timer (time threshold): the oldest outstanding packet, older than the largest
       acknowledged, has been out longer than 9/8 RTT. When is abstracted: at any moment. */
    :: atomic { largestAcknowledged != NONE && oldestOutstanding < largestAcknowledged ->
        declareLost(oldestOutstanding);
        findOldestOutstanding() }

#ifndef BROKEN_NO_PROBE
    /* Probe timeout: ack-eliciting packets are outstanding and nothing anywhere can move, so no
       acknowledgement is coming. Send the oldest unacknowledged message again in a new packet,
       else a new one, else a PING (transmitProbe). The old packet stays outstanding. */
    :: atomic { timeout && outstanding > 0 -> probe() }
#endif
    /* A premature probe timeout: the RTT estimate was too low and the timer fired while an
       acknowledgement was still on its way. Budgeted like the network's faults. */
    :: atomic { earlyProbes < MAX_EARLY_PROBE && outstanding > 0 && nfull(dataToNetwork) ->
        earlyProbes++;
        probe() }
    od;
    /* Everything acknowledged means everything received, so everything delivered. */
    assert(delivered == MESSAGES);
#ifdef WITNESS_ALL_FAULTS
    assert(!(losses == MAX_LOSS && duplicates == MAX_DUPLICATE && reorders == MAX_REORDER));
#endif
    senderFinished = true
}

/* -------------------------------------------------------------- receiver */

byte largestReceived = NONE;   /* ReceivedPackets.largest: the Largest Acknowledged field */
byte receivedBits = 0;         /* bit i: largestReceived - 1 - i received (the low ACK_BITS are sent) */
bool isAckPending = false;     /* an ack-eliciting packet awaits its acknowledgement */
byte nextExpected = 0;         /* ReorderBuffer.nextExpected */
bool buffered[MESSAGES];       /* arrived ahead of a gap, waiting in the reorder buffer */
byte bufferedCount = 0;

inline deliver(message) {
    assert(message == delivered);   /* exactly once, in order: the next one, never again */
    delivered++
}

inline deliverInOrder() {
    do
    :: nextExpected < MESSAGES && buffered[nextExpected] ->
        buffered[nextExpected] = false;
        bufferedCount--;
        deliver(nextExpected);
        nextExpected++
    :: else -> break
    od
}

proctype Receiver() {
    byte packet, message, distance;
    bool isNewPacket;
end:
    do
    :: atomic { dataToReceiver?packet, message ->
        /* Packet-level duplicate suppression over the remembered window (ReceivedPackets.status). */
        if
        :: largestReceived == NONE -> isNewPacket = true
        :: largestReceived != NONE && packet > largestReceived -> isNewPacket = true
        :: largestReceived != NONE && packet == largestReceived -> isNewPacket = false
        :: largestReceived != NONE && packet < largestReceived ->
            distance = largestReceived - 1 - packet;
            isNewPacket = (distance < DEDUP_BITS && ((receivedBits >> distance) & 1) == 0)
        fi;
        if
        :: isNewPacket && message != PING ->
            /* Admission, then insert: a message below nextExpected or already buffered is
               acknowledged (its packet is new) but not delivered again. */
            if
#ifdef BROKEN_NO_DEDUP
            :: message < nextExpected -> deliver(message)
#else
            :: message < nextExpected -> skip
#endif
            :: message >= nextExpected && buffered[message] -> skip
            :: message >= nextExpected && !buffered[message] ->
                assert(message < nextExpected + REORDER_LIMIT);  /* the window rule: never full */
                buffered[message] = true;
                bufferedCount++;
                deliverInOrder()
            fi;
            assert(bufferedCount <= REORDER_LIMIT)
        :: else -> skip
        fi;
        /* Record it (ReceivedPackets.insert). */
        if
        :: isNewPacket && largestReceived == NONE -> largestReceived = packet; receivedBits = 0
        :: isNewPacket && largestReceived != NONE && packet > largestReceived ->
            distance = packet - largestReceived;
            if
            :: distance <= DEDUP_BITS ->
                receivedBits = ((receivedBits << distance) | (1 << (distance - 1))) & DEDUP_MASK
            :: else -> receivedBits = 0
            fi;
            largestReceived = packet
        :: isNewPacket && largestReceived != NONE && packet < largestReceived ->
            receivedBits = receivedBits | (1 << (largestReceived - 1 - packet))
        :: else -> skip
        fi;
        /* DATA and PING are ack-eliciting, duplicates included (isAckImmediate). */
        isAckPending = true }

    /* The acknowledgement goes out after some delay, covering everything received by then. */
    :: atomic { isAckPending && nfull(ackToNetwork) ->
        ackToNetwork!largestReceived, receivedBits & ACK_MASK;
        isAckPending = false }
    od
}

/* --------------------------------------------------------------- network */

/* One direction of the path: moves packets across, or loses one, duplicates one, or holds one
   back and releases it after later packets (a reordering). Fault budgets are shared by both
   directions. */
proctype Link(chan input, output) {
    byte a, b, heldA, heldB;
    bool held = false;
end:
    do
    :: atomic { nfull(output) && input?[a, b] -> input?a, b; output!a, b }
    :: atomic { losses < MAX_LOSS && input?[a, b] -> input?a, b; losses++ }
    :: atomic { duplicates < MAX_DUPLICATE && len(output) + 2 <= CAPACITY && input?[a, b] ->
        input?a, b; output!a, b; output!a, b; duplicates++ }
    :: atomic { !held && reorders < MAX_REORDER && input?[a, b] ->
        input?heldA, heldB; held = true; reorders++ }
    :: atomic { held && nfull(output) -> output!heldA, heldB; held = false; heldA = 0; heldB = 0 }
    od
}

init {
    byte i = 0;
    atomic {
        do
        :: i < MAX_PACKETS -> sentMessage[i] = NONE; i++
        :: else -> break
        od;
        run Sender();
        run Receiver();
        run Link(dataToNetwork, dataToReceiver);
        run Link(ackToNetwork, ackToSender)
    }
}
