import Dispatch
import Logging

/// The durable store's writer, run on a thread of its own so `write(2)` and `fsync(2)` never block the
/// cooperative pool. It takes everything queued since its last write, writes it with one `write(2)`
/// (group commit), tells the waiters, fsyncs at most once per interval, and compacts when the journal has
/// grown to more than twice the live data.
struct JournalWriter: Sendable {
    let journalPath: String
    let directory: String
    let memory: MemoryStore
    let queue: JournalQueue
    let waiters: DurabilityWaiters
    let fsyncInterval: DispatchTimeInterval
    let compactionMinimumEntries: Int
    let logger: Logger

    /// One record as its journal line.
    static func encode(_ record: StoredRecord, origins: OriginNames) -> [UInt8] {
        JournalEntry.record(sequence: record.sequence, origin: origins.name(for: record.origin), line: record.line)
            .encoded()
    }

    /// Writes until the queue's final batch has been written and synced, or a write fails. Closes the
    /// journal and releases the directory lock either way; returns the failure, if any.
    func run(file: JournalFile, entries: Int, lock: JournalFile) -> DurableStoreError? {
        var file = file
        defer {
            file.close()
            lock.close()
        }
        do {
            try loop(file: &file, entries: entries)
            queue.close()
            waiters.finish(failure: nil)
            return nil
        } catch {
            logger.error("journal writer stopped: \(error); changes are no longer kept durably")
            queue.close()
            waiters.finish(failure: error)
            return error
        }
    }

    private func loop(file: inout JournalFile, entries: Int) throws(DurableStoreError) {
        var entries = entries
        var unsynced = false
        var lastSync = DispatchTime.now()
        var compactionMinimum = compactionMinimumEntries
        while true {
            let batch = queue.next(waitingUntil: unsynced ? lastSync + fsyncInterval : .distantFuture)
            if !batch.isEmpty {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(batch.records.count * 128)
                for record in batch.records {
                    JournalEntry.appendRecord(
                        sequence: record.sequence, origin: memory.origins.name(for: record.origin), line: record.line,
                        to: &bytes)
                }
                for (neighbour, cursor) in batch.cursors.sorted(by: { $0.key < $1.key }) {
                    bytes += JournalEntry.cursor(neighbour: neighbour, cursor).encoded()
                }
                try file.write(bytes)
                entries += batch.records.count + batch.cursors.count
                unsynced = true
                if let last = batch.records.last { waiters.advance(to: last.sequence) }
            }
            if unsynced, batch.isFinal || DispatchTime.now() >= lastSync + fsyncInterval {
                try file.sync()
                unsynced = false
                lastSync = DispatchTime.now()
            }
            if batch.isFinal { return }
            // Counting live records takes every shard's lock: only when the journal is long enough to matter.
            guard entries > compactionMinimum else { continue }
            let live = memory.count + memory.allCursors.count
            guard JournalSnapshot.isDue(entries: entries, live: live, minimum: compactionMinimum) else { continue }
            do {
                let snapshot = try JournalSnapshot.write(memory, journalPath: journalPath, directory: directory)
                file.close()
                file = snapshot.file
                entries = snapshot.entries
                unsynced = false
                compactionMinimum = compactionMinimumEntries
                logger.info("compacted journal \(journalPath) to \(entries) entries")
            } catch {
                // The old journal is intact; try again once it has doubled.
                compactionMinimum = entries * 2
                logger.error("journal compaction failed, keeping the journal as it is: \(error)")
            }
        }
    }
}
