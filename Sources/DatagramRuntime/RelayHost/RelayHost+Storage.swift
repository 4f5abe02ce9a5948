import Chat
import Datagram
import Relay
import Transport

extension HostState {
    /// Performs what the core asked to save during this step, in one transaction, before the step's
    /// sends leave the host: a message is in the data directory before anyone receives it. A failure
    /// (a full disk, a damaged file) is logged at error level with what to do; the relay keeps
    /// running, and its log says what was not saved.
    mutating func saveChanges(at now: Timestamp) {
        guard let storage else { return }
        let batch = core.takeStorageActions()
        if !batch.isEmpty {
            let clock = StorageClock(now: now, unixMilliseconds: WallClock.millisecondsSinceEpoch())
            do throws(StorageError) {
                try storage.perform(batch, clock: clock)
            } catch {
                core.noteStorageFailure(error, lost: batch.count)
            }
        }
        // History reads (a join, a HISTORY request), after the batch so they include its lines.
        for query in core.takeHistoryQueries() {
            do throws(StorageError) {
                let lines = try storage.history(room: query.room, limit: query.limit, since: query.since)
                core.handleHistory(lines, for: query, at: now)
            } catch {
                core.handleHistory(nil, error: error, for: query, at: now)
            }
        }
    }
}
