import Datagram

/// The type bytes of relay messages (Specs/chat-protocol.md, section 3).
enum RelayMessageType: UInt8 {
    case welcome = 0x81, message = 0x82, privateMessage = 0x83, notice = 0x84, error = 0x85
    case roomList = 0x86, whoList = 0x87, heartbeatEcho = 0x88, received = 0x89, banList = 0x8A
    case whoisReply = 0x8C, sealedPrivateMessage = 0x8D
    case history = 0x90, storedUpTo = 0x91, delivered = 0x92, sealedPastMessage = 0x93
}

/// The wire value of an unknown round-trip time (HEARTBEAT, WHO_LIST).
let unknownRoundTripTime = UInt32.max

extension ByteWriter {
    /// A round-trip time as `u32` microseconds; nil as `0xFFFFFFFF`, longer times clamped below it.
    mutating func writeRoundTripTime(_ roundTripTime: Duration?) {
        let known = roundTripTime.map { min(UInt32(clamping: max(0, $0.wholeMicroseconds)), unknownRoundTripTime - 1) }
        write(known ?? unknownRoundTripTime)
    }
}

extension ByteReader {
    /// The inverse of `ByteWriter.writeRoundTripTime`.
    mutating func readRoundTripTime() throws(ChatDecodingError) -> Duration? {
        let micros = try readUInt32("round-trip time")
        return micros == unknownRoundTripTime ? nil : .microseconds(Int64(micros))
    }
}

extension RelayMessage {
    /// The message as bytes: a type byte, then the fields, big-endian, strings length-prefixed.
    public func encoded() -> [UInt8] {
        if let file = encodedFileMessage() { return file }
        switch self {
        case let .welcome(name, defaultRoom, peerTimeout):
            var writer = ByteWriter(type: RelayMessageType.welcome.rawValue)
            writer.write(name)
            writer.write(defaultRoom)
            writer.write(UInt32(clamping: peerTimeout.wholeMicroseconds / 1000))
            return writer.bytes
        case let .message(room, from, sender, messageID, flags, text):
            var writer = ByteWriter(type: RelayMessageType.message.rawValue)
            writer.write(room)
            Self.writeSpoken(&writer, from: from, sender: sender, messageID: messageID, flags: flags, text: text)
            return writer.bytes
        case let .privateMessage(from, sender, messageID, flags, text):
            var writer = ByteWriter(type: RelayMessageType.privateMessage.rawValue)
            Self.writeSpoken(&writer, from: from, sender: sender, messageID: messageID, flags: flags, text: text)
            return writer.bytes
        case let .delivered(to, id):
            var writer = ByteWriter(type: RelayMessageType.delivered.rawValue)
            writer.write(to)
            writer.write(id)
            return writer.bytes
        case let .storedUpTo(id):
            var writer = ByteWriter(type: RelayMessageType.storedUpTo.rawValue)
            writer.write(id)
            return writer.bytes
        case let .history(line):
            var writer = ByteWriter(type: RelayMessageType.history.rawValue)
            writer.write(line.room)
            Self.writeSpoken(&writer, from: line.from, sender: line.sender, messageID: line.messageID, flags: line.flags, text: line.text)
            writer.write(line.time)
            writer.write(UInt8(line.isAsked ? 1 : 0))
            return writer.bytes
        case let .notice(notice):
            var writer = ByteWriter(type: RelayMessageType.notice.rawValue)
            writer.write(notice.kind.rawValue)
            for field in [notice.name, notice.room, notice.endpoint, notice.detail] { writer.write(field) }
            return writer.bytes
        case let .error(code, messageID, text):
            var writer = ByteWriter(type: RelayMessageType.error.rawValue)
            writer.write(code.rawValue)
            writer.write(messageID)
            writer.write(text)
            return writer.bytes
        case let .roomList(rooms):
            return Self.encodeRoomList(rooms)
        case let .whoList(room, entries):
            return Self.encodeWhoList(room: room, entries: entries)
        case let .heartbeatEcho(timestamp):
            var writer = ByteWriter(type: RelayMessageType.heartbeatEcho.rawValue)
            writer.write(timestamp)
            return writer.bytes
        case let .received(upTo):
            var writer = ByteWriter(type: RelayMessageType.received.rawValue)
            writer.write(upTo)
            return writer.bytes
        case let .banList(room, entries):
            var writer = ByteWriter(type: RelayMessageType.banList.rawValue)
            writer.write(room)
            let kept = entries.prefix(Int(UInt16.max))
            writer.write(UInt16(kept.count))
            for entry in kept {
                writer.write(entry.mask)
                writer.write(entry.setBy)
                writer.write(entry.secondsLeft)
                writer.write(entry.reason)
            }
            return writer.bytes
        case let .whoisReply(entry):
            var writer = ByteWriter(type: RelayMessageType.whoisReply.rawValue)
            writer.write(entry.asked)
            writer.write(entry.name)
            writer.write(entry.transport.rawValue)
            writer.write(UInt8(entry.key?.bytes.count ?? 0))
            for byte in entry.key?.bytes ?? [] { writer.write(byte) }
            return writer.bytes
        case let .sealedPrivateMessage(from, sender, messageID, sealed):
            var writer = ByteWriter(type: RelayMessageType.sealedPrivateMessage.rawValue)
            writer.write(from)
            writer.write(sender.rawValue)
            writer.write(messageID)
            writer.writeBytes(sealed)
            return writer.bytes
        case let .sealedPastMessage(from, sender, messageID, time, sealed):
            var writer = ByteWriter(type: RelayMessageType.sealedPastMessage.rawValue)
            writer.write(from)
            writer.write(sender.rawValue)
            writer.write(messageID)
            writer.write(time)
            writer.writeBytes(sealed)
            return writer.bytes
        case .fileOffered, .fileAccepted, .fileCancelled, .fileChunk, .fileCredit, .fileDone:
            return encodedFileMessage() ?? []
        }
    }

