-- Wireshark dissector for Datagram Chat (Specs/wire-format.md and Specs/chat-protocol.md).
--
--   dgram      the Datagram packet over UDP: header, acknowledgement bitfield expanded into the
--              packet numbers it acknowledges, CRC-32C verified, DATA/HELLO/COOKIE/CLOSE bodies,
--              and which DATA packets retransmit a message first sent in another packet.
--   dgramtcp   the TCP framing: a 4-byte big-endian length, then one chat message; frames split
--              across segments are reassembled, several frames in one segment are all decoded.
--   dgchat     the chat message inside a whole DATA message (fragment count 1, or reassembled)
--              or a TCP frame.
--
-- Use: wireshark -X lua_script:tools/datagram-chat.lua capture.pcapng
--      tshark -X lua_script:tools/datagram-chat.lua -r capture.pcapng -Y dgchat
-- The port (UDP and TCP, default 9000) is the preference "dgram.port"
-- (tshark: -o dgram.port:9100). On other ports, UDP datagrams are recognised by their magic 0xDA7A
-- and TCP streams by their first frame, a client's HELLO.

local bit = bit32 or bit

-------------------------------------------------------------------------------- tables
local packet_types = {
    [0x01] = "DATA", [0x02] = "ACK", [0x03] = "PING", [0x04] = "CLOSE", [0x05] = "RESET",
    [0x10] = "HELLO", [0x11] = "COOKIE", [0x12] = "WELCOME", [0x13] = "FINISH",
    [0x14] = "PATH_CHALLENGE", [0x15] = "PATH_RESPONSE",
}
-- Sealed sessions (wire format section 10): the types sealed once the keys exist, and the
-- connections seen to handshake with Noise (an 80-byte HELLO, a 128-byte WELCOME or a FINISH).
local sealed_types = { [0x01] = true, [0x02] = true, [0x03] = true, [0x04] = true, [0x14] = true, [0x15] = true }
local sealed_connections = {}
local TAG_SIZE = 16
local close_reasons = {
    [0] = "normal", [1] = "idle timeout", [2] = "protocol error",
    [3] = "server shutting down", [4] = "refused", [5] = "encryption required",
}
local channels = { [0] = "reliable-ordered", [1] = "unreliable", [2] = "bulk" }
local checksum_statuses = { [0] = "Bad", [1] = "Good" }

local chat_types = {
    [0x01] = "HELLO", [0x02] = "SAY", [0x03] = "PRIVATE", [0x04] = "JOIN_ROOM",
    [0x05] = "PART_ROOM", [0x06] = "LIST_ROOMS", [0x07] = "WHO", [0x08] = "NICK",
    [0x09] = "QUIT", [0x0A] = "HEARTBEAT", [0x0B] = "MODERATE", [0x0C] = "JOIN_ROOM_KEY",
    [0x0E] = "WHOIS", [0x0F] = "SEALED_PRIVATE",
    [0x81] = "WELCOME", [0x82] = "MESSAGE", [0x83] = "PRIVATE_MESSAGE", [0x84] = "NOTICE",
    [0x85] = "ERROR", [0x86] = "ROOM_LIST", [0x87] = "WHO_LIST", [0x88] = "HEARTBEAT_ECHO",
    [0x89] = "RECEIVED", [0x8A] = "BAN_LIST",
    [0x8C] = "WHOIS_REPLY", [0x8D] = "SEALED_PRIVATE_MESSAGE",
    -- File transfer (chat-protocol.md section 4.12).
    [0x18] = "FILE_OFFER", [0x19] = "FILE_ACCEPT", [0x1A] = "FILE_CANCEL", [0x1B] = "FILE_CHUNK",
    [0x1C] = "FILE_CONFIRM", [0x1D] = "FILE_DONE",
    [0x98] = "FILE_OFFERED", [0x99] = "FILE_ACCEPTED", [0x9A] = "FILE_CANCELLED", [0x9B] = "FILE_CHUNK",
    [0x9C] = "FILE_CREDIT", [0x9D] = "FILE_DONE",
    [0x11] = "HISTORY", [0x12] = "RECEIPT", [0x90] = "HISTORY_LINE", [0x91] = "STORED_UP_TO", [0x92] = "DELIVERED",
    [0x93] = "SEALED_PAST_MESSAGE",
    [0x13] = "ACCOUNT",
}
local account_actions = { [1] = "register", [2] = "identify", [3] = "unregister", [4] = "password", [5] = "drop" }
local file_cancel_reasons = {
    [0] = "rejected", [1] = "cancelled", [2] = "expired", [3] = "interrupted", [4] = "failed", [5] = "tooLarge", [6] = "refused",
}
local file_results = { [0] = "verified", [1] = "mismatch" }
local notice_kinds = {
    [1] = "joined", [2] = "left", [3] = "quit", [4] = "timedOut", [5] = "nickChanged",
    [6] = "roomJoined", [7] = "roomParted", [8] = "serverShutdown", [9] = "sessionResumed", [10] = "rateLimited",
    [11] = "moderation", [12] = "topic", [13] = "killed", [18] = "account", [19] = "storedOffline",
}
local error_codes = {
    [1] = "nameTaken", [2] = "invalidName", [3] = "noSuchUser", [4] = "notInRoom",
    [5] = "messageTooLarge", [6] = "serverFull", [7] = "notJoined", [8] = "badRequest",
    [9] = "unsupportedVersion", [10] = "invalidRoom", [11] = "tooManyRooms",
    [12] = "notOperator", [13] = "banned", [14] = "inviteOnly", [15] = "badKey", [16] = "cannotSpeak",
    [18] = "nameKeyMismatch", [19] = "noIdentityKey",
    [21] = "nameRegistered", [22] = "badPassword", [23] = "tooManyAttempts", [24] = "notRegistered", [25] = "mailboxFull",
    [26] = "encryptionRequired",
}
local moderation_actions = {
    [1] = "op", [2] = "deop", [3] = "voice", [4] = "devoice", [5] = "mute", [6] = "unmute", [7] = "kick",
    [8] = "ban", [9] = "unban", [10] = "bans", [11] = "topic", [12] = "mode", [13] = "invite", [14] = "kill", [15] = "oper",
}
local transports = { [0] = "udp", [1] = "tcp" }

local HEADER_SIZE = 32
local MAXIMUM_DATAGRAM = 1200
local MAXIMUM_FRAGMENT_PAYLOAD = 1158
local DATA_FIELDS_SIZE = 10
local COOKIE_SIZE = 16
local MAXIMUM_FRAME_PAYLOAD = 65536

-------------------------------------------------------------------------------- protocols and fields
local dgram = Proto("dgram", "Datagram reliable UDP protocol")
local dgramtcp = Proto("dgramtcp", "Datagram Chat TCP framing")
local dgchat = Proto("dgchat", "Datagram Chat message")

