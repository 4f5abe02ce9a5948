#!/usr/bin/env python3
"""Synthetic capture for tools/check-dissector.sh, and the assertions on what tshark decodes.

  dissector-fixture.py write FILE.pcap     writes the capture (UDP and TCP on loopback)
  dissector-fixture.py check FIELDS.tsv    checks tshark's field output (see FIELDS below)

Every Datagram packet type, a retransmission (same message number, new packet number), a
network duplicate, a two-fragment message, a bad checksum, both heuristics on other ports, and a
TCP stream whose frames are split across segments and packed several to a segment. The chat
payloads are the test vectors of Specs/chat-protocol.md section 7, plus a long PRIVATE.
"""
import struct
import sys

# ------------------------------------------------------------------------------ CRC-32C
_TABLE = []
for _i in range(256):
    _v = _i
    for _ in range(8):
        _v = (_v >> 1) ^ 0x82F63B78 if _v & 1 else _v >> 1
    _TABLE.append(_v)


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value

# ------------------------------------------------------------------------------ Datagram packets
DATA, ACK, PING, CLOSE, RESET, HELLO, COOKIE, WELCOME = 0x01, 0x02, 0x03, 0x04, 0x05, 0x10, 0x11, 0x12


def packet(kind, connection, number, body=b"", largest=None, bits=0, delay=0, corrupt=False):
    flags = 0 if largest is None else 1
    header = struct.pack(">HBBIIIQHBBI", 0xDA7A, 1, kind, connection, number, largest or 0, bits,
                         delay, flags, 0, 0)
    datagram = bytearray(header + body)
    struct.pack_into(">I", datagram, 28, crc32c(datagram))
    if corrupt:
        datagram[-1] ^= 0x40
    return bytes(datagram)


def data_body(message, payload, channel=0, index=0, count=1):
    return struct.pack(">BBHIH", channel, 0, index, message, count) + payload


