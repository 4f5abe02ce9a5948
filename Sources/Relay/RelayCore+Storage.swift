import Chat
import Datagram

/// The canonical room name → settings table, remembering which rooms changed since storage last
/// took them, so that only those are saved (and saving costs nothing while storage is detached).
public struct RoomSettingsTable: Sendable {
    var values: [String: RoomSettings] = [:]
    var changed: Set<String> = []
    var isTracking = false

    /// The settings of the room with canonical name `room`.
    public internal(set) subscript(room: String) -> RoomSettings? {
        get { values[room] }
        _modify {
            if isTracking { changed.insert(room) }
            yield &values[room]
        }
    }

    /// Rooms with settings.
    public var count: Int { values.count }

    /// Canonical names of the rooms with settings.
    public var rooms: Dictionary<String, RoomSettings>.Keys { values.keys }
}

extension RelayCore {
    /// Attaches the data directory: `state` is what `RelayStorage.load` returned at start (bans and
    /// room settings are restored as they were saved); from now on every change is emitted as a
    /// `StorageAction` (`pollStorageAction`), and SAY lines are appended to their room's history.
    public mutating func attachStorage(_ state: StoredRelayState, at now: Timestamp) {
        isStoring = true
        for (room, settings) in state.roomSettings {
            var settings = settings
            settings.pruneBans(at: now)
            roomSettings.values[room] = settings
        }
        relayBans = state.relayBans.filter { ban in ban.expires.map { $0 > now } ?? true }
        savedRelayBans = relayBans
        roomSettings.changed = []
        roomSettings.isTracking = true
    }

    /// Whether storage is attached.
    public var hasStorage: Bool { isStoring }

    /// The next change for the data directory, or nil. The driver takes them all after each input and
    /// performs them in one transaction before the input's other actions (its sends): so nothing is
    /// acknowledged or forwarded before it is saved.
    public mutating func pollStorageAction() -> StorageAction? {
        guard isStoring else { return nil }
        collectStorageChanges()
        guard !storageActions.isEmpty else { return nil }
        return storageActions.removeFirst()
    }

    /// Every change since the last call, in order (a batch for one transaction).
    public mutating func takeStorageActions() -> [StorageAction] {
        guard isStoring else { return [] }
        collectStorageChanges()
        defer { storageActions.removeAll(keepingCapacity: true) }
        return storageActions
    }

    private mutating func collectStorageChanges() {
        if !roomSettings.changed.isEmpty {
            for room in roomSettings.changed.sorted() {
                storageActions.append(.saveRoomSettings(room: room, roomSettings.values[room]))
            }
            roomSettings.changed.removeAll(keepingCapacity: true)
        }
        if relayBans != savedRelayBans {
            savedRelayBans = relayBans
            storageActions.append(.saveRelayBans(relayBans))
        }
    }

    /// A line said in a room, for its history.
    mutating func recordHistory(roomKey: String, roomName: String, from peer: Peer, messageID: UInt64,
                                flags: MessageFlags, text: String) {
        guard isStoring else { return }
        storageActions.append(.appendHistory(room: roomKey, HistoryLine(room: roomName, from: peer.name, sender: peer.senderID,
                                                                        messageID: messageID, flags: flags, text: text)))
    }
}

extension RelayCore {
    /// The host could not save a batch of `lost` changes: said in the log, with what to do.
    public mutating func noteStorageFailure(_ error: StorageError, lost: Int) {
        statistics.storageFailures += 1
        log(.error, "storage: \(lost) changes not saved: \(error.message)")
    }
}