local F = {
    magic = ProtoField.uint16("dgram.magic", "Magic", base.HEX),
    version = ProtoField.uint8("dgram.version", "Version", base.DEC),
    type = ProtoField.uint8("dgram.type", "Type", base.HEX, packet_types),
    connection_id = ProtoField.uint32("dgram.connection_id", "Connection ID", base.HEX),
    packet_number = ProtoField.uint32("dgram.packet_number", "Packet Number", base.DEC),
    largest_acknowledged = ProtoField.uint32("dgram.largest_acknowledged", "Largest Acknowledged", base.DEC),
    ack_bitfield = ProtoField.uint64("dgram.ack_bitfield", "Acknowledgement Bitfield", base.HEX),
    acknowledged = ProtoField.uint32("dgram.acknowledged", "Acknowledges packet", base.DEC),
    acknowledged_count = ProtoField.uint32("dgram.acknowledged_count", "Packets acknowledged", base.DEC),
    ack_delay = ProtoField.uint16("dgram.ack_delay", "Ack Delay (units of 8 us)", base.DEC),
    ack_delay_us = ProtoField.uint32("dgram.ack_delay_us", "Ack Delay (us)", base.DEC),
    flags = ProtoField.uint8("dgram.flags", "Flags", base.HEX),
    flag_ack = ProtoField.bool("dgram.flags.ack", "A: acknowledgement fields valid", 8, nil, 0x01),
    flag_key_phase = ProtoField.bool("dgram.flags.key_phase", "K: key phase (sealed packets)", 8, nil, 0x02),
    flag_unused = ProtoField.uint8("dgram.flags.unused", "Unused bits (must be 0)", base.HEX, nil, 0xFC),
    sealed = ProtoField.bool("dgram.sealed", "Sealed (ChaCha20-Poly1305; body not readable without the keys)"),
    ciphertext = ProtoField.bytes("dgram.sealed.ciphertext", "Sealed body"),
    tag = ProtoField.bytes("dgram.sealed.tag", "Authentication tag"),
    noise_message = ProtoField.bytes("dgram.noise.message", "Noise handshake message"),
    noise_index = ProtoField.uint8("dgram.noise.index", "Noise XX message", base.DEC),
    path_data = ProtoField.bytes("dgram.path.data", "Path challenge data"),
    reset_token = ProtoField.bytes("dgram.reset.token", "Reset token"),
    reserved = ProtoField.uint8("dgram.reserved", "Reserved", base.HEX),
    checksum = ProtoField.uint32("dgram.checksum", "Checksum (CRC-32C)", base.HEX),
    checksum_calculated = ProtoField.uint32("dgram.checksum.calculated", "Calculated checksum", base.HEX),
    checksum_status = ProtoField.uint8("dgram.checksum.status", "Checksum status", base.DEC, checksum_statuses),
    channel = ProtoField.uint8("dgram.data.channel", "Channel", base.DEC, channels),
    data_reserved = ProtoField.uint8("dgram.data.reserved", "Reserved", base.HEX),
    fragment_index = ProtoField.uint16("dgram.data.fragment_index", "Fragment Index", base.DEC),
    message_number = ProtoField.uint32("dgram.data.message_number", "Message Number", base.DEC),
    fragment_count = ProtoField.uint16("dgram.data.fragment_count", "Fragment Count", base.DEC),
    payload = ProtoField.bytes("dgram.data.payload", "Fragment payload"),
    payload_length = ProtoField.uint16("dgram.data.payload_length", "Fragment payload length", base.DEC),
    retransmission = ProtoField.bool("dgram.data.retransmission", "Retransmission"),
    first_packet_number = ProtoField.uint32("dgram.data.first_packet_number", "First sent in packet number", base.DEC),
    first_frame = ProtoField.framenum("dgram.data.first_frame", "First sent in frame"),
    duplicate = ProtoField.bool("dgram.duplicate", "Duplicate (same packet number seen before)"),
    duplicate_frame = ProtoField.framenum("dgram.duplicate_of", "Duplicate of frame"),
    reassembled_in = ProtoField.framenum("dgram.data.reassembled_in", "Message reassembled in frame"),
    cookie = ProtoField.bytes("dgram.cookie", "Cookie"),
    cookie_empty = ProtoField.bool("dgram.cookie.empty", "Empty cookie (first HELLO)"),
    cookie_issue_time = ProtoField.uint64("dgram.cookie.issue_time", "Issue time (ms since server origin)", base.DEC),
    cookie_mac = ProtoField.uint64("dgram.cookie.mac", "MAC (SipHash-2-4)", base.HEX),
    close_reason = ProtoField.uint8("dgram.close.reason", "Reason", base.DEC, close_reasons),
    trailing = ProtoField.bytes("dgram.trailing", "Unexpected bytes after the body"),
    coalesced_length = ProtoField.uint16("dgram.coalesced.length", "Coalesced packet length", base.DEC),
}
dgram.fields = F

local T = {
    length = ProtoField.uint32("dgramtcp.length", "Payload Length", base.DEC),
    noise_message = ProtoField.bytes("dgramtcp.noise.message", "Noise handshake message"),
    noise_index = ProtoField.uint8("dgramtcp.noise.index", "Noise XX message", base.DEC),
    sealed = ProtoField.bytes("dgramtcp.sealed", "Sealed chat message (ciphertext and tag)"),
}
-- Sealed streams (chat-protocol section 5.1): the first frame is 0x00 and Noise message 1; the next
-- two frames are messages 2 and 3; every later frame is sealed. Labels are fixed on the first pass.
local tcp_sealed_streams = {}
local tcp_frame_labels = {}
local function stream_key(pinfo)
    local a = tostring(pinfo.src) .. ":" .. tostring(pinfo.src_port)
    local b = tostring(pinfo.dst) .. ":" .. tostring(pinfo.dst_port)
    if a < b then return a .. "-" .. b end
    return b .. "-" .. a
end
dgramtcp.fields = T