# ------------------------------------------------------------------------------ chat messages
VECTORS = {  # Specs/chat-protocol.md, section 7
    "HELLO": "01 01 01 23 45 67 89 ab cd ef 00 05 61 6c 69 63 65 01 00 06 23 6c 6f 62 62 79 00 08 63 68 61 74 20 31 2e 30",
    "SAY": "02 00 06 23 6c 6f 62 62 79 00 00 00 00 00 00 00 01 00 00 05 68 65 6c 6c 6f",
    "SAY_ACTION": "02 00 06 23 6c 6f 62 62 79 00 00 00 00 00 00 00 02 01 00 05 77 61 76 65 73",
    "PRIVATE": "03 00 03 62 6f 62 00 00 00 00 00 00 00 03 00 00 04 70 73 73 74",
    "JOIN_ROOM": "04 00 05 23 72 75 73 74",
    "PART_ROOM": "05 00 05 23 72 75 73 74",
    "LIST_ROOMS": "06",
    "WHO": "07 00 00",
    "NICK": "08 00 06 61 6c 69 63 65 32",
    "QUIT": "09 00 03 62 79 65",
    "HEARTBEAT": "0a 00 00 00 00 00 0f 42 40 00 00 09 c4",
    "WELCOME": "81 00 05 61 6c 69 63 65 00 06 23 6c 6f 62 62 79 00 00 27 10",
    "MESSAGE": "82 00 06 23 6c 6f 62 62 79 00 03 62 6f 62 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 07 00 00 02 68 69",
    "PRIVATE_MESSAGE": "83 00 03 62 6f 62 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 08 00 00 04 70 73 73 74",
    "NOTICE": "84 01 00 03 62 6f 62 00 06 23 6c 6f 62 62 79 00 03 75 64 70 00 00",
    "ERROR": "85 03 00 00 00 00 00 00 00 03 00 13 6e 6f 20 73 75 63 68 20 75 73 65 72 3a 20 63 61 72 6f 6c",
    "ROOM_LIST": "86 00 01 00 06 23 6c 6f 62 62 79 00 00 00 02",
    "WHO_LIST": "87 00 06 23 6c 6f 62 62 79 00 02 00 03 62 6f 62 00 00 0f 31 32 37 2e 30 2e 30 2e 31 3a 35 33 31"
                " 32 32 00 00 04 d2 01 00 06 23 6c 6f 62 62 79 00 05 63 61 72 6f 6c 01 00 00 ff ff ff ff 02 00 06"
                " 23 6c 6f 62 62 79 00 05 23 72 75 73 74",
    "HEARTBEAT_ECHO": "88 00 00 00 00 00 0f 42 40",
    "RECEIVED": "89 00 00 00 00 00 00 00 08",
    "MODERATE_KICK": "0b 07 00 06 23 63 6c 61 73 73 00 03 62 6f 62 00 00 00 00 00 04 73 70 61 6d",
    "MODERATE_BAN": "0b 08 00 06 23 63 6c 61 73 73 00 0b 31 30 2e 39 2e 30 2e 30 2f 31 36 00 00 0e 10 00 05 66 6c 6f"
                    " 6f 64",
    "JOIN_ROOM_KEY": "0c 00 06 23 63 6c 61 73 73 00 06 73 33 63 72 65 74",
    "NOTICE_MODERATION": "84 0b 00 05 61 6c 69 63 65 00 06 23 63 6c 61 73 73 00 03 62 6f 62 00 10 6b 69 63 6b 65 64"
                         " 20 62 6f 62 3a 20 73 70 61 6d",
    "ERROR_CANNOT_SPEAK": "85 10 00 00 00 00 00 00 00 04 00 13 23 63 6c 61 73 73 20 69 73 20 6d 6f 64 65 72 61 74 65"
                          " 64",
    "BAN_LIST": "8a 00 06 23 63 6c 61 73 73 00 01 00 13 69 64 3a 63 39 39 64 35 62 31 32 61 32 30 62 30 38 32 37"
                " 00 05 61 6c 69 63 65 00 00 0e 10 00 05 66 6c 6f 6f 64",
    # Identities (issue 10, Specs/chat-protocol.md section 4.10).
    "WHOIS": "0e 00 03 62 6f 62",
    "WHOIS_REPLY": "8c 00 03 62 6f 62 00 03 62 6f 62 00 20 79 a6 31 ee de 1b f9 c9 8f 12 03 2c de ad d0 e7 a0 79 39 8f c7 86 b8 8c c8 46 ec 89 af 85 a5 1a",
    "SEALED_PRIVATE": "0f 00 03 62 6f 62 00 00 00 00 00 00 00 01 00 77 49 3e 82 fc 74 46 4a 59 26 88 17 62 3d 20 53 c5 eb 8e 2c c4 a9 88 b4 fe e1 79 ec 6b 01 0d 53 1d 0f 4d 83 df ab 3c 69 39 0a 4f 70 c4 1d 2d 09 b7 40 27 3f 9c 8a f2 f7 0c aa 0d 38 22 97 23 9e 4c a0 aa 43 e6 dc 08 bd 60 f1 3b 4c d5 0b 51 f7 bb 2c 28 08 dd 02 7c 02 09 58 ce 02 0f 93 e1 96 80 1e 8e 68 67 dd 94 25 c4 2f 2d 9c 29 82 05 d4 41 56 2d 5a 3d b8 41 fc",
    "SEALED_PRIVATE_MESSAGE": "8d 00 05 61 6c 69 63 65 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 01 00 77 49 3e 82 fc 74 46 4a 59 26 88 17 62 3d 20 53 c5 eb 8e 2c c4 a9 88 b4 fe e1 79 ec 6b 01 0d 53 1d 0f 4d 83 df ab 3c 69 39 0a 4f 70 c4 1d 2d 09 b7 40 27 3f 9c 8a f2 f7 0c aa 0d 38 22 97 23 9e 4c a0 aa 43 e6 dc 08 bd 60 f1 3b 4c d5 0b 51 f7 bb 2c 28 08 dd 02 7c 02 09 58 ce 02 0f 93 e1 96 80 1e 8e 68 67 dd 94 25 c4 2f 2d 9c 29 82 05 d4 41 56 2d 5a 3d b8 41 fc",
    # File transfer (issue 12, chat-protocol.md section 4.12).
    "FILE_OFFER": "18 01 02 03 04 05 06 07 08 00 03 62 6f 62 00 05 61 2e 74 78 74 00 00 00 00 00 00 00 05 2c f2 4d ba 5f b0 a3 0e 26 e8 3b 2a c5 b9 e2 9e 1b 16 1e 5c 1f a7 42 5e 73 04 33 62 93 8b 98 24",
    "FILE_ACCEPT": "19 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00",
    "FILE_CANCEL": "1a 00 00 00 00 00 00 00 07 00 00 09 6e 6f 20 74 68 61 6e 6b 73",
    "FILE_CHUNK": "1b 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00 00 05 68 65 6c 6c 6f",
    "FILE_CONFIRM": "1c 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 05",
    "FILE_DONE": "1d 00 00 00 00 00 00 00 07 00",
    "FILE_OFFERED": "98 00 00 00 00 00 00 00 07 00 05 61 6c 69 63 65 00 03 62 6f 62 00 05 61 2e 74 78 74 00 00 00 00 00 00 00 05 2c f2 4d ba 5f b0 a3 0e 26 e8 3b 2a c5 b9 e2 9e 1b 16 1e 5c 1f a7 42 5e 73 04 33 62 93 8b 98 24 00 00 01 2c",
    "FILE_ACCEPTED": "99 01 02 03 04 05 06 07 08 00 00 00 00 00 00 00 07 00 03 62 6f 62 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 05",
    "FILE_CANCELLED": "9a 01 02 03 04 05 06 07 08 00 00 00 00 00 00 00 07 02 00 00 00 00",
    "FILE_CHUNK_relayed": "9b 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00 00 05 68 65 6c 6c 6f",
    "FILE_CREDIT": "9c 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 05 00 00 00 00 00 00 00 05",
    "FILE_DONE_relayed": "9d 00 00 00 00 00 00 00 07 00 03 62 6f 62 00",
    "STORED_UP_TO": "91 00 00 00 00 00 00 00 2a",
    "RECEIPT": "12 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 08",
    "ACCOUNT_IDENTIFY": "13 02 00 05 61 6c 69 63 65 00 08 73 65 73 61 6d 65 34 32 00 00",
    "NOTICE_STORED_OFFLINE": "84 13 00 05 61 6c 69 63 65 00 00 00 00 00 01 37",
    "DELIVERED": "92 00 03 62 6f 62 00 00 00 00 00 00 00 03",
    "SEALED_PAST_MESSAGE": "93 00 05 61 6c 69 63 65 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 01 00 00 01 a0 c4 50 6c 00 00 77 49 3e 82 fc 74 46 4a 59 26 88 17 62 3d 20 53 c5 eb 8e 2c c4 a9 88 b4 fe e1 79 ec 6b 01 0d 53 1d 0f 4d 83 df ab 3c 69 39 0a 4f 70 c4 1d 2d 09 b7 40 27 3f 9c 8a f2 f7 0c aa 0d 38 22 97 23 9e 4c a0 aa 43 e6 dc 08 bd 60 f1 3b 4c d5 0b 51 f7 bb 2c 28 08 dd 02 7c 02 09 58 ce 02 0f 93 e1 96 80 1e 8e 68 67 dd 94 25 c4 2f 2d 9c 29 82 05 d4 41 56 2d 5a 3d b8 41 fc",
    "HISTORY": "11 00 06 23 63 6c 61 73 73 00 32 00 00 01 a0 c4 50 6c 00",
    "HISTORY_LINE": "90 00 06 23 63 6c 61 73 73 00 03 62 6f 62 11 11 22 22 33 33 44 44 00 00 00 00 00 00 00 07 00 00"
                    " 02 68 69 00 00 01 a0 c4 50 6c 00 01",
}
CHAT = {name: bytes.fromhex(text) for name, text in VECTORS.items()}
LONG_TEXT = "".join("long line %04d. " % i for i in range(125))  # 2,000 bytes: two fragments


