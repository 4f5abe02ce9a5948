/*
 * Datagram reliability protocol: a Promela model for spin.
 *
 * One direction of a connection, as the wire format (Specs/wire-format.md) describes it:
 * a Sender numbers every transmission with a fresh packet number (never reused: a
 * retransmission is a new packet number carrying the same message number), a Receiver
 * acknowledges packet numbers with "largest received + a bitfield of the W before it",
 * suppresses duplicates and delivers messages in order through a bounded reorder buffer,
 * and a Network between them loses, duplicates and reorders packets in both directions,
 * each kind of fault at most MAX_* times so that liveness can hold.
 *
 * What is checked, and the correspondence with the Swift implementation, is written up in
 * Specs/checking.md; tools/check-model.sh runs every check.
 *
 * Deliberately broken variants (each must FAIL; see tools/check-model.sh):
 *   -DBROKEN_NO_DEDUP   the receiver forgets which messages it delivered: a retransmitted
 *                       copy of a delivered message is delivered again (safety fails).
 *   -DBROKEN_NO_PROBE   no probe timeout: a lost last packet is never retransmitted
 *                       (invalid end state / liveness fails).
 */

#ifndef MESSAGES
#define MESSAGES        4   /* messages the sender sends */
#endif
#ifndef WINDOW
#define WINDOW 3   /* messages beyond the oldest unacknowledged the sender may have out */
#endif
#define REORDER_LIMIT   WINDOW  /* messages the receiver may hold ahead of a gap */
#ifndef ACK_BITS
#define ACK_BITS 2   /* width of the acknowledgement bitfield (64 on the wire) */
#endif
#define ACK_MASK        ((1 << ACK_BITS) - 1)
#define PACKET_THRESHOLD 3  /* lost once a packet this many numbers later is acknowledged */
#define MAX_PACKETS     16  /* packet numbers the model can hand out; asserted, never reached */
#ifndef MAX_LOSS
#define MAX_LOSS 2   /* fault budgets, shared by both directions */
#endif
#ifndef MAX_DUPLICATE
#define MAX_DUPLICATE 2
#endif
#ifndef MAX_REORDER
#define MAX_REORDER 2
#endif
#define NONE            255
#define CAPACITY        2   /* packets each link can hold */

/* Links: sender -> network -> receiver for DATA, receiver -> network -> sender for ACK. */
chan dataToNetwork  = [CAPACITY] of { byte, byte };   /* packet number, message number */
chan dataToReceiver = [CAPACITY] of { byte, byte };
chan ackToNetwork   = [CAPACITY] of { byte, byte };   /* largest acknowledged, bitfield */
chan ackToSender    = [CAPACITY] of { byte, byte };

/* Observed by the properties. */
byte delivered = 0;         /* messages handed to the application, in order */
byte oldestUnacknowledged = 0;
bool senderFinished = false;

/* Fault counters. */
byte losses = 0;
byte duplicates = 0;
byte reorders = 0;

/* Liveness: every run, however the bounded faults fall, ends with every message delivered and
   the sender knowing it (all acknowledged). */
ltl eventuallyComplete { <> (delivered == MESSAGES && senderFinished) }

/* ---------------------------------------------------------------- sender */

byte nextPacketNumber = 0;
byte nextMessage = 0;                  /* next message never sent before */
byte sentMessage[MAX_PACKETS];         /* packet number -> message it carries, NONE when not in flight */
bool messageAcknowledged[MESSAGES];
bool needsRetransmission[MESSAGES];
byte pendingRetransmissions = 0;      /* how many needsRetransmission flags are set */
byte largestAcknowledged = NONE;

inline transmit(message) {
    assert(nextPacketNumber < MAX_PACKETS);
    sentMessage[nextPacketNumber] = message;
    dataToNetwork!nextPacketNumber, message;
    nextPacketNumber++
}

inline clearRetransmission(message) {
    if
    :: needsRetransmission[message] -> needsRetransmission[message] = false; pendingRetransmissions--
    :: else -> skip
    fi
}

inline acknowledgePacket(packet) {
    assert(packet < nextPacketNumber);            /* only transmissions that happened are acknowledged */
    if
    :: sentMessage[packet] != NONE ->
        messageAcknowledged[sentMessage[packet]] = true;
        clearRetransmission(sentMessage[packet]);
        sentMessage[packet] = NONE
    :: else -> skip                               /* already acknowledged or declared lost */
    fi
}

inline declareLost(packet) {
    if
    :: !messageAcknowledged[sentMessage[packet]] && !needsRetransmission[sentMessage[packet]] ->
        needsRetransmission[sentMessage[packet]] = true;
        pendingRetransmissions++
    :: else -> skip
    fi;
    sentMessage[packet] = NONE
}