local C = {
    type = ProtoField.uint8("dgchat.type", "Type", base.HEX, chat_types),
    version = ProtoField.uint8("dgchat.version", "Protocol version", base.DEC),
    session_secret = ProtoField.uint64("dgchat.session_secret", "Session secret (client to relay only)", base.HEX),
    name = ProtoField.string("dgchat.name", "Name"),
    room = ProtoField.string("dgchat.room", "Room"),
    rooms = ProtoField.uint8("dgchat.rooms", "Rooms", base.DEC),
    software = ProtoField.string("dgchat.software", "Software"),
    message_id = ProtoField.uint64("dgchat.message_id", "Message ID", base.DEC),
    flags = ProtoField.uint8("dgchat.flags", "Flags", base.HEX),
    flag_action = ProtoField.bool("dgchat.flags.action", "Action (/me)", 8, nil, 0x01),
    text = ProtoField.string("dgchat.text", "Text"),
    to = ProtoField.string("dgchat.to", "To"),
    from = ProtoField.string("dgchat.from", "From"),
    sender_id = ProtoField.uint64("dgchat.sender_id", "Sender ID (relay-assigned)", base.HEX),
    reason = ProtoField.string("dgchat.reason", "Reason"),
    timestamp = ProtoField.uint64("dgchat.timestamp", "Timestamp (us, client clock)", base.DEC),
    rtt = ProtoField.uint32("dgchat.rtt", "RTT (us, 0xFFFFFFFF unknown)", base.DEC),
    default_room = ProtoField.string("dgchat.default_room", "Default room"),
    peer_timeout = ProtoField.uint32("dgchat.peer_timeout", "Peer timeout (ms)", base.DEC),
    notice_kind = ProtoField.uint8("dgchat.notice_kind", "Notice kind", base.DEC, notice_kinds),
    endpoint = ProtoField.string("dgchat.endpoint", "Endpoint"),
    detail = ProtoField.string("dgchat.detail", "Detail"),
    error_code = ProtoField.uint8("dgchat.error_code", "Error code", base.DEC, error_codes),
    refused_id = ProtoField.uint64("dgchat.refused_id", "Refused message ID (0: none)", base.DEC),
    room_count = ProtoField.uint16("dgchat.room_count", "Room count", base.DEC),
    member_count = ProtoField.uint32("dgchat.member_count", "Members", base.DEC),
    user_count = ProtoField.uint16("dgchat.user_count", "User count", base.DEC),
    transport = ProtoField.uint8("dgchat.transport", "Transport", base.DEC, transports),
    highest_id = ProtoField.uint64("dgchat.highest_id", "Highest message ID handled", base.DEC),
    new_name = ProtoField.string("dgchat.new_name", "New name"),
    entry = ProtoField.none("dgchat.entry", "Entry"),
    action = ProtoField.uint8("dgchat.action", "Moderation action", base.DEC, moderation_actions),
    target = ProtoField.string("dgchat.target", "Target (name, address prefix, mask or mode)"),
    duration = ProtoField.uint32("dgchat.duration", "Duration (s, 0: until lifted)", base.DEC),
    key = ProtoField.string("dgchat.key", "Room key"),
    ban_count = ProtoField.uint16("dgchat.ban_count", "Ban count", base.DEC),
    mask = ProtoField.string("dgchat.mask", "Ban mask"),
    set_by = ProtoField.string("dgchat.set_by", "Set by"),
    seconds_left = ProtoField.uint32("dgchat.seconds_left", "Seconds left (0: never expires)", base.DEC),
    asked = ProtoField.string("dgchat.asked", "Name asked"),
    key_length = ProtoField.uint8("dgchat.key_length", "Identity key length (0: none)", base.DEC),
    identity_key = ProtoField.bytes("dgchat.identity_key", "Identity key (X25519 public key)"),
    sealed_length = ProtoField.uint16("dgchat.sealed_length", "Sealed length", base.DEC),
    sealed = ProtoField.bytes("dgchat.sealed", "Sealed message (Noise_X_25519_ChaChaPoly_SHA256; opaque to the relay)"),
    sealed_ephemeral = ProtoField.bytes("dgchat.sealed.ephemeral", "Ephemeral public key"),
    sealed_static = ProtoField.bytes("dgchat.sealed.static", "Sender's static key, encrypted (32 + 16)"),
    sealed_payload = ProtoField.bytes("dgchat.sealed.payload", "Payload, encrypted (sealed id, text, 16-byte tag)"),
    offer_id = ProtoField.uint64("dgchat.file.offer_id", "Offer ID (the sender's)", base.DEC),
    transfer_id = ProtoField.uint64("dgchat.file.transfer_id", "Transfer ID (the relay's)", base.DEC),
    file_target = ProtoField.string("dgchat.file.target", "Target (user or room)"),
    file_name = ProtoField.string("dgchat.file.name", "File name"),
    file_size = ProtoField.uint64("dgchat.file.size", "Size (bytes)", base.DEC),
    file_digest = ProtoField.bytes("dgchat.file.sha256", "SHA-256"),
    file_offset = ProtoField.uint64("dgchat.file.offset", "Offset", base.DEC),
    file_limit = ProtoField.uint64("dgchat.file.limit", "Limit (send no byte at or past it)", base.DEC),
    file_confirmed = ProtoField.uint64("dgchat.file.confirmed", "Confirmed", base.DEC),
    file_expires = ProtoField.uint32("dgchat.file.expires", "Expires in (s)", base.DEC),
    file_reason = ProtoField.uint8("dgchat.file.reason", "Reason", base.DEC, file_cancel_reasons),
    file_result = ProtoField.uint8("dgchat.file.result", "Result", base.DEC, file_results),
    file_by = ProtoField.string("dgchat.file.by", "By"),
    chunk_length = ProtoField.uint16("dgchat.file.chunk_length", "Chunk length", base.DEC),
    chunk = ProtoField.bytes("dgchat.file.chunk", "Chunk"),
    history_count = ProtoField.uint16("dgchat.history_count", "Lines asked for", base.DEC),
    since = ProtoField.uint64("dgchat.since", "Since (ms since the epoch, 0: no limit)", base.DEC),
    time = ProtoField.uint64("dgchat.time", "Said at (ms since the epoch)", base.DEC),
    history_asked = ProtoField.uint8("dgchat.history_asked", "Asked for (1: answers HISTORY, 0: sent on joining)", base.DEC),
    account_action = ProtoField.uint8("dgchat.account.action", "Account action", base.DEC, account_actions),
    password_length = ProtoField.uint16("dgchat.account.password_length", "Password length (the password is not shown)", base.DEC),
}
dgchat.fields = C

local E = {
    bad_checksum = ProtoExpert.new("dgram.checksum.bad", "Bad checksum: a receiver drops this datagram (corruptDropped)",
        expert.group.CHECKSUM, expert.severity.ERROR),
    malformed = ProtoExpert.new("dgram.malformed", "Malformed Datagram packet",
        expert.group.MALFORMED, expert.severity.ERROR),
    retransmission = ProtoExpert.new("dgram.retransmission.expert", "Retransmission of a message in a new packet number",
        expert.group.SEQUENCE, expert.severity.NOTE),
    duplicate = ProtoExpert.new("dgram.duplicate.expert", "Duplicate packet (the network delivered it twice)",
        expert.group.SEQUENCE, expert.severity.NOTE),
}
dgram.experts = E
local CE = {
    malformed = ProtoExpert.new("dgchat.malformed", "Malformed chat message",
        expert.group.MALFORMED, expert.severity.ERROR),
    too_large = ProtoExpert.new("dgramtcp.too_large", "Frame length over 65,536: the receiver closes the stream",
        expert.group.MALFORMED, expert.severity.ERROR),
}
dgchat.experts = CE

dgram.prefs.port = Pref.uint("Port (UDP and TCP)", 9000, "The relay's port, for both transports")

-------------------------------------------------------------------------------- CRC-32C
local crc_table = {}
for i = 0, 255 do
    local value = i
    for _ = 1, 8 do
        if bit.band(value, 1) == 1 then
            value = bit.bxor(bit.rshift(value, 1), 0x82F63B78)   -- 0x1EDC6F41 reflected
        else
            value = bit.rshift(value, 1)
        end
    end
    crc_table[i] = value
end

local function crc32c(bytes)
    local crc = 0xFFFFFFFF
    for i = 1, #bytes do
        local index = bit.band(bit.bxor(crc, bytes:byte(i)), 0xFF)
        crc = bit.bxor(bit.rshift(crc, 8), crc_table[index])
    end
    return bit.bxor(crc, 0xFFFFFFFF)
end

local function datagram_checksum(tvb)
    local raw = tvb:bytes():raw()
    return crc32c(raw:sub(1, 28) .. "\0\0\0\0" .. raw:sub(33))
end

-------------------------------------------------------------------------------- chat messages
-- A cursor over one chat message that never reads past its end: a short field marks the message
-- malformed and every later read returns nil.
local Reader = {}
Reader.__index = Reader

local function new_reader(tvb, tree, offset, limit)
    return setmetatable({ tvb = tvb, tree = tree, offset = offset, limit = limit, ok = true }, Reader)
end

function Reader:take(size, what)
    if not self.ok then return nil end
    if self.offset + size > self.limit then
        self.ok = false
        self.tree:add_proto_expert_info(CE.malformed, "Truncated: " .. what .. " needs " .. size ..
            " bytes, " .. (self.limit - self.offset) .. " left")
        return nil
    end
    local range = self.tvb:range(self.offset, size)
    self.offset = self.offset + size
    return range
end

function Reader:uint(field, size, tree)
    local range = self:take(size, "a " .. size .. "-byte field")
    if not range then return nil end
    local target = tree or self.tree
    target:add(field, range)
    if size == 8 then return range:uint64() end
    return range:uint()
end

function Reader:flags()
    local range = self:take(1, "flags")
    if not range then return nil end
    local item = self.tree:add(C.flags, range)
    item:add(C.flag_action, range)
    return range:uint()
end

