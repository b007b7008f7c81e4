/// Compaction: writes every live record (with its sequence number and origin) and every cursor to a new
/// file, makes it durable, and renames it over the journal, so the journal stops growing with updates that
/// were since replaced. A crash at any point leaves either the old journal or the new one, both complete; a
/// leftover temporary file is deleted at the next start.
struct JournalSnapshot: Sendable {
    /// Bytes collected before each `write(2)` of a snapshot.
    private static let chunkSize = 1 << 20

    let epoch: UInt64
    let latestSequence: UInt64
    let records: [StoredRecord]
    let cursors: [String: PeerCursor]
    /// The journal names of the records' origins (``OriginNames/journalNames``).
    let originNames: [[UInt8]]

    /// Copies what `memory` holds now (the records' lines are shared, not copied).
    init(of memory: MemoryStore) {
        var records: [StoredRecord] = []
        records.reserveCapacity(memory.count)
        memory.forEachRecord { records.append($0) }
        self.epoch = memory.epoch
        self.latestSequence = memory.latestSequence
        self.records = records
        self.cursors = memory.allCursors
        self.originNames = memory.origins.journalNames
    }

    /// Entries the snapshot holds, header excluded.
    var entries: Int { records.count + cursors.count }

    static func temporaryPath(for journalPath: String) -> String {
        journalPath + ".compacting"
    }

    /// Writes the snapshot to the temporary file and makes it durable; returns it open for appending. The
    /// caller appends what changed since (if anything) and then calls ``install(_:journalPath:directory:)``.
    func write(journalPath: String) throws(DurableStoreError) -> JournalFile {
        let temporary = Self.temporaryPath(for: journalPath)
        let file = try JournalFile.openForAppend(temporary, create: true)
        do {
            var buffer = JournalEntry.header(
                version: JournalEntry.version, epoch: epoch, latestSequence: latestSequence
            ).encoded()
            buffer.reserveCapacity(Self.chunkSize + 4096)
            for record in records {
                let origin = record.origin == OriginNames.local ? [ASCII.minus] : originNames[Int(record.origin) - 1]
                JournalEntry.appendRecord(sequence: record.sequence, origin: origin, line: record.line, to: &buffer)
                if buffer.count >= Self.chunkSize {
                    try file.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            for (neighbour, cursor) in cursors.sorted(by: { $0.key < $1.key }) {
                buffer += JournalEntry.cursor(neighbour: neighbour, cursor).encoded()
            }
            try file.write(buffer)
            try file.sync()
            return file
        } catch {
            file.close()
            JournalFile.remove(temporary)
            throw error
        }
    }

    /// Renames the written snapshot over the journal and makes the rename durable.
    static func install(_ file: JournalFile, journalPath: String, directory: String) throws(DurableStoreError)
        -> JournalFile
    {
        try file.sync()
        try JournalFile.rename(file.path, over: journalPath)
        try JournalFile.syncDirectory(directory)
        return JournalFile(path: journalPath, descriptor: file.descriptor)
    }

    /// Compaction pays off when the journal holds more than twice as many entries as there are live
    /// records and cursors, and more than `minimum` (small journals are not worth rewriting).
    static func isDue(entries: Int, live: Int, minimum: Int) -> Bool {
        entries > minimum && entries > 2 * live
    }
}
