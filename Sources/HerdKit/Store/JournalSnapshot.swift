/// Compaction: writes every live record (with its sequence number and origin) and every cursor to a new
/// file, makes it durable, and renames it over the journal, so the journal stops growing with updates that
/// were since replaced. A crash at any point leaves either the old journal or the new one, both complete; a
/// leftover temporary file is deleted at the next start.
enum JournalSnapshot {
    /// Bytes collected before each `write(2)` of a snapshot.
    private static let chunkSize = 1 << 20

    static func temporaryPath(for journalPath: String) -> String {
        journalPath + ".compacting"
    }

    /// Writes the snapshot and returns the new journal, open for appending, with its entry count (header
    /// excluded). The caller closes the old journal. Changes stored meanwhile are not in danger: they are
    /// still in the writer's queue and are appended to the new journal afterwards (a record the snapshot
    /// already holds is then written twice, which replay tolerates).
    static func write(
        _ memory: MemoryStore, journalPath: String, directory: String
    ) throws(DurableStoreError) -> (file: JournalFile, entries: Int) {
        let temporary = temporaryPath(for: journalPath)
        let file = try JournalFile.openForAppend(temporary, create: true)
        do {
            var entries = 0
            var buffer = JournalEntry.header(
                version: JournalEntry.version, epoch: memory.epoch, latestSequence: memory.latestSequence
            ).encoded()
            try memory.forEachShard { (records) throws(DurableStoreError) in
                for record in records {
                    buffer += JournalWriter.encode(record, origins: memory.origins)
                    entries += 1
                    if buffer.count >= chunkSize {
                        try file.write(buffer)
                        buffer.removeAll(keepingCapacity: true)
                    }
                }
            }
            for (neighbour, cursor) in memory.allCursors.sorted(by: { $0.key < $1.key }) {
                buffer += JournalEntry.cursor(neighbour: neighbour, cursor).encoded()
                entries += 1
            }
            try file.write(buffer)
            try file.sync()
            try JournalFile.rename(temporary, over: journalPath)
            try JournalFile.syncDirectory(directory)
            return (JournalFile(path: journalPath, descriptor: file.descriptor), entries)
        } catch {
            file.close()
            JournalFile.remove(temporary)
            throw error
        }
    }

    /// Compaction pays off when the journal holds more than twice as many entries as there are live
    /// records and cursors, and more than `minimum` (small journals are not worth rewriting).
    static func isDue(entries: Int, live: Int, minimum: Int) -> Bool {
        entries > minimum && entries > 2 * live
    }
}