function Reader:string(field, tree)
    local length_range = self:take(2, "string length")
    if not length_range then return nil end
    local length = length_range:uint()
    local target = tree or self.tree
    if length == 0 then
        target:add(field, length_range, "")
        return ""
    end
    local range = self:take(length, "string of " .. length .. " bytes")
    if not range then return nil end
    local value = range:string(ENC_UTF_8)
    target:add(field, self.tvb:range(length_range:offset(), 2 + length), value)
    return value
end

-- A `u16` length, then a sealed private message (Specs/noise.md section 6.1): its parts shown, never opened.
-- A `u16` length and a password: only its length is shown.
function Reader:password()
    local length = self:uint(C.password_length, 2)
    if length == nil then return nil end
    if self:take(length, "password of " .. length .. " bytes") == nil then return nil end
    return length
end

-- A `u16` length, then a sealed private message (Specs/noise.md section 6.1): its parts shown, never opened.
function Reader:sealed()
    local length = self:uint(C.sealed_length, 2)
    if length == nil then return nil end
    local range = self:take(length, "sealed message of " .. length .. " bytes")
    if not range then return nil end
    local item = self.tree:add(C.sealed, range)
    if length >= 80 then
        item:add(C.sealed_ephemeral, range:range(0, 32))
        item:add(C.sealed_static, range:range(32, 48))
        if length > 80 then item:add(C.sealed_payload, range:range(80, length - 80)) end
    end
    if length < 104 or length > 4104 then
        item:add_proto_expert_info(CE.malformed, "A sealed private message has 104 to 4,104 bytes, not " .. length)
    end
    return length
end

