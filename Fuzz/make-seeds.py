#!/usr/bin/env python3
"""Writes .build-fuzz/seeds/<target>/ from the hex vectors in Specs/wire-format.md and Specs/chat-protocol.md,
plus a few hand-written programs for the `connection` and `relay` targets. tools/fuzz.sh --merge-seeds
then keeps in Fuzz/corpus/<target>/ what libFuzzer's -merge=1 finds useful. Run from the repository root."""
import os, re, struct

def vectors(path):
    text = open(path).read()
    out = []
    for match in re.finditer(r"^### (.+?)\n(.*?)```\n(.*?)```", text, re.S | re.M):
        title, hexdump = match.group(1), match.group(3)
        try:
            data = bytes.fromhex(" ".join(hexdump.split()))
        except ValueError:
            continue                      # a diagram or an example, not a vector
        if data:
            out.append((title, data))
    return out

def write(target, name, data):
    folder = os.path.join(".build-fuzz", "seeds", target)
    os.makedirs(folder, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    with open(os.path.join(folder, safe), "wb") as f:
        f.write(data)

def frame(payload):
    return struct.pack(">I", len(payload)) + payload

wire = vectors("Specs/wire-format.md")
chat = vectors("Specs/chat-protocol.md")
client = [(t, d) for t, d in chat if d[0] < 0x80]
relay = [(t, d) for t, d in chat if d[0] >= 0x80]

for title, data in wire:
    write("packet", "raw " + title, b"\x00" + data)
    write("packet", "sealed " + title, b"\x01" + data)
# Section 10's coalesced vector sits under a "## 10." heading, not a "###" one.
section10 = open("Specs/wire-format.md").read().split("## 10. Coalesced datagrams")[-1].split("```")
if len(section10) >= 4:
    write("packet", "raw coalesced ACK and PING", b"\x00" + bytes.fromhex(" ".join(section10[3].split())))
for title, data in client:
    write("client-message", title, data)
for title, data in relay:
    write("relay-message", title, data)
stream = b"".join(frame(d) for _, d in client)
write("frame-decoder", "whole stream", b"\x00\x00" + stream)
write("frame-decoder", "split stream", bytes([6, 1, 2, 3, 4, 7, 30, 0]) + stream)
write("frame-decoder", "too large", b"\x00\x00" + b"\x00\x01\x00\x01" + b"x" * 8)

# connection: ops (see Fuzz/Targets/connection.swift). 0x82 = deliver to client, 0x02 = to server.
HANDSHAKE = bytes([0x02, 0, 0x82, 0, 0x02, 0])
DELIVER_ALL = bytes([0x0F])
def send(to_server, length_class, reliable=True):
    op = 0x80 if to_server else 0x00      # side bit names the receiver's peer: 0x80 = client sends
    if not reliable:
        op |= 0x40
    return bytes([op, length_class])
write("connection", "handshake", HANDSHAKE + DELIVER_ALL)
write("connection", "handshake and chat",
      HANDSHAKE + send(True, 5 << 2) + send(False, 9 << 2) + DELIVER_ALL + DELIVER_ALL + bytes([0x09]) + DELIVER_ALL)
write("connection", "two fragment message with loss",
      HANDSHAKE + DELIVER_ALL + bytes([0x80, 0x01, 0x09, 0x00]) + bytes([0x05, 0x00]) + DELIVER_ALL
      + bytes([0x09]) + DELIVER_ALL + bytes([0x09]) + DELIVER_ALL)
write("connection", "unreliable and reorder",
      HANDSHAKE + DELIVER_ALL + send(True, 8 << 2, False) + send(True, 8 << 2) + bytes([0x02, 1, 0x02, 0]) + DELIVER_ALL)
# A forged DATA after the handshake (fragment 0 of 1 of message 0: harmless).
write("connection", "forged data",
      HANDSHAKE + DELIVER_ALL + bytes([0x0A, 0, 0, 0, 0, 0, 0, 0, 1, 10, 0x41]))

# relay: op low nibble = instruction, top 2 bits = endpoint.
def hello(name_index, session=1):
    return bytes([0, session, name_index, 1, 0, 3])        # kind 0 = HELLO, session, name, 1 room (#lobby), text ""
def say(text_mode=0):
    return bytes([2, text_mode, 0, 1, 0])                  # kind 2 = SAY "hi" in #lobby, id 1, no flags
relay_udp = bytes([0x00, 1]) + bytes([0x01]) + hello(0) + bytes([0x0D]) + bytes([0x01]) + say() + bytes([0x0D, 0x0D])
write("relay", "udp join and say", relay_udp)
relay_tcp = bytes([0x46]) + bytes([0x47]) + hello(1) + bytes([0x47]) + say() + bytes([0x47, 7, 3]) + bytes([0x47, 8, 3, 0])
write("relay", "tcp join and say", relay_tcp)
write("relay", "udp and tcp chat", relay_udp + relay_tcp + bytes([0x01]) + say() + bytes([0x0C, 0x40]))
write("relay", "shutdown", relay_udp + relay_tcp + bytes([0x0F, 0x5D, 0x0D, 0x0D]))
print("seeds written:", {t: len(os.listdir(os.path.join(".build-fuzz/seeds", t))) for t in os.listdir(".build-fuzz/seeds")})
