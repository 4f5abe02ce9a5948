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
        guard !batch.isEmpty else { return }
        let clock = StorageClock(now: now, unixMilliseconds: WallClock.millisecondsSinceEpoch())
        do throws(StorageError) {
            try storage.perform(batch, clock: clock)
        } catch {
            core.noteStorageFailure(error, lost: batch.count)
        }
    }
}