function Reader:string_list(field, count_field, tree)
    local count = self:uint(count_field, 1, tree)
    local values = {}
    for _ = 1, count or 0 do
        local value = self:string(field, tree)
        if value == nil then break end
        values[#values + 1] = value
    end
    return values
end

local function quoted(text)
    if text == nil then return "?" end
    if #text > 60 then text = text:sub(1, 57) .. "..." end
    return text
end

-- Each decoder reads its fields in the order of chat-protocol.md section 4 and returns a summary.
local chat_decoders = {
    [0x01] = function(r)
        r:uint(C.version, 1); r:uint(C.session_secret, 8)
        local name = r:string(C.name)
        local rooms = r:string_list(C.room, C.rooms)
        r:string(C.software)
        return (name or "?") .. " " .. table.concat(rooms, ",")
    end,
    [0x02] = function(r)
        local room = r:string(C.room); local id = r:uint(C.message_id, 8)
        local flags = r:flags(); local text = r:string(C.text)
        return (room or "?") .. " #" .. tostring(id) .. ((flags and flags % 2 == 1) and " * " or ": ") .. quoted(text)
    end,
    [0x03] = function(r)
        local to = r:string(C.to); local id = r:uint(C.message_id, 8)
        r:flags(); local text = r:string(C.text)
        return "to " .. (to or "?") .. " #" .. tostring(id) .. ": " .. quoted(text)
    end,
    [0x04] = function(r) return r:string(C.room) or "?" end,
    [0x05] = function(r) return r:string(C.room) or "?" end,
    [0x06] = function() return "" end,
    [0x07] = function(r) local room = r:string(C.room); return room == "" and "everyone" or (room or "?") end,
    [0x08] = function(r) return r:string(C.new_name) or "?" end,
    [0x09] = function(r) return quoted(r:string(C.reason)) end,
    [0x0A] = function(r) r:uint(C.timestamp, 8); local rtt = r:uint(C.rtt, 4); return "rtt " .. tostring(rtt) .. " us" end,
    [0x81] = function(r)
        local name = r:string(C.name); local room = r:string(C.default_room); r:uint(C.peer_timeout, 4)
        return (name or "?") .. " in " .. (room or "?")
    end,
    [0x82] = function(r)
        local room = r:string(C.room); local from = r:string(C.from); r:uint(C.sender_id, 8)
        r:uint(C.message_id, 8); local flags = r:flags(); local text = r:string(C.text)
        if flags and flags % 2 == 1 then return (room or "?") .. " * " .. (from or "?") .. " " .. quoted(text) end
        return (room or "?") .. " <" .. (from or "?") .. "> " .. quoted(text)
    end,
    [0x83] = function(r)
        local from = r:string(C.from); r:uint(C.sender_id, 8); r:uint(C.message_id, 8)
        r:flags(); local text = r:string(C.text)
        return "<" .. (from or "?") .. "> " .. quoted(text)
    end,
    [0x84] = function(r)
        local kind = r:uint(C.notice_kind, 1); local name = r:string(C.name); local room = r:string(C.room)
        r:string(C.endpoint); local detail = r:string(C.detail)
        local parts = { notice_kinds[kind] or tostring(kind) }
        for _, part in ipairs({ name or "", room or "" }) do
            if part ~= "" then parts[#parts + 1] = part end
        end
        if detail and detail ~= "" then parts[#parts + 1] = "[" .. quoted(detail) .. "]" end
        return table.concat(parts, " ")
    end,
    [0x85] = function(r)
        local code = r:uint(C.error_code, 1); r:uint(C.refused_id, 8); local text = r:string(C.text)
        return (error_codes[code] or tostring(code)) .. ": " .. quoted(text)
    end,
    [0x86] = function(r)
        local count = r:uint(C.room_count, 2)
        for index = 1, count or 0 do
            if not r.ok then break end
            local entry = r.tree:add(C.entry, r.tvb:range(r.offset, 0)):set_text("Room " .. index)
            r:string(C.room, entry); r:uint(C.member_count, 4, entry)
        end
        return tostring(count) .. " rooms"
    end,
    [0x87] = function(r)
        local room = r:string(C.room); local count = r:uint(C.user_count, 2)
        for index = 1, count or 0 do
            if not r.ok then break end
            local entry = r.tree:add(C.entry, r.tvb:range(r.offset, 0)):set_text("User " .. index)
            r:string(C.name, entry); r:uint(C.transport, 1, entry); r:string(C.endpoint, entry)
            r:uint(C.rtt, 4, entry); r:string_list(C.room, C.rooms, entry)
        end
        return (room == "" and "everyone" or (room or "?")) .. ": " .. tostring(count) .. " users"
    end,
    [0x88] = function(r) r:uint(C.timestamp, 8); return "" end,
    [0x89] = function(r) return "up to #" .. tostring(r:uint(C.highest_id, 8)) end,
    [0x0B] = function(r)
        local action = r:uint(C.action, 1); local room = r:string(C.room); local target = r:string(C.target)
        local duration = r:uint(C.duration, 4); local text = r:string(C.text)
        local parts = { moderation_actions[action] or tostring(action) }
        for _, part in ipairs({ room or "", target or "" }) do
            if part ~= "" then parts[#parts + 1] = part end
        end
        if duration and duration > 0 then parts[#parts + 1] = "for " .. tostring(duration) .. " s" end
        if text and text ~= "" then parts[#parts + 1] = "[" .. quoted(text) .. "]" end
        return table.concat(parts, " ")
    end,
    [0x0C] = function(r) local room = r:string(C.room); r:string(C.key); return (room or "?") .. " (with key)" end,
    [0x0E] = function(r) return r:string(C.name) or "?" end,
    [0x0F] = function(r)
        local to = r:string(C.to); local id = r:uint(C.message_id, 8); local length = r:sealed()
        return "to " .. (to or "?") .. " #" .. tostring(id) .. ": " .. tostring(length) .. " sealed bytes"
    end,
    [0x8C] = function(r)
        local asked = r:string(C.asked); local name = r:string(C.name); r:uint(C.transport, 1)
        local length = r:uint(C.key_length, 1)
        if length ~= nil and length ~= 0 then
            if length ~= 32 then
                r.tree:add_proto_expert_info(CE.malformed, "An identity key has 0 or 32 bytes, not " .. length)
            end
            local range = r:take(length, "identity key")
            if range then r.tree:add(C.identity_key, range) end
        end
        if name == "" then return (asked or "?") .. ": nobody" end
        return (name or "?") .. ((length == 0) and " (no key)" or " (key)")
    end,
    [0x8D] = function(r)
        local from = r:string(C.from); r:uint(C.sender_id, 8); local id = r:uint(C.message_id, 8)
        local length = r:sealed()
        return "from " .. (from or "?") .. " #" .. tostring(id) .. ": " .. tostring(length) .. " sealed bytes"
    end,
    [0x93] = function(r)
        local from = r:string(C.from); r:uint(C.sender_id, 8); local id = r:uint(C.message_id, 8); r:uint(C.time, 8)
        local length = r:sealed()
        return "from " .. (from or "?") .. " #" .. tostring(id) .. ": " .. tostring(length) .. " sealed bytes (kept)"
    end,
    [0x8A] = function(r)
        local room = r:string(C.room); local count = r:uint(C.ban_count, 2)
        for index = 1, count or 0 do
            if not r.ok then break end
            local entry = r.tree:add(C.entry, r.tvb:range(r.offset, 0)):set_text("Ban " .. index)
            r:string(C.mask, entry); r:string(C.set_by, entry); r:uint(C.seconds_left, 4, entry); r:string(C.reason, entry)
        end
        return (room == "" and "relay" or (room or "?")) .. ": " .. tostring(count) .. " bans"
    end,
    [0x11] = function(r)
        local room = r:string(C.room); local count = r:uint(C.history_count, 2); local since = r:uint(C.since, 8)
        return (room or "?") .. " last " .. tostring(count) .. ((since and tostring(since) ~= "0") and (" since " .. tostring(since)) or "")
    end,
    [0x12] = function(r) r:uint(C.sender_id, 8); return "shown #" .. tostring(r:uint(C.message_id, 8)) end,
    [0x13] = function(r)
        local action = r:uint(C.account_action, 1); local name = r:string(C.name); r:password(); r:password()
        return (account_actions[action] or tostring(action)) .. ((name and name ~= "") and (" " .. name) or "")
    end,
    [0x92] = function(r) local to = r:string(C.to); return "#" .. tostring(r:uint(C.message_id, 8)) .. " delivered to " .. (to or "?") end,
    [0x91] = function(r) return "saved up to #" .. tostring(r:uint(C.highest_id, 8)) end,
    [0x90] = function(r)
        local room = r:string(C.room); local from = r:string(C.from); r:uint(C.sender_id, 8)
        r:uint(C.message_id, 8); r:flags(); local text = r:string(C.text); r:uint(C.time, 8); r:uint(C.history_asked, 1)
        return (room or "?") .. " <" .. (from or "?") .. "> " .. quoted(text) .. " (history)"
    end,
}

-- File transfer (chat-protocol.md section 4.12).
local function file_chunk(r)
    local transfer = r:uint(C.transfer_id, 8); local offset = r:uint(C.file_offset, 8)
    local length = r:uint(C.chunk_length, 2)
    if length and length > 16384 then
        r.ok = false
        r.tree:add_proto_expert_info(CE.malformed, "Chunk of " .. length .. " bytes: over 16384")
        return "transfer " .. tostring(transfer)
    end
    local range = length and length > 0 and r:take(length, "chunk of " .. length .. " bytes")
    if range then r.tree:add(C.chunk, range) end
    return "transfer " .. tostring(transfer) .. " bytes " .. tostring(offset) .. "+" .. tostring(length)
end
local function file_digest(r)
    local range = r:take(32, "SHA-256")
    if range then r.tree:add(C.file_digest, range) end
end
chat_decoders[0x18] = function(r)
    local id = r:uint(C.offer_id, 8); local target = r:string(C.file_target); local name = r:string(C.file_name)
    local size = r:uint(C.file_size, 8); file_digest(r)
    return "offer " .. tostring(id) .. " to " .. (target or "?") .. ": " .. quoted(name) .. " (" .. tostring(size) .. " bytes)"
end
chat_decoders[0x19] = function(r)
    local transfer = r:uint(C.transfer_id, 8); local offset = r:uint(C.file_offset, 8)
    return "transfer " .. tostring(transfer) .. " from " .. tostring(offset)
end
chat_decoders[0x1A] = function(r)
    local id = r:uint(C.transfer_id, 8); local reason = r:uint(C.file_reason, 1); local text = r:string(C.text)
    return tostring(id) .. " " .. (file_cancel_reasons[reason] or tostring(reason)) .. ((text and text ~= "") and (": " .. quoted(text)) or "")
end
chat_decoders[0x1B] = file_chunk
chat_decoders[0x1C] = function(r)
    local transfer = r:uint(C.transfer_id, 8); local offset = r:uint(C.file_offset, 8)
    return "transfer " .. tostring(transfer) .. " written to " .. tostring(offset)
end
chat_decoders[0x1D] = function(r)
    local transfer = r:uint(C.transfer_id, 8); local result = r:uint(C.file_result, 1)
    return "transfer " .. tostring(transfer) .. " " .. (file_results[result] or tostring(result))
end
chat_decoders[0x98] = function(r)
    local transfer = r:uint(C.transfer_id, 8); local from = r:string(C.from); r:string(C.file_target)
    local name = r:string(C.file_name); local size = r:uint(C.file_size, 8); file_digest(r); r:uint(C.file_expires, 4)
    return "transfer " .. tostring(transfer) .. " from " .. (from or "?") .. ": " .. quoted(name) .. " (" .. tostring(size) .. " bytes)"
end
chat_decoders[0x99] = function(r)
    r:uint(C.offer_id, 8); local transfer = r:uint(C.transfer_id, 8); local by = r:string(C.file_by)
    local offset = r:uint(C.file_offset, 8); local limit = r:uint(C.file_limit, 8)
    return "transfer " .. tostring(transfer) .. " by " .. (by or "?") .. " from " .. tostring(offset) .. ", limit " .. tostring(limit)
end
chat_decoders[0x9A] = function(r)
    r:uint(C.offer_id, 8); local transfer = r:uint(C.transfer_id, 8); local reason = r:uint(C.file_reason, 1)
    local by = r:string(C.file_by); local text = r:string(C.text)
    return "transfer " .. tostring(transfer) .. " " .. (file_cancel_reasons[reason] or tostring(reason))
        .. ((by and by ~= "") and (" by " .. by) or "") .. ((text and text ~= "") and (": " .. quoted(text)) or "")
end
chat_decoders[0x9B] = file_chunk
chat_decoders[0x9C] = function(r)
    local transfer = r:uint(C.transfer_id, 8); local confirmed = r:uint(C.file_confirmed, 8); local limit = r:uint(C.file_limit, 8)
    return "transfer " .. tostring(transfer) .. " confirmed " .. tostring(confirmed) .. ", limit " .. tostring(limit)
end
chat_decoders[0x9D] = function(r)
    local transfer = r:uint(C.transfer_id, 8); local by = r:string(C.file_by); local result = r:uint(C.file_result, 1)
    return "transfer " .. tostring(transfer) .. " " .. (file_results[result] or tostring(result)) .. " by " .. (by or "?")
end

-- Decodes one chat message occupying all of `tvb`; returns a one-line summary for the Info column.
local function dissect_chat(tvb, pinfo, tree)
    local subtree = tree:add(dgchat, tvb:range())
    if tvb:len() == 0 then
        subtree:add_proto_expert_info(CE.malformed, "Empty chat message")
        return "empty chat message"
    end
    local code = tvb:range(0, 1):uint()
    subtree:add(C.type, tvb:range(0, 1))
    local name = chat_types[code]
    local decoder = chat_decoders[code]
    if decoder == nil then
        subtree:add_proto_expert_info(CE.malformed, string.format("Unknown chat message type 0x%02x", code))
        return string.format("unknown chat type 0x%02x", code)
    end
    local reader = new_reader(tvb, subtree, 1, tvb:len())
    local summary = decoder(reader)
    if reader.ok and reader.offset ~= tvb:len() then
        subtree:add_proto_expert_info(CE.malformed, (tvb:len() - reader.offset) .. " bytes after the last field")
    end
    local line = name .. ((summary and summary ~= "") and (" " .. summary) or "")
    subtree:append_text(": " .. line)
    return line
end

-------------------------------------------------------------------------------- analysis state
-- Filled on the first pass, read on later ones (Wireshark) or at once (tshark's single pass).
local first_sent = {}      -- connection/direction/channel/message/fragment -> { frame, packet_number }
local seen_packets = {}    -- connection/direction/packet number -> first frame
local frame_notes = {}     -- frame -> { first = {...}, duplicate_of = frame }
local fragments = {}       -- message key -> { count, parts = {index -> bytes}, done = frame }
local reassembled = {}     -- frame -> ByteArray of a whole message completed in that frame

function dgram.init()
    first_sent, seen_packets, frame_notes, fragments, reassembled = {}, {}, {}, {}, {}
end

local function direction_key(pinfo, connection_id)
    return tostring(pinfo.src) .. ":" .. pinfo.src_port .. ">" .. tostring(pinfo.dst) .. ":" ..
        pinfo.dst_port .. "/" .. connection_id
end

local function analyse(pinfo, direction, packet_number, data)
    if pinfo.visited then return frame_notes[pinfo.number] or {} end
    local note = {}
    local packet_key = direction .. "/p" .. packet_number
    local previous = seen_packets[packet_key]
    if previous ~= nil then
        note.duplicate_of = previous
    else
        seen_packets[packet_key] = pinfo.number
        if data then
            local key = direction .. "/c" .. data.channel .. "/m" .. data.message .. "/f" .. data.index
            local first = first_sent[key]
            if first == nil then
                first_sent[key] = { frame = pinfo.number, packet_number = packet_number }
            else
                note.first = first
            end
        end
    end
    frame_notes[pinfo.number] = note
    return note
end

-- Collects the fragments of a multi-fragment message; returns the whole message when this
-- frame completes it.
local function collect(pinfo, direction, data, payload)
    if pinfo.visited then return reassembled[pinfo.number] end
    local key = direction .. "/c" .. data.channel .. "/m" .. data.message
    local entry = fragments[key]
    if entry == nil then
        entry = { count = data.count, parts = {}, have = 0 }
        fragments[key] = entry
    end
    if entry.done or entry.count ~= data.count or entry.parts[data.index] then return nil end
    entry.parts[data.index] = payload
    entry.have = entry.have + 1
    if entry.have < entry.count then return nil end
    local whole = ByteArray.new()
    for index = 0, entry.count - 1 do whole:append(entry.parts[index]) end
    entry.done = pinfo.number
    reassembled[pinfo.number] = whole
    return whole
end

-------------------------------------------------------------------------------- Datagram over UDP
local function add_acknowledgements(tree, tvb, flags)
    local largest = tvb:range(12, 4):uint()
    local high, low = tvb:range(16, 4):uint(), tvb:range(20, 4):uint()
    local is_valid = bit.band(flags, 1) == 1
    tree:add(F.largest_acknowledged, tvb:range(12, 4)):append_text(is_valid and "" or " (not valid: flag A clear)")
    local field = tree:add(F.ack_bitfield, tvb:range(16, 8))
    if not is_valid then return nil end
    local acknowledged = { largest }
    for index = 0, 63 do
        local word, shift = low, index
        if index >= 32 then word, shift = high, index - 32 end
        if bit.band(bit.rshift(word, shift), 1) == 1 then
            acknowledged[#acknowledged + 1] = (largest - 1 - index) % 4294967296
        end
    end
    local list = tree:add(F.acknowledged_count, tvb:range(12, 12), #acknowledged)
    list:set_generated()
    list:append_text(": " .. table.concat(acknowledged, ", ", 1, math.min(#acknowledged, 12)) ..
        (#acknowledged > 12 and ", ..." or ""))
    for _, packet_number in ipairs(acknowledged) do
        list:add(F.acknowledged, tvb:range(12, 12), packet_number):set_generated()
    end
    field:append_text(" (" .. (#acknowledged - 1) .. " below the largest)")
    return largest
end

local function add_checksum(tree, tvb)
    local received = tvb:range(28, 4):uint()
    local calculated = datagram_checksum(tvb)
    local item = tree:add(F.checksum, tvb:range(28, 4))
    local is_good = received == calculated
    item:add(F.checksum_calculated, tvb:range(28, 4), calculated):set_generated()
    item:add(F.checksum_status, tvb:range(28, 4), is_good and 1 or 0):set_generated()
    if is_good then
        item:append_text(" [correct]")
    else
        item:append_text(string.format(" [incorrect, should be 0x%08x]", calculated))
        item:add_proto_expert_info(E.bad_checksum)
    end
    return is_good
end

local function dissect_cookie(tvb, tree, type_name)
    if tvb:len() < HEADER_SIZE + COOKIE_SIZE then
        tree:add_proto_expert_info(E.malformed, type_name .. " shorter than 48 bytes")
        return ""
    end
    local range = tvb:range(HEADER_SIZE, COOKIE_SIZE)
    local cookie = tree:add(F.cookie, range)
    local is_empty = range:bytes():tohex() == string.rep("0", 32)
    cookie:add(F.cookie_empty, range, is_empty):set_generated()
    if is_empty then return " cookie empty" end
    cookie:add(F.cookie_issue_time, tvb:range(HEADER_SIZE, 8))
    cookie:add(F.cookie_mac, tvb:range(HEADER_SIZE + 8, 8))
    return " cookie issued at " .. tostring(tvb:range(HEADER_SIZE, 8):uint64()) .. " ms"
end

local function dissect_data(tvb, pinfo, tree, root, direction, packet_number)
    if tvb:len() < HEADER_SIZE + DATA_FIELDS_SIZE then
        tree:add_proto_expert_info(E.malformed, "DATA shorter than 42 bytes")
        return ""
    end
    local base = HEADER_SIZE
    local data = {
        channel = tvb:range(base, 1):uint(),
        index = tvb:range(base + 2, 2):uint(),
        message = tvb:range(base + 4, 4):uint(),
        count = tvb:range(base + 8, 2):uint(),
    }
    local body = tree:add(tvb:range(base), "DATA body")
    body:add(F.channel, tvb:range(base, 1))
    body:add(F.data_reserved, tvb:range(base + 1, 1))
    body:add(F.fragment_index, tvb:range(base + 2, 2))
    body:add(F.message_number, tvb:range(base + 4, 4))
    body:add(F.fragment_count, tvb:range(base + 8, 2))
    local payload_length = tvb:len() - base - DATA_FIELDS_SIZE
    body:add(F.payload_length, tvb:range(base + 8, 2), payload_length):set_generated()
    if payload_length > 0 then body:add(F.payload, tvb:range(base + DATA_FIELDS_SIZE)) end
    if channels[data.channel] == nil or data.count < 1 or data.count > 57 or data.index >= data.count then
        body:add_proto_expert_info(E.malformed, "Channel, fragment index or fragment count out of range")
        return string.format(" msg=%d (invalid)", data.message)
    end
    if payload_length > MAXIMUM_FRAGMENT_PAYLOAD or
        (data.index < data.count - 1 and payload_length ~= MAXIMUM_FRAGMENT_PAYLOAD) then
        body:add_proto_expert_info(E.malformed, "Fragment payload length breaks the rule: 1158 bytes except the last")
        return string.format(" msg=%d (invalid fragment length)", data.message)
    end

    local note = analyse(pinfo, direction, packet_number, data)
    if note.first then
        local item = body:add(F.retransmission, tvb:range(base + 4, 4), true)
        item:set_generated()
        item:add_proto_expert_info(E.retransmission)
        body:add(F.first_packet_number, tvb:range(base + 4, 4), note.first.packet_number):set_generated()
        body:add(F.first_frame, tvb:range(base + 4, 4), note.first.frame):set_generated()
    end

    local summary = string.format(" ch=%d msg=%d", data.channel, data.message)
    if data.count > 1 then summary = summary .. string.format(" frag %d/%d", data.index + 1, data.count) end
    if note.first then summary = summary .. " [retransmission of pn " .. note.first.packet_number .. "]" end

    local payload = payload_length > 0 and tvb:range(base + DATA_FIELDS_SIZE):bytes() or ByteArray.new()
    local whole
    if data.count == 1 then
        whole = payload_length > 0 and tvb:range(base + DATA_FIELDS_SIZE):tvb() or ByteArray.new():tvb("Empty message")
    else
        local bytes = collect(pinfo, direction, data, payload)
        if bytes then whole = bytes:tvb("Reassembled message") end
    end
    if whole then summary = summary .. " " .. dissect_chat(whole, pinfo, root) end
    return summary
end

local last_info = ""

local function dissect_packet(tvb, pinfo, root)
    local length = tvb:len()
    if length < HEADER_SIZE or tvb:range(0, 2):uint() ~= 0xDA7A then return 0 end
    pinfo.cols.protocol = "Datagram"
    local tree = root:add(dgram, tvb:range())
    tree:add(F.magic, tvb:range(0, 2))
    tree:add(F.version, tvb:range(2, 1))
    local type_code = tvb:range(3, 1):uint()
    local type_name = packet_types[type_code] or string.format("0x%02x", type_code)
    tree:add(F.type, tvb:range(3, 1))
    local connection_id = tvb:range(4, 4):uint()
    tree:add(F.connection_id, tvb:range(4, 4))
    local packet_number = tvb:range(8, 4):uint()
    tree:add(F.packet_number, tvb:range(8, 4))
    local flags = tvb:range(26, 1):uint()
    local largest = add_acknowledgements(tree, tvb, flags)
    local delay = tree:add(F.ack_delay, tvb:range(24, 2))
    delay:add(F.ack_delay_us, tvb:range(24, 2), tvb:range(24, 2):uint() * 8):set_generated()
    local flag_tree = tree:add(F.flags, tvb:range(26, 1))
    flag_tree:add(F.flag_ack, tvb:range(26, 1))
    flag_tree:add(F.flag_key_phase, tvb:range(26, 1))
    flag_tree:add(F.flag_unused, tvb:range(26, 1))
    tree:add(F.reserved, tvb:range(27, 1))
    local is_good = add_checksum(tree, tvb)
    tree:append_text(string.format(", %s, Conn %08x, PN %d", type_name, connection_id, packet_number))

    local info = string.format("%s pn=%d conn=%08x", type_name, packet_number, connection_id)
    if largest then info = info .. " ack=" .. largest end
    if length > MAXIMUM_DATAGRAM then
        tree:add_proto_expert_info(E.malformed, "Longer than 1200 bytes: a receiver drops it")
    end
    if tvb:range(2, 1):uint() ~= 1 then
        tree:add_proto_expert_info(E.malformed, "Unsupported version: a receiver rejects it")
        pinfo.cols.info = info .. " [unsupported version]"
        last_info = info .. " [unsupported version]"
        return length
    end
    if not is_good then
        pinfo.cols.info = info .. " [BAD CHECKSUM]"
        last_info = info .. " [BAD CHECKSUM]"
        return length
    end

    local direction = direction_key(pinfo, connection_id)
    local note = {}
    -- COOKIE and RESET carry packet number 0 outside any packet-number space (wire format 4).
    local is_numbered = type_code ~= 0x11 and type_code ~= 0x05
    if type_code ~= 0x01 and is_numbered then note = analyse(pinfo, direction, packet_number, nil) end
    local body_size = 0
    local is_welcome_noise = type_code == 0x12 and (length == HEADER_SIZE + 96 or length == HEADER_SIZE + 112)
    if (type_code == 0x10 and length == HEADER_SIZE + COOKIE_SIZE + 32) or is_welcome_noise or type_code == 0x13 then
        sealed_connections[connection_id] = true
    end
    local is_sealed = sealed_types[type_code] and (sealed_connections[connection_id] or bit.band(flags, 2) == 2)
    if is_sealed then
        local item = tree:add(F.sealed, tvb:range(HEADER_SIZE > length and 0 or 26, 1), true)
        item:set_generated()
        if length >= HEADER_SIZE + TAG_SIZE then
            if length > HEADER_SIZE + TAG_SIZE then tree:add(F.ciphertext, tvb:range(HEADER_SIZE, length - HEADER_SIZE - TAG_SIZE)) end
            tree:add(F.tag, tvb:range(length - TAG_SIZE, TAG_SIZE))
        end
        info = info .. " [sealed, " .. (length - HEADER_SIZE) .. " bytes" .. (bit.band(flags, 2) == 2 and ", key phase 1" or "") .. "]"
        body_size = length - HEADER_SIZE
    elseif type_code == 0x10 and length == HEADER_SIZE + COOKIE_SIZE + 32 then
        info = info .. dissect_cookie(tvb, tree, type_name)
        local message = tree:add(F.noise_message, tvb:range(HEADER_SIZE + COOKIE_SIZE, 32))
        message:add(F.noise_index, tvb:range(HEADER_SIZE + COOKIE_SIZE, 32), 1):set_generated()
        info = info .. " noise message 1 (e)"
        body_size = COOKIE_SIZE + 32
    elseif is_welcome_noise then
        local size = length - HEADER_SIZE
        local message = tree:add(F.noise_message, tvb:range(HEADER_SIZE, size))
        message:add(F.noise_index, tvb:range(HEADER_SIZE, size), 2):set_generated()
        info = info .. " noise message 2 (e, ee, s, es)" .. (size == 112 and " with a reset token" or "")
        body_size = size
    elseif type_code == 0x05 and length == HEADER_SIZE + 16 then
        tree:add(F.reset_token, tvb:range(HEADER_SIZE, 16))
        info = info .. " with reset token"
        body_size = 16
    elseif type_code == 0x13 then
        if length >= HEADER_SIZE + 64 then
            local message = tree:add(F.noise_message, tvb:range(HEADER_SIZE, 64))
            message:add(F.noise_index, tvb:range(HEADER_SIZE, 64), 3):set_generated()
        else
            tree:add_proto_expert_info(E.malformed, "FINISH shorter than 96 bytes")
        end
        info = info .. " noise message 3 (s, se)"
        body_size = 64
    elseif type_code == 0x01 then
        info = info .. dissect_data(tvb, pinfo, tree, root, direction, packet_number)
        note = frame_notes[pinfo.number] or {}
        body_size = length - HEADER_SIZE
    elseif type_code == 0x10 or type_code == 0x11 then
        info = info .. dissect_cookie(tvb, tree, type_name)
        body_size = COOKIE_SIZE
    elseif type_code == 0x04 then
        if length > HEADER_SIZE then
            tree:add(F.close_reason, tvb:range(HEADER_SIZE, 1))
            local code = tvb:range(HEADER_SIZE, 1):uint()
            info = info .. " reason=" .. (close_reasons[code] or tostring(code))
        else
            tree:add_proto_expert_info(E.malformed, "CLOSE without its reason byte")
        end
        body_size = 1
    elseif packet_types[type_code] == nil then
        tree:add_proto_expert_info(E.malformed, "Unknown packet type")
        body_size = length - HEADER_SIZE
    end
    if length > HEADER_SIZE + body_size then
        tree:add(F.trailing, tvb:range(HEADER_SIZE + body_size)):add_proto_expert_info(E.malformed,
            "Bytes after the " .. type_name .. " body")
    end
    if note.duplicate_of then
        local item = tree:add(F.duplicate, tvb:range(8, 4), true)
        item:set_generated()
        item:add_proto_expert_info(E.duplicate)
        tree:add(F.duplicate_frame, tvb:range(8, 4), note.duplicate_of):set_generated()
        info = info .. " [duplicate of frame " .. note.duplicate_of .. "]"
    end
    pinfo.cols.info = info
    last_info = info
    return length
end

-- A coalesced datagram (wire format, section 11): DA 7A 01 16, then each packet after its 16-bit
-- length. Each packet is dissected as if it had come alone; the Info column lists them all.
local function dissect_datagram(tvb, pinfo, root)
    local length = tvb:len()
    if length < 4 or tvb:range(0, 2):uint() ~= 0xDA7A or tvb:range(2, 1):uint() ~= 1
        or tvb:range(3, 1):uint() ~= 0x16 then
        return dissect_packet(tvb, pinfo, root)
    end
    pinfo.cols.protocol = "Datagram"
    local tree = root:add(dgram, tvb:range(0, 4), "Datagram coalesced datagram")
    local infos = {}
    local offset = 4
    while offset < length do
        if offset + 2 > length then
            tree:add_proto_expert_info(E.malformed, "Coalesced datagram: a length cut short")
            break
        end
        local size = tvb:range(offset, 2):uint()
        tree:add(F.coalesced_length, tvb:range(offset, 2))
        if size < HEADER_SIZE or offset + 2 + size > length then
            tree:add_proto_expert_info(E.malformed, "Coalesced datagram: a length shorter than a header or past the end")
            break
        end
        dissect_packet(tvb:range(offset + 2, size):tvb(), pinfo, root)
        infos[#infos + 1] = last_info
        offset = offset + 2 + size
    end
    tree:append_text(", " .. #infos .. " packets")
    if length > MAXIMUM_DATAGRAM then
        tree:add_proto_expert_info(E.malformed, "Longer than 1200 bytes: a receiver drops it")
    end
    pinfo.cols.info = "COALESCED " .. table.concat(infos, " | ")
    return length
end

function dgram.dissector(tvb, pinfo, tree)
    return dissect_datagram(tvb, pinfo, tree)
end

local function heuristic(tvb, pinfo, tree)
    if tvb:len() < HEADER_SIZE or tvb:range(0, 2):uint() ~= 0xDA7A or tvb:range(2, 1):uint() ~= 1 then
        return false
    end
    dissect_datagram(tvb, pinfo, tree)
    pinfo.conversation = dgram
    return true
end
dgram:register_heuristic("udp", heuristic)

-------------------------------------------------------------------------------- TCP framing
local function frame_length(tvb, pinfo, offset)
    local length = tvb:range(offset, 4):uint()
    if length > MAXIMUM_FRAME_PAYLOAD then
        return tvb:len() - offset          -- no frame boundary can be found after this: take the rest
    end
    return 4 + length
end

local function dissect_frame(tvb, pinfo, root)
    pinfo.cols.protocol = "Chat/TCP"
    local length = tvb:range(0, 4):uint()
    local tree = root:add(dgramtcp, tvb:range())
    local length_item = tree:add(T.length, tvb:range(0, 4))
    local summary
    if length > MAXIMUM_FRAME_PAYLOAD then
        length_item:add_proto_expert_info(CE.too_large)
        summary = "frame too large (" .. length .. " bytes)"
    elseif length == 0 then
        tree:add_proto_expert_info(CE.malformed, "Empty frame payload")
        summary = "empty frame"
    else
        local key = stream_key(pinfo)
        local label_key = tostring(pinfo.number) .. "/" .. tostring(tvb:offset())
        local label = tcp_frame_labels[label_key]
        if label == nil and not pinfo.visited then
            if length == 33 and tvb:range(4, 1):uint() == 0 then
                tcp_sealed_streams[key] = 1
                label = 1
            elseif tcp_sealed_streams[key] then
                tcp_sealed_streams[key] = tcp_sealed_streams[key] + 1
                label = tcp_sealed_streams[key] <= 3 and tcp_sealed_streams[key] or 0
            else
                label = -1
            end
            tcp_frame_labels[label_key] = label
        end
        if label == nil then label = -1 end
        if label >= 1 then
            local start = label == 1 and 5 or 4
            local message = tree:add(T.noise_message, tvb:range(start, length - (start - 4)))
            message:add(T.noise_index, tvb:range(start, length - (start - 4)), label):set_generated()
            summary = "noise message " .. label
        elseif label == 0 then
            tree:add(T.sealed, tvb:range(4, length))
            summary = "sealed chat message (" .. length .. " bytes)"
        else
            summary = dissect_chat(tvb:range(4, length):tvb(), pinfo, root)
        end
    end
    tree:append_text(", " .. length .. " bytes")
    -- One Info line per segment listing every frame it completes. TCP fences the column after a
    -- reassembled PDU, so later frames of the same segment are appended, not set.
    if pinfo.private["dgramtcp_frames"] == nil then
        pinfo.private["dgramtcp_frames"] = "1"
        pinfo.cols.info:set(summary)
    else
        pinfo.cols.info:append(" | " .. summary)
    end
    return tvb:len()
end

function dgramtcp.dissector(tvb, pinfo, tree)
    dissect_tcp_pdus(tvb, tree, 4, frame_length, dissect_frame, true)
    return tvb:len()
end

-- A chat stream on another port is recognised by its first frame: a client's HELLO with protocol
-- version 1 (length, 0x01, 0x01). The rest of the conversation then comes here directly.
local function tcp_heuristic(tvb, pinfo, tree)
    if tvb:len() < 6 then return false end
    local length = tvb:range(0, 4):uint()
    if length < 12 or length > MAXIMUM_FRAME_PAYLOAD then return false end
    local is_sealed_start = length == 33 and tvb:range(4, 1):uint() == 0
    if not is_sealed_start and (tvb:range(4, 1):uint() ~= 0x01 or tvb:range(5, 1):uint() ~= 1) then return false end
    pinfo.conversation = dgramtcp
    dgramtcp.dissector(tvb, pinfo, tree)
    return true
end
dgramtcp:register_heuristic("tcp", tcp_heuristic)

-------------------------------------------------------------------------------- registration
local registered_port = nil

local function register_port()
    local udp_table, tcp_table = DissectorTable.get("udp.port"), DissectorTable.get("tcp.port")
    if registered_port ~= nil then
        udp_table:remove(registered_port, dgram)
        tcp_table:remove(registered_port, dgramtcp)
    end
    registered_port = dgram.prefs.port
    if registered_port ~= 0 then
        udp_table:add(registered_port, dgram)
        tcp_table:add(registered_port, dgramtcp)
    end
end

function dgram.prefs_changed()
    register_port()
end

register_port()