    /// Decodes one whole message; every byte must belong to it.
    public init(decoding bytes: [UInt8]) throws(ChatDecodingError) {
        guard let typeByte = bytes.first else { throw .empty }
        var reader = ByteReader(bytes, from: 1)
        if FileMessageType.relayTypes.contains(typeByte) {
            self = try Self.decodeFileMessage(typeByte, &reader)
            try reader.finish()
            return
        }
        guard let type = RelayMessageType(rawValue: typeByte) else { throw .unknownType(typeByte) }
        switch type {
        case .welcome:
            let name = try reader.readString("name")
            let room = try reader.readString("default room")
            let timeout = Duration.milliseconds(Int64(try reader.readUInt32("peer timeout")))
            self = .welcome(name: name, defaultRoom: room, peerTimeout: timeout)
        case .message:
            let room = try reader.readString("room")
            let spoken = try Self.readSpoken(&reader)
            self = .message(room: room, from: spoken.from, sender: spoken.sender, messageID: spoken.messageID,
                            flags: spoken.flags, text: spoken.text)
        case .privateMessage:
            let spoken = try Self.readSpoken(&reader)
            self = .privateMessage(from: spoken.from, sender: spoken.sender, messageID: spoken.messageID,
                                   flags: spoken.flags, text: spoken.text)
        case .delivered:
            let to = try reader.readString("to")
            self = .delivered(to: to, messageID: try reader.readUInt64("message id"))
        case .storedUpTo:
            self = .storedUpTo(try reader.readUInt64("message id"))
        case .history:
            let room = try reader.readString("room")
            let spoken = try Self.readSpoken(&reader)
            self = .history(PastMessage(room: room, from: spoken.from, sender: spoken.sender, messageID: spoken.messageID,
                                        flags: spoken.flags, text: spoken.text, time: try reader.readUInt64("time"),
                                        isAsked: try reader.readUInt8("asked") != 0))
        case .notice:
            self = .notice(try Self.readNotice(&reader))
        case .error:
            let raw = try reader.readUInt8("code")
            guard let code = ErrorCode(rawValue: raw) else { throw .unknownCode(field: "code", value: raw) }
            self = .error(code: code, messageID: try reader.readUInt64("message id"), text: try reader.readString("text"))
        case .roomList:
            self = .roomList(try Self.readRoomList(&reader))
        case .whoList:
            let room = try reader.readString("room")
            self = .whoList(room: room, entries: try Self.readWhoEntries(&reader))
        case .heartbeatEcho:
            self = .heartbeatEcho(timestamp: try reader.readUInt64("timestamp"))
        case .received:
            self = .received(upTo: try reader.readUInt64("message id"))
        case .banList:
            let room = try reader.readString("room")
            let count = Int(try reader.readUInt16("entry count"))
            var entries: [BanEntry] = []
            for _ in 0..<count {
                let mask = try reader.readString("mask")
                let setBy = try reader.readString("set by")
                let left = try reader.readUInt32("seconds left")
                entries.append(BanEntry(mask: mask, setBy: setBy, secondsLeft: left, reason: try reader.readString("reason")))
            }
            self = .banList(room: room, entries: entries)
        case .whoisReply:
            let asked = try reader.readString("asked")
            let name = try reader.readString("name")
            let raw = try reader.readUInt8("transport")
            guard let transport = TransportKind(rawValue: raw) else { throw .unknownCode(field: "transport", value: raw) }
            let keyLength = try reader.readUInt8("key length")
            var key: IdentityKey?
            switch Int(keyLength) {
            case 0: key = nil
            case IdentityKey.length: key = IdentityKey(bytes: try reader.readFixed("key", count: IdentityKey.length))
            default: throw .unknownCode(field: "key length", value: keyLength)
            }
            self = .whoisReply(WhoisEntry(asked: asked, name: name, transport: transport, key: key))
        case .sealedPrivateMessage:
            let from = try reader.readString("from")
            let sender = SenderID(rawValue: try reader.readUInt64("sender id"))
            let messageID = try reader.readUInt64("message id")
            self = .sealedPrivateMessage(from: from, sender: sender, messageID: messageID, sealed: try reader.readBytes("sealed"))
        case .sealedPastMessage:
            let from = try reader.readString("from")
            let sender = SenderID(rawValue: try reader.readUInt64("sender id"))
            let messageID = try reader.readUInt64("message id")
            let time = try reader.readUInt64("time")
            self = .sealedPastMessage(from: from, sender: sender, messageID: messageID, time: time, sealed: try reader.readBytes("sealed"))
        }
        try reader.finish()
    }