def string(text):
    raw = text.encode()
    return struct.pack(">H", len(raw)) + raw


CHAT["LONG_PRIVATE"] = b"\x03" + string("carol") + struct.pack(">QB", 4, 0) + string(LONG_TEXT)


# Specs/wire-format.md section 9: the implementation's own vectors (connection id 0x1234ABCD).
WIRE_VECTORS = [
    ("HELLO", "da7a0110 1234abcd fffffffe 00000000 0000000000000000 0000 00 00 7af6a9a4"
              "00000000000000000000000000000000"),
    ("COOKIE", "da7a0111 1234abcd 00000000 fffffffe 0000000000000000 0000 01 00 f5ca4c72"
               "0000000000002710 9682864ed4cb2b2b"),
    ("WELCOME", "da7a0112 1234abcd 00000007 ffffffff 0000000000000001 0000 01 00 3d5a05a5"),
    ("DATA", "da7a0101 1234abcd ffffffff 00000002 8000000000000003 0271 01 00 fef89b25"
             "00 00 0000 fffffffe 0001 6869"),
    ("ACK", "da7a0102 1234abcd 00000010 0000002a ffffffffffffffff 0005 01 00 009c4601"),
    ("PING", "da7a0103 1234abcd 00000011 0000002a 0000000000000000 0000 01 00 5ebe3667"),
    ("CLOSE", "da7a0104 1234abcd 00000012 00000000 0000000000000000 0000 00 00 9d3417ae 03"),
    ("RESET", "da7a0105 1234abcd 00000000 00000000 0000000000000000 0000 00 00 c1d8b9a0"),
]

# Specs/wire-format.md section 10.7: a sealed handshake (HELLO with Noise message 1, WELCOME with
# message 2, FINISH) and a sealed DATA, connection id 0x1234ABCD.
SEALED_VECTORS = [
    ("HELLO+1", "da 7a 01 10 12 34 ab cd 00 00 00 11 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 c5 15 b4 2c c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf 35 80 72 d6 36 58 80 d1 ae ea 32 9a df 91 21 38 38 51 ed 21 a2 8e 3b 75 e9 65 d0 d2 cd 16 62 54"),
    ("WELCOME+2", "da 7a 01 12 12 34 ab cd 00 00 00 20 00 00 00 11 00 00 00 00 00 00 00 00 00 00 01 00 b7 24 0c 9f 67 5d d5 74 ed 77 89 31 0b 3d 2e 76 81 f3 79 0b 46 6c 77 3b 15 21 fe cf 36 57 79 58 37 1e a5 2f 7e 18 66 de 56 d6 c9 b8 05 d5 89 b5 e6 5b d1 48 58 f2 1f ba 6e 57 6c e6 49 93 fb f5 5e b0 04 57 75 76 bd 66 0a 68 95 6a 3b 6c b3 3a 38 4f 9e 41 0e 92 52 e2 94 36 fe 15 d1 7f 01 74 2b 05 e1 f3"),
    ("FINISH", "da 7a 01 13 12 34 ab cd 00 00 00 12 00 00 00 20 00 00 00 00 00 00 00 00 00 00 01 00 50 1f 9f 5f 1d c0 0d f0 62 a5 12 49 32 1a 8f 83 49 c3 12 56 7d c0 0e d8 37 b5 fc 3f a4 c7 21 62 d3 9a 49 73 23 e4 9d d3 f6 de 7a 9e df e8 c8 9c 63 56 c9 47 3d 5e 34 d9 8e 89 60 d0 f5 4e 3c c8 2f e9 be 29"),
    ("sealed-DATA", "da 7a 01 01 12 34 ab cd 00 00 00 13 00 00 00 20 00 00 00 00 00 00 00 00 00 00 01 00 3d 5e df 60 36 8c e4 38 3b 65 f7 47 ab 6a 04 a5 51 6b 3f ed 67 7a 5e 08 6c bc f0 ad f8 c1 7f fb 4f 18 a6 3b 5d e2 b7 02 37 81 30 aa 02 a5 10 5b 45"),
]
# Specs/wire-format.md section 11: the ACK and the PING above, coalesced in one datagram.
COALESCED_VECTOR = b"\xda\x7a\x01\x16" + b"".join(
    struct.pack(">H", 32) + bytes.fromhex(text.replace(" ", "")) for name, text in WIRE_VECTORS if name in ("ACK", "PING"))


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


# ------------------------------------------------------------------------------ pcap writing
def ipv4(source_port, destination_port, protocol, transport):
    total = 20 + len(transport)
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, protocol, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    checksum = 0
    for i in range(0, 20, 2):
        checksum += (header[i] << 8) | header[i + 1]
    checksum = (checksum & 0xFFFF) + (checksum >> 16)
    checksum = ~((checksum & 0xFFFF) + (checksum >> 16)) & 0xFFFF
    header = header[:10] + struct.pack(">H", checksum) + header[12:]
    return b"\x00" * 12 + b"\x08\x00" + header + transport