proctype Sender() {
    byte largest, bits, i, packet;
    do
    :: oldestUnacknowledged == MESSAGES -> break

    /* A new message, within the window. */
    :: atomic { nextMessage < MESSAGES && nextMessage < oldestUnacknowledged + WINDOW &&
                nfull(dataToNetwork) ->
        transmit(nextMessage);
        nextMessage++ }

    /* A retransmission: the oldest message whose packet was declared lost, in a new packet. */
    :: atomic { pendingRetransmissions > 0 && nfull(dataToNetwork) ->
        i = oldestUnacknowledged;
        do
        :: i < nextMessage && !needsRetransmission[i] -> i++
        :: i < nextMessage && needsRetransmission[i] -> break
        :: i >= nextMessage -> break
        od;
        assert(i < nextMessage);
        clearRetransmission(i);
        transmit(i) }

    /* An acknowledgement: largest + bitfield, then loss detection. */
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
        /* Packet threshold: lost for certain. Time threshold: older than the largest
           acknowledged, so it may have been out longer than 9/8 RTT; time is abstracted away,
           so either outcome is explored. */
        packet = 0;
        do
        :: packet < largestAcknowledged ->
            if
            :: sentMessage[packet] != NONE && packet + PACKET_THRESHOLD <= largestAcknowledged ->
                declareLost(packet)
            :: sentMessage[packet] != NONE && packet + PACKET_THRESHOLD > largestAcknowledged ->
                declareLost(packet)               /* time threshold */
            :: !(sentMessage[packet] != NONE && packet + PACKET_THRESHOLD <= largestAcknowledged) ->
                skip
            fi;
            packet++
        :: else -> break
        od;
        do
        :: oldestUnacknowledged < MESSAGES && messageAcknowledged[oldestUnacknowledged] ->
            oldestUnacknowledged++
        :: else -> break
        od }

#ifndef BROKEN_NO_PROBE
    /* Probe timeout: nothing can move anywhere (spin's `timeout`), so nothing is in flight
       that could still be acknowledged. Send the oldest unacknowledged message again, in a
       new packet; the old packet stays in flight until acknowledged or declared lost. */
    :: atomic { timeout && oldestUnacknowledged < MESSAGES ->
        clearRetransmission(oldestUnacknowledged);
        transmit(oldestUnacknowledged) }
#endif
    od;
    /* Everything acknowledged means everything received, so everything delivered. */
    assert(delivered == MESSAGES);
#ifdef WITNESS_ALL_FAULTS
    /* Not a property: a witness that the fault budget is really spent in some complete run.
       The check expects this assertion to be violated. */
    assert(!(losses == MAX_LOSS && duplicates == MAX_DUPLICATE && reorders == MAX_REORDER));
#endif
    senderFinished = true
}

/* -------------------------------------------------------------- receiver */

byte largestReceived = NONE;   /* the Largest Acknowledged field it sends */
byte receivedBits = 0;         /* the Acknowledgement Bitfield: bit i = largestReceived - 1 - i */
byte nextExpected = 0;         /* the next message to deliver */
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
    :: atomic { nfull(ackToNetwork) && dataToReceiver?[packet, message] ->
        dataToReceiver?packet, message;
        /* Packet-level duplicate suppression with the sliding window the ack fields describe. */
        if
        :: largestReceived == NONE ->
            largestReceived = packet; receivedBits = 0; isNewPacket = true
        :: largestReceived != NONE && packet > largestReceived ->
            distance = packet - largestReceived;
            if
            :: distance <= ACK_BITS ->
                receivedBits = ((receivedBits << distance) | (1 << (distance - 1))) & ACK_MASK
            :: else -> receivedBits = 0
            fi;
            largestReceived = packet; isNewPacket = true
        :: largestReceived != NONE && packet == largestReceived -> isNewPacket = false
        :: largestReceived != NONE && packet < largestReceived ->
            distance = largestReceived - 1 - packet;
            if
            :: distance < ACK_BITS && ((receivedBits >> distance) & 1) == 0 ->
                receivedBits = receivedBits | (1 << distance); isNewPacket = true
            :: else -> isNewPacket = false        /* a duplicate, or too old to tell: dropped */
            fi
        fi;
        if
        :: isNewPacket ->
            /* Message-level: a retransmission of a message already delivered or buffered is
               acknowledged (its packet is new) but not delivered again. */
            if
#ifdef BROKEN_NO_DEDUP
            :: message < nextExpected ->
                deliver(message)                  /* forgot it was delivered: delivers it again */
#else
            :: message < nextExpected -> skip
#endif
            :: message >= nextExpected && buffered[message] -> skip
            :: message >= nextExpected && !buffered[message] ->
                assert(message < nextExpected + REORDER_LIMIT);   /* the window keeps the buffer bounded */
                buffered[message] = true;
                bufferedCount++;
                deliverInOrder()
            fi;
            assert(bufferedCount <= REORDER_LIMIT)
        :: else -> skip
        fi;
        /* Every DATA packet elicits an acknowledgement (the real receiver may delay it up to
           maximumAckDelay and coalesce several; time is abstracted, so it answers each). */
        ackToNetwork!largestReceived, receivedBits }
    od
}

/* --------------------------------------------------------------- network */

/* One direction of the path: moves packets across, or loses one, duplicates one, or holds one
   back and releases it after a later packet (a reordering). Fault budgets are shared by both
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