    private static func writeSpoken(_ writer: inout ByteWriter, from: String, sender: SenderID, messageID: UInt64,
                                    flags: MessageFlags, text: String) {
        writer.write(from)
        writer.write(sender.rawValue)
        writer.write(messageID)
        writer.write(flags.rawValue)
        writer.write(text)
    }

    private static func readSpoken(_ reader: inout ByteReader) throws(ChatDecodingError)
        -> (from: String, sender: SenderID, messageID: UInt64, flags: MessageFlags, text: String) {
        let from = try reader.readString("from")
        let sender = SenderID(rawValue: try reader.readUInt64("sender id"))
        let messageID = try reader.readUInt64("message id")
        let flags = MessageFlags(rawValue: try reader.readUInt8("flags")).intersection(.defined)
        return (from, sender, messageID, flags, try reader.readString("text"))
    }

    private static func readNotice(_ reader: inout ByteReader) throws(ChatDecodingError) -> Notice {
        let raw = try reader.readUInt8("kind")
        guard let kind = NoticeKind(rawValue: raw) else { throw .unknownCode(field: "kind", value: raw) }
        return Notice(kind: kind, name: try reader.readString("name"), room: try reader.readString("room"),
                      endpoint: try reader.readString("endpoint"), detail: try reader.readString("detail"))
    }

    private static func encodeRoomList(_ rooms: [RoomSummary]) -> [UInt8] {
        var writer = ByteWriter(type: RelayMessageType.roomList.rawValue)
        let kept = rooms.prefix(Int(UInt16.max))
        writer.write(UInt16(kept.count))
        for room in kept {
            writer.write(room.name)
            writer.write(UInt32(clamping: room.memberCount))
        }
        return writer.bytes
    }

    private static func readRoomList(_ reader: inout ByteReader) throws(ChatDecodingError) -> [RoomSummary] {
        let count = Int(try reader.readUInt16("room count"))
        var rooms: [RoomSummary] = []
        for _ in 0..<count {
            let name = try reader.readString("room")
            rooms.append(RoomSummary(name: name, memberCount: Int(try reader.readUInt32("member count"))))
        }
        return rooms
    }

    private static func encodeWhoList(room: String, entries: [WhoEntry]) -> [UInt8] {
        var writer = ByteWriter(type: RelayMessageType.whoList.rawValue)
        writer.write(room)
        let kept = entries.prefix(Int(UInt16.max))
        writer.write(UInt16(kept.count))
        for entry in kept {
            writer.write(entry.name)
            writer.write(entry.transport.rawValue)
            writer.write(entry.endpoint)
            writer.writeRoundTripTime(entry.roundTripTime)
            writer.write(entry.rooms)
        }
        return writer.bytes
    }

    private static func readWhoEntries(_ reader: inout ByteReader) throws(ChatDecodingError) -> [WhoEntry] {
        let count = Int(try reader.readUInt16("entry count"))
        var entries: [WhoEntry] = []
        for _ in 0..<count {
            let name = try reader.readString("name")
            let raw = try reader.readUInt8("transport")
            guard let transport = TransportKind(rawValue: raw) else { throw .unknownCode(field: "transport", value: raw) }
            let endpoint = try reader.readString("endpoint")
            let rtt = try reader.readRoundTripTime()
            entries.append(WhoEntry(name: name, transport: transport, endpoint: endpoint, roundTripTime: rtt,
                                    rooms: try reader.readStrings("rooms")))
        }
        return entries
    }
}