def udp(source_port, destination_port, payload):
    return ipv4(source_port, destination_port, 17,
                struct.pack(">HHHH", source_port, destination_port, 8 + len(payload), 0) + payload)


class TCPStream:
    def __init__(self, client_port, server_port):
        self.ports = (client_port, server_port)
        self.sequence = [1000, 5000]  # next sequence number, client and server

    def segment(self, from_client, payload=b"", flags=0x18):
        side = 0 if from_client else 1
        source, destination = self.ports if from_client else self.ports[::-1]
        acknowledgement = self.sequence[1 - side] if flags & 0x10 else 0
        header = struct.pack(">HHIIBBHHH", source, destination, self.sequence[side], acknowledgement,
                             5 << 4, flags, 65535, 0, 0)
        self.sequence[side] = (self.sequence[side] + len(payload) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF
        return ipv4(source, destination, 6, header + payload)

    def handshake(self):
        self.sequence[0] -= 1
        syn = self.segment(True, flags=0x02)
        self.sequence[1] -= 1
        syn_ack = self.segment(False, flags=0x12)
        return [syn, syn_ack, self.segment(True, flags=0x10)]


CLIENT, RELAY, OTHER = 50000, 9000, 7777
CONNECTION = 0x0A0B0C0D


def frames():
    c = lambda payload: udp(CLIENT, RELAY, payload)    # client to relay
    r = lambda payload: udp(RELAY, CLIENT, payload)    # relay to client
    cookie = struct.pack(">QQ", 12345, 0x1122334455667788)
    first, second = LONG_TEXT_FRAGMENTS = (CHAT["LONG_PRIVATE"][:1158], CHAT["LONG_PRIVATE"][1158:])
    retransmitted = packet(DATA, CONNECTION, 5, data_body(1, CHAT["SAY"]), largest=4, bits=0b1)
    out = [
        c(packet(HELLO, CONNECTION, 0, b"\x00" * 16)),                                        # 1
        r(packet(COOKIE, CONNECTION, 0, cookie)),                                             # 2
        c(packet(HELLO, CONNECTION, 1, cookie)),                                              # 3
        r(packet(WELCOME, CONNECTION, 1, largest=1, bits=0b1)),                               # 4
        c(packet(DATA, CONNECTION, 2, data_body(0, CHAT["HELLO"]), largest=1, bits=0b1)),     # 5
        r(packet(DATA, CONNECTION, 2, data_body(0, CHAT["WELCOME"]), largest=2, bits=0b11)),  # 6
        r(packet(DATA, CONNECTION, 3, data_body(1, CHAT["NOTICE"]), largest=2, bits=0b11)),   # 7
        c(packet(DATA, CONNECTION, 3, data_body(1, CHAT["SAY"]), largest=3, bits=0b11)),      # 8  lost
        c(packet(DATA, CONNECTION, 4, data_body(2, CHAT["SAY_ACTION"]), largest=3, bits=0b11)),  # 9
        r(packet(ACK, CONNECTION, 4, largest=4, bits=0b10, delay=3125)),                      # 10 acks 4, 2
        c(retransmitted),                                                                     # 11 msg 1 again
        c(retransmitted),                                                                     # 12 duplicate
        c(packet(PING, CONNECTION, 6, largest=4, bits=0b1)),                                  # 13
        r(packet(DATA, CONNECTION, 5, data_body(2, CHAT["MESSAGE"]), largest=6,
                 bits=(1 << 0) | (1 << 1) | (1 << 3) | (1 << 40))),                          # 14
        c(packet(DATA, CONNECTION, 7, data_body(3, first, index=0, count=2), largest=5)),     # 15
        c(packet(DATA, CONNECTION, 8, data_body(3, second, index=1, count=2), largest=5)),    # 16
        c(packet(DATA, CONNECTION, 9, data_body(0, CHAT["QUIT"], channel=1), largest=5)),     # 17
        r(packet(DATA, CONNECTION, 6, data_body(3, CHAT["PRIVATE_MESSAGE"]), largest=9, bits=0b11)),  # 18
        r(packet(DATA, CONNECTION, 7, data_body(4, CHAT["ERROR"]), largest=9)),               # 19
        r(packet(DATA, CONNECTION, 8, data_body(5, CHAT["ROOM_LIST"]), largest=9)),           # 20
        r(packet(DATA, CONNECTION, 9, data_body(6, CHAT["WHO_LIST"]), largest=9)),            # 21
        r(packet(DATA, CONNECTION, 10, data_body(7, CHAT["SAY"]), largest=9, corrupt=True)),  # 22 bad checksum
        c(packet(CLOSE, CONNECTION, 10, b"\x00", largest=8)),                                 # 23
        r(packet(RESET, 0x99999999, 0)),                                                      # 24
        udp(CLIENT + 1, OTHER, packet(PING, 0x42424242, 77)),                                 # 25 heuristic
        r(packet(CLOSE, CONNECTION, 11, b"\x03", largest=10)),                                # 26
    ]
    tcp = TCPStream(50001, RELAY)
    out += tcp.handshake()                                                                    # 27-29
    client_stream = b"".join(frame(CHAT[name]) for name in
                             ["PRIVATE", "JOIN_ROOM", "PART_ROOM", "LIST_ROOMS", "WHO", "NICK", "QUIT"])
    out += [
        tcp.segment(True, frame(CHAT["HELLO"]) + frame(CHAT["SAY"]) + frame(CHAT["SAY_ACTION"])),  # 30
        tcp.segment(False, frame(CHAT["WELCOME"]) + frame(CHAT["RECEIVED"])),                   # 31
        tcp.segment(True, client_stream[:6]),                                                 # 32 split
        tcp.segment(True, client_stream[6:26]),                                               # 33
        tcp.segment(True, client_stream[26:] + frame(CHAT["HEARTBEAT"])),                     # 34
        tcp.segment(False, frame(CHAT["ROOM_LIST"]) + frame(CHAT["WHO_LIST"])[:30]),          # 35
        tcp.segment(False, frame(CHAT["WHO_LIST"])[30:] + frame(CHAT["HEARTBEAT_ECHO"])
                    + frame(CHAT["ERROR"]) + frame(CHAT["PRIVATE_MESSAGE"]) + frame(CHAT["MESSAGE"])
                    + frame(CHAT["NOTICE"])),                                                 # 36
        tcp.segment(True, frame(CHAT["LONG_PRIVATE"])[:1000]),                                # 37
        tcp.segment(True, frame(CHAT["LONG_PRIVATE"])[1000:]),                                # 38
    ]
    bad = TCPStream(50002, RELAY)
    out += bad.handshake()                                                                    # 39-41
    out += [bad.segment(True, struct.pack(">I", 70000) + b"garbage")]                        # 42
    for _, text in WIRE_VECTORS:                                                              # 43-50
        out.append(udp(40000, RELAY, bytes.fromhex(text.replace(" ", ""))))
    other = TCPStream(50003, OTHER + 1)                                                       # heuristic
    out += other.handshake()                                                                  # 51-53
    out += [other.segment(True, frame(CHAT["HELLO"]) + frame(CHAT["SAY"]))]                   # 54
    out += [other.segment(False, frame(CHAT["WELCOME"]))]                                     # 55
    # Moderation (issue 14): the client's requests, then the relay's answers, on the first stream.
    out += [tcp.segment(True, frame(CHAT["MODERATE_KICK"]) + frame(CHAT["MODERATE_BAN"])
                        + frame(CHAT["JOIN_ROOM_KEY"]))]                                      # 56
    out += [tcp.segment(False, frame(CHAT["NOTICE_MODERATION"]) + frame(CHAT["ERROR_CANNOT_SPEAK"])
                        + frame(CHAT["BAN_LIST"]))]                                           # 57
    # Identities (issue 10): WHOIS and a sealed private message, then the relay's answers.
    out += [tcp.segment(True, frame(CHAT["WHOIS"]) + frame(CHAT["SEALED_PRIVATE"]))]          # 58
    out += [tcp.segment(False, frame(CHAT["WHOIS_REPLY"]) + frame(CHAT["SEALED_PRIVATE_MESSAGE"]))]  # 59
    for _, text in SEALED_VECTORS:                                                            # 60-63
        out.append(udp(40001, RELAY, bytes.fromhex(text.replace(" ", ""))))
    # File transfer (issue 12): the client's file messages, then the relay's, on the first stream.
    out += [tcp.segment(True, b"".join(frame(CHAT[name]) for name in
                                       ["FILE_OFFER", "FILE_ACCEPT", "FILE_CANCEL", "FILE_CHUNK", "FILE_CONFIRM", "FILE_DONE"]))]  # 64
    out += [tcp.segment(False, b"".join(frame(CHAT[name]) for name in
                                        ["FILE_OFFERED", "FILE_ACCEPTED", "FILE_CANCELLED", "FILE_CHUNK_relayed",
                                         "FILE_CREDIT", "FILE_DONE_relayed"]))]                 # 65
    # History and receipts (issue 11).
    out += [tcp.segment(True, frame(CHAT["HISTORY"]) + frame(CHAT["RECEIPT"]))]               # 66
    out += [tcp.segment(False, frame(CHAT["STORED_UP_TO"]) + frame(CHAT["HISTORY_LINE"])
                        + frame(CHAT["DELIVERED"]))]                                          # 67
    # Coalescing (issue 13, wire format section 11): two DATA packets of another connection in one datagram.
    coalesced = [packet(DATA, 0x0C0A1E5C, 1, data_body(0, CHAT["SAY"])),
                 packet(DATA, 0x0C0A1E5C, 2, data_body(1, CHAT["SAY_ACTION"]))]
    out += [udp(CLIENT + 2, RELAY, b"\xda\x7a\x01\x16" + b"".join(struct.pack(">H", len(p)) + p for p in coalesced))]  # 68
    out += [udp(40000, RELAY, COALESCED_VECTOR)]                                              # 69
    return out


def account_frames():
    """Accounts and offline messages (issue 11) on a stream of their own, after every other frame:
    its handshake, ACCOUNT identify, then NOTICE storedOffline, then SEALED_PAST_MESSAGE (a kept sealed
    private message with its time; numbered from the end by `check`)."""
    stream = TCPStream(50004, RELAY)
    return stream.handshake() + [stream.segment(True, frame(CHAT["ACCOUNT_IDENTIFY"])),
                                 stream.segment(False, frame(CHAT["NOTICE_STORED_OFFLINE"])),
                                 stream.segment(False, frame(CHAT["SEALED_PAST_MESSAGE"]))]


def write(path):
    with open(path, "wb") as output:
        output.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for number, data in enumerate(frames() + account_frames()):
            output.write(struct.pack("<IIII", 1_700_000_000, number * 1000, len(data), len(data)))
            output.write(data)


# ------------------------------------------------------------------------------ assertions
# The order of the -e options check-dissector.sh passes to tshark.
FIELDS = ["frame.number", "dgram.type", "dgram.packet_number", "dgram.connection_id",
          "dgram.largest_acknowledged", "dgram.acknowledged", "dgram.ack_delay_us", "dgram.flags.ack",
          "dgram.checksum.status", "dgram.data.channel", "dgram.data.message_number",
          "dgram.data.fragment_index", "dgram.data.fragment_count", "dgram.data.retransmission",
          "dgram.data.first_packet_number", "dgram.duplicate", "dgram.cookie.empty",
          "dgram.cookie.issue_time", "dgram.close.reason", "dgramtcp.length", "dgchat.type",
          "dgchat.name", "dgchat.room", "dgchat.text", "dgchat.to", "dgchat.from", "dgchat.session_secret", "dgchat.sender_id",
          "dgchat.message_id", "dgchat.flags.action", "dgchat.notice_kind", "dgchat.endpoint",
          "dgchat.error_code", "dgchat.transport", "dgchat.rtt", "dgchat.highest_id",
          "dgchat.software", "dgchat.reason", "dgchat.new_name", "dgchat.peer_timeout",
          "dgchat.member_count", "dgchat.timestamp", "dgchat.action", "dgchat.target", "dgchat.duration",
          "dgchat.key", "dgchat.mask", "dgchat.set_by", "dgchat.seconds_left", "dgchat.detail",
          "dgchat.asked", "dgchat.key_length", "dgchat.identity_key", "dgchat.sealed_length",
          "dgchat.file.transfer_id", "dgchat.file.name", "dgchat.file.offset", "dgchat.file.reason", "dgchat.file.result",
          "_ws.expert.message", "_ws.malformed",           "dgram.sealed", "dgram.noise.index", "dgram.flags.key_phase", "dgram.coalesced.length",
          "dgchat.history_count", "dgchat.since", "dgchat.time", "dgchat.history_asked",
          "dgchat.account.action", "dgchat.account.password_length",
          "_ws.col.Info"]


class Checker:
    def __init__(self, rows):
        self.rows = rows
        self.passed = 0
        self.failed = []

    def values(self, number, field):
        text = self.rows.get(number, {}).get(field, "")
        return [value for value in text.split("|")] if text else []

    def expect(self, number, field, *expected):
        got = self.values(number, field)
        if got == [str(value) for value in expected]:
            self.passed += 1
        else:
            self.failed.append("frame %d %s: expected %s, got %s" % (number, field, list(expected), got))

    def expect_contains(self, number, field, value):
        got = self.values(number, field)
        if any(value in item for item in got):
            self.passed += 1
        else:
            self.failed.append("frame %d %s: expected one containing %r, got %s" % (number, field, value, got))


def spec_vectors(name, section):
    """The hex blocks of a section of Specs/NAME, or None when the file is not there."""
    import os
    import re
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Specs", name)
    if not os.path.exists(path):
        return None
    text = open(path, encoding="utf-8").read()
    start = text.find(section)
    blocks = re.findall(r"```\n([0-9a-f \n]+)```", text[start:] if start >= 0 else "")
    return [bytes.fromhex(block.replace("\n", " ")) for block in blocks]


def check_vectors_match_specs(k):
    """The fixture's copies of the specs' vectors must still be the specs' vectors."""
    for name, section, mine in [
        ("chat-protocol.md", "## 7. Test vectors", set(CHAT.values())),
        ("wire-format.md", "## 9. Test vectors",
         {bytes.fromhex(text.replace(" ", "")) for _, text in WIRE_VECTORS + SEALED_VECTORS} | {COALESCED_VECTOR}),
    ]:
        vectors = spec_vectors(name, section)
        if vectors is None:
            continue
        missing = [vector.hex() for vector in vectors if vector not in mine]
        if vectors and not missing:
            k.passed += 1
        else:
            k.failed.append("Specs/%s: %d vectors, %d not in dissector-fixture.py (update it): %s"
                            % (name, len(vectors), len(missing), missing[:2]))


def check(path):
    rows = {}
    with open(path, encoding="utf-8") as table:
        for line in table:
            cells = line.rstrip("\n").split("\t")
            cells += [""] * (len(FIELDS) - len(cells))
            row = dict(zip(FIELDS, cells))
            rows[int(row["frame.number"])] = row
    k = Checker(rows)
    # Header, every packet type, acknowledgement bitfield, checksum.
    for number, kind in [(1, 0x10), (2, 0x11), (3, 0x10), (4, 0x12), (5, 1), (10, 2), (13, 3),
                         (23, 4), (24, 5), (25, 3)]:
        k.expect(number, "dgram.type", "0x%02x" % kind)
    k.expect(1, "dgram.connection_id", "0x0a0b0c0d")
    k.expect(1, "dgram.flags.ack", 0)
    k.expect(1, "dgram.cookie.empty", 1)
    k.expect(2, "dgram.cookie.issue_time", 12345)
    k.expect(4, "dgram.acknowledged", 1, 0)
    k.expect(6, "dgram.acknowledged", 2, 1, 0)
    k.expect(10, "dgram.acknowledged", 4, 2)
    k.expect(10, "dgram.ack_delay_us", 25000)
    k.expect(14, "dgram.acknowledged", 6, 5, 4, 2, 4294967261)
    k.expect(5, "dgram.checksum.status", 1)
    k.expect(22, "dgram.checksum.status", 0)
    k.expect_contains(22, "_ws.expert.message", "Bad checksum")
    k.expect(23, "dgram.close.reason", 0)
    k.expect(26, "dgram.close.reason", 3)
    k.expect(24, "dgram.connection_id", "0x99999999")
    k.expect(25, "dgram.packet_number", 77)                      # found by the heuristic on port 7777
    # DATA bodies, retransmission and duplicate analysis.
    k.expect(8, "dgram.data.message_number", 1)
    k.expect(8, "dgram.data.retransmission")
    k.expect(11, "dgram.data.message_number", 1)
    k.expect(11, "dgram.packet_number", 5)
    k.expect(11, "dgram.data.retransmission", 1)
    k.expect(11, "dgram.data.first_packet_number", 3)
    k.expect(12, "dgram.duplicate", 1)
    k.expect(17, "dgram.data.channel", 1)
    k.expect(15, "dgram.data.fragment_count", 2)
    k.expect(16, "dgram.data.fragment_index", 1)
    k.expect(15, "dgchat.type")                              # waits for its second fragment
    k.expect(16, "dgchat.type", "0x03")
    k.expect(16, "dgchat.text", LONG_TEXT)
    k.expect(16, "dgchat.to", "carol")
    # Chat messages inside DATA.
    k.expect(5, "dgchat.type", "0x01")
    k.expect(5, "dgchat.name", "alice")
    k.expect(5, "dgchat.room", "#lobby")
    k.expect(5, "dgchat.software", "chat 1.0")
    k.expect(5, "dgchat.session_secret", "0x0123456789abcdef")
    k.expect(6, "dgchat.type", "0x81")
    k.expect(6, "dgchat.peer_timeout", 10000)
    k.expect(7, "dgchat.notice_kind", 1)
    k.expect(7, "dgchat.endpoint", "udp")
    k.expect(8, "dgchat.text", "hello")
    k.expect(9, "dgchat.text", "waves")
    k.expect(9, "dgchat.flags.action", 1)
    k.expect(11, "dgchat.text", "hello")                     # the retransmission carries it again
    k.expect(12, "dgchat.text", "hello")
    k.expect(14, "dgchat.from", "bob")
    k.expect(14, "dgchat.text", "hi")
    k.expect(14, "dgchat.message_id", 7)
    k.expect(14, "dgchat.sender_id", "0x1111222233334444")
    k.expect(17, "dgchat.reason", "bye")
    k.expect(18, "dgchat.type", "0x83")
    k.expect(19, "dgchat.error_code", 3)
    k.expect(19, "dgchat.text", "no such user: carol")
    k.expect(20, "dgchat.member_count", 2)
    k.expect(21, "dgchat.name", "bob", "carol")
    k.expect(21, "dgchat.transport", 0, 1)
    k.expect(21, "dgchat.rtt", 1234, 4294967295)
    k.expect(21, "dgchat.room", "#lobby", "#lobby", "#lobby", "#rust")
    k.expect(22, "dgchat.type")                              # bad checksum: not decoded further
    # TCP framing: several frames per segment, frames split across segments.
    k.expect(30, "dgramtcp.length", 36, 25, 25)
    k.expect(30, "dgchat.type", "0x01", "0x02", "0x02")
    k.expect(30, "dgchat.text", "hello", "waves")
    k.expect(31, "dgchat.highest_id", 8)
    k.expect(33, "dgchat.type", "0x03")
    k.expect(33, "dgchat.to", "bob")
    k.expect(34, "dgchat.type", "0x04", "0x05", "0x06", "0x07", "0x08", "0x09", "0x0a")
    k.expect(34, "dgchat.new_name", "alice2")
    k.expect(34, "dgchat.timestamp", 1000000)
    k.expect(36, "dgchat.type", "0x87", "0x88", "0x85", "0x83", "0x82", "0x84")
    k.expect(38, "dgchat.text", LONG_TEXT)
    k.expect(42, "dgramtcp.length", 70000)
    k.expect_contains(42, "_ws.expert.message", "over 65,536")
    # The wire-format vectors: the dissector agrees with the implementation's bytes and CRCs.
    for offset, (name, _) in enumerate(WIRE_VECTORS):
        k.expect(43 + offset, "dgram.checksum.status", 1)
        k.expect(43 + offset, "dgram.connection_id", "0x1234abcd")
    k.expect(43, "dgram.packet_number", 4294967294)
    k.expect(43, "dgram.cookie.empty", 1)
    k.expect(44, "dgram.acknowledged", 4294967294)
    k.expect(44, "dgram.cookie.issue_time", 10000)
    k.expect(45, "dgram.acknowledged", 4294967295, 4294967294)
    k.expect(46, "dgram.acknowledged", 2, 1, 0, 4294967234)
    k.expect(46, "dgram.ack_delay_us", 5000)
    k.expect(46, "dgram.data.message_number", 4294967294)
    k.expect(47, "dgram.acknowledged", *[n % 2**32 for n in range(42, -23, -1)])
    k.expect(47, "dgram.ack_delay_us", 40)
    k.expect(48, "dgram.acknowledged", 42)
    k.expect(49, "dgram.flags.ack", 0)
    k.expect(49, "dgram.close.reason", 3)
    k.expect(50, "dgram.type", "0x05")
    k.expect(54, "dgchat.type", "0x01", "0x02")                   # TCP heuristic on port 7778
    k.expect(68, "dgram.coalesced.length", 67, 67)                # coalesced: each packet after its length
    k.expect(68, "dgram.packet_number", 1, 2)
    k.expect(68, "dgram.checksum.status", 1, 1)
    k.expect(68, "dgchat.text", "hello", "waves")
    k.expect(69, "dgram.type", "0x02", "0x03")                    # section 11's vector
    k.expect(69, "dgram.packet_number", 16, 17)
    k.expect(55, "dgchat.type", "0x81")
    k.expect(56, "dgchat.type", "0x0b", "0x0b", "0x0c")
    k.expect(56, "dgchat.action", 7, 8)
    k.expect(56, "dgchat.target", "bob", "10.9.0.0/16")
    k.expect(56, "dgchat.duration", 0, 3600)
    k.expect(56, "dgchat.text", "spam", "flood")
    k.expect(56, "dgchat.key", "s3cret")
    k.expect(57, "dgchat.type", "0x84", "0x85", "0x8a")
    k.expect(57, "dgchat.notice_kind", 11)
    k.expect(57, "dgchat.detail", "kicked bob: spam")
    k.expect(57, "dgchat.error_code", 16)
    k.expect(57, "dgchat.mask", "id:c99d5b12a20b0827")
    k.expect(57, "dgchat.set_by", "alice")
    k.expect(57, "dgchat.seconds_left", 3600)
    k.expect(57, "dgchat.reason", "flood")
    k.expect(58, "dgchat.type", "0x0e", "0x0f")
    k.expect(58, "dgchat.name", "bob")
    k.expect(58, "dgchat.to", "bob")
    k.expect(58, "dgchat.message_id", 1)
    k.expect(58, "dgchat.sealed_length", 119)
    k.expect(59, "dgchat.type", "0x8c", "0x8d")
    k.expect(59, "dgchat.asked", "bob")
    k.expect(59, "dgchat.key_length", 32)
    k.expect(59, "dgchat.identity_key", "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a")
    k.expect(59, "dgchat.from", "alice")
    k.expect(59, "dgchat.sealed_length", 119)
    k.expect_contains(59, "_ws.col.Info", "SEALED_PRIVATE_MESSAGE from alice #1: 119 sealed bytes")
    # The sealed vectors (wire format 10.7): the Noise messages, FINISH, and a sealed DATA whose body
    # the dissector shows as ciphertext (no chat fields).
    for offset in range(len(SEALED_VECTORS)):
        k.expect(60 + offset, "dgram.checksum.status", 1)
    k.expect(60, "dgram.noise.index", 1)
    k.expect(61, "dgram.noise.index", 2)
    k.expect(62, "dgram.type", "0x13")
    k.expect(62, "dgram.noise.index", 3)
    k.expect(63, "dgram.sealed", 1)
    k.expect(63, "dgram.packet_number", 19)
    k.expect(64, "dgchat.type", "0x18", "0x19", "0x1a", "0x1b", "0x1c", "0x1d")
    k.expect(64, "dgchat.file.name", "a.txt")
    k.expect(64, "dgchat.file.transfer_id", 7, 7, 7, 7, 7)
    k.expect(64, "dgchat.file.offset", 0, 0, 5)
    k.expect(64, "dgchat.file.reason", 0)
    k.expect(64, "dgchat.file.result", 0)
    k.expect(65, "dgchat.type", "0x98", "0x99", "0x9a", "0x9b", "0x9c", "0x9d")
    k.expect(65, "dgchat.file.transfer_id", 7, 7, 7, 7, 7, 7)
    k.expect(65, "dgchat.file.reason", 2)
    k.expect(66, "dgchat.type", "0x11", "0x12")
    k.expect(66, "dgchat.sender_id", "0x1111222233334444")
    k.expect(66, "dgchat.message_id", 8)
    k.expect(66, "dgchat.room", "#class")
    k.expect(66, "dgchat.history_count", 50)
    k.expect(66, "dgchat.since", 1790000000000)
    k.expect(67, "dgchat.type", "0x91", "0x90", "0x92")
    k.expect(67, "dgchat.to", "bob")
    k.expect(67, "dgchat.highest_id", 42)
    k.expect(67, "dgchat.from", "bob")
    k.expect(67, "dgchat.text", "hi")
    k.expect(67, "dgchat.message_id", 7, 3)
    k.expect(67, "dgchat.time", 1790000000000)
    k.expect(67, "dgchat.history_asked", 1)
    account = len(frames()) + 4                                   # account_frames(): after its handshake
    k.expect(account, "dgchat.type", "0x13")
    k.expect(account, "dgchat.name", "alice")
    k.expect(account, "dgchat.account.action", 2)
    k.expect(account, "dgchat.account.password_length", 8, 0)    # the password itself is never shown
    k.expect(account + 1, "dgchat.type", "0x84")
    k.expect(account + 1, "dgchat.notice_kind", 19)
    k.expect(account + 1, "dgchat.name", "alice")
    k.expect(account + 2, "dgchat.type", "0x93")
    k.expect(account + 2, "dgchat.from", "alice")
    k.expect(account + 2, "dgchat.message_id", 1)
    k.expect(account + 2, "dgchat.time", 1790000000000)
    k.expect_contains(account + 2, "_ws.col.Info", "SEALED_PAST_MESSAGE from alice #1: 119 sealed bytes")
    check_vectors_match_specs(k)
    malformed = sorted(n for n, row in rows.items() if row["_ws.malformed"])
    # Only the oversized TCP frame, and the DATA vector whose payload "hi" is no chat message.
    if malformed != [42, 46]:
        k.failed.append("frames with _ws.malformed: expected [42, 46], got %s" % malformed)
    else:
        k.passed += 1
    for failure in k.failed:
        print("FAIL " + failure)
    print("synthetic capture: %d frames, %d assertions passed, %d failed"
          % (len(rows), k.passed, len(k.failed)))
    return 1 if k.failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    else:
        sys.exit("usage: dissector-fixture.py write FILE.pcap | check FIELDS.tsv")
