import CoreMetrics
import Dispatch
import Logging
import NIOCore

/// A ``LocationStore`` that survives restarts: a ``MemoryStore`` for reads and writes, plus a journal in a
/// directory of its own (`journal`, see ``JournalEntry`` for the format, and a `lock` file so two servers
/// never share it).
///
/// Durability, as Redis's `appendfsync everysec`: ``commit()`` appends every change since the last commit
/// with one `write(2)`, on the event loop, before the server writes the replies and floods of that pass, so a
/// change survives the process being killed before anyone hears of it. A thread of its own calls `fsync(2)`
/// at most every `fsyncIntervalMilliseconds` while there are unsynced writes, and ``close()`` syncs: a machine
/// crash (power loss) can lose at most that interval. Cursors are journalled too, the newest per neighbour.
///
/// A failed write (a full disk) is cut back off the file and kept pending: the next ``commit()`` writes it
/// again, so nothing is lost and nothing half-written is left in the journal.
///
/// Start-up replays the journal (newest record per client wins; sequence numbers continue far above the
/// highest seen; the epoch is kept). A torn final entry (bytes after the last LF, from a crash mid-write) is
/// cut off, logged as a warning and reported in ``recovery``; a damaged entry anywhere else stops start-up
/// with ``DurableStoreError/corruptJournal(path:line:reason:)``. When the journal holds more than twice as many
/// entries as live records and cursors (and more than `compactionMinimumEntries`), it is rewritten as a
/// snapshot: at start-up, or by a background thread while the loop goes on appending (the changes meanwhile
/// are appended to the new file before it replaces the old one).
public final class DurableStore: LocationStore, FloodSource {
    /// What start-up found and repaired.
    public struct Recovery: Sendable, Equatable {
        /// Entries read after the header.
        public var replayedEntries: Int
        /// Bytes of a torn final entry that were cut off (0 when the journal ended cleanly).
        public var truncatedBytes: Int
        /// True when the journal was compacted at start-up.
        public var compacted: Bool
    }

    public let directory: String
    /// The journal's path, for messages and tools.
    public let journalPath: String
    public let recovery: Recovery
    private let memory: MemoryStore
    private var journal: JournalFile
    private var lock: JournalFile?
    private var journalLength: Int
    /// Bytes written to the journal since it was opened.
    public private(set) var journalBytesWritten: UInt64 = 0
    private var entries: Int
    /// Encoded entries not yet written (after a failed write, until the next commit writes them).
    private var pending: [UInt8] = []
    private var pendingEntries = 0
    private let syncer: JournalSyncer?
    private let syncsEveryWrite: Bool
    private let compactionMinimumEntries: Int
    private var compactionMinimum: Int
    /// While a background compaction runs: the bytes appended since its snapshot, for the new file.
    private var compactionTail: (bytes: [UInt8], entries: Int)?
    private let eventLoop: (any EventLoop)?
    private let logger: Logger
    private var closed = false

    static let restartGap: UInt64 = 1 << 32

    /// Opens (or creates) the store in `directory`, creating the directory if missing, and replays its
    /// journal.
    /// - Parameters:
    ///   - fsyncIntervalMilliseconds: the most a machine crash can lose; 0 syncs after every write.
    ///   - compactionMinimumEntries: journals with fewer entries are never compacted.
    ///   - ringCapacity: as for ``MemoryStore``.
    ///   - eventLoop: the loop the store is used on, where a background compaction hands its result back;
    ///     without one, compaction runs inside ``commit()``.
    ///   - fsyncTimer: records how long each `fsync(2)` takes.
    public init(
        directory: String, fsyncIntervalMilliseconds: Int = 1000, compactionMinimumEntries: Int = 100_000,
        ringCapacity: Int = 65_536, eventLoop: (any EventLoop)? = nil, logger: Logger = Logger(label: "herd.store"),
        fsyncTimer: CoreMetrics.Timer? = nil
    ) throws(DurableStoreError) {
        try JournalFile.makeDirectory(directory)
        let lock = try JournalFile.lock(directory + "/lock", directory: directory)
        let journalPath = directory + "/journal"
        do {
            JournalFile.remove(JournalSnapshot.temporaryPath(for: journalPath))
            let opened = try Self.open(
                journalPath: journalPath, directory: directory, ringCapacity: ringCapacity, logger: logger)
            var file = opened.file
            var entries = opened.recovery.replayedEntries
            var recovery = opened.recovery
            let live = opened.memory.count + opened.memory.allCursors.count
            if JournalSnapshot.isDue(entries: entries, live: live, minimum: compactionMinimumEntries) {
                let snapshot = JournalSnapshot(of: opened.memory)
                let written = try snapshot.write(journalPath: journalPath)
                file.close()
                file = try JournalSnapshot.install(written, journalPath: journalPath, directory: directory)
                entries = snapshot.entries
                recovery.compacted = true
                logger.info("compacted journal \(journalPath) to \(entries) entries at start-up")
            }
            self.journalLength = try file.length()
            self.directory = directory
            self.journalPath = journalPath
            self.recovery = recovery
            self.memory = opened.memory
            self.journal = file
            self.lock = lock
            self.entries = entries
            self.compactionMinimumEntries = compactionMinimumEntries
            self.compactionMinimum = compactionMinimumEntries
            self.eventLoop = eventLoop
            self.logger = logger
            self.syncsEveryWrite = fsyncIntervalMilliseconds <= 0
            self.syncer =
                fsyncIntervalMilliseconds <= 0
                ? nil
                : JournalSyncer(
                    descriptor: file.descriptor, path: journalPath,
                    interval: .milliseconds(fsyncIntervalMilliseconds), logger: logger, timer: fsyncTimer)
        } catch {
            lock.close()
            throw error
        }
    }

    deinit {
        if !closed { releaseFiles() }
    }

    /// Stops the syncer and closes the journal and the lock; the store is closed from then on.
    private func releaseFiles() {
        closed = true
        syncer?.stop()
        journal.close()
        lock?.close()
        lock = nil
    }

    /// Creates a new journal, or replays an existing one, into a fresh memory store.
    private static func open(
        journalPath: String, directory: String, ringCapacity: Int, logger: Logger
    ) throws(DurableStoreError) -> (memory: MemoryStore, file: JournalFile, recovery: Recovery) {
        guard let bytes = try JournalFile.contents(of: journalPath) else {
            let memory = MemoryStore(
                ringCapacity: ringCapacity, epoch: UInt64.random(in: 1...UInt64.max), latestSequence: 0,
                keepsUncommitted: true)
            let written = try JournalSnapshot(of: memory).write(journalPath: journalPath)
            let file = try JournalSnapshot.install(written, journalPath: journalPath, directory: directory)
            return (memory, file, Recovery(replayedEntries: 0, truncatedBytes: 0, compacted: false))
        }
        var replay = try JournalReplay(path: journalPath, bytes: bytes)
        let memory = MemoryStore(
            ringCapacity: ringCapacity, epoch: replay.epoch, latestSequence: replay.headerLatestSequence,
            keepsUncommitted: true)
        var latest = replay.headerLatestSequence
        // A long replay says how far it is, about once a second, so a slow start is not taken for a hang.
        let replayStarted = ContinuousClock.now
        var nextReport = replayStarted + .seconds(1)
        try replay.forEachEntry { (entry, lineNumber) throws(DurableStoreError) in
            if lineNumber & 0xFFFF == 0, ContinuousClock.now >= nextReport {
                nextReport = ContinuousClock.now + .seconds(1)
                logger.notice(
                    "replaying journal \(journalPath) (\(bytes.count >> 20) MiB): \(lineNumber) entries so far")
            }
            switch entry {
            case .record(let sequence, let origin, let line):
                guard case .at(let atLine)? = try? MessageParser.parse(line) else {
                    throw .corruptJournal(path: journalPath, line: lineNumber, reason: "not a valid AT line")
                }
                memory.restore(atLine, sequence: sequence, origin: origin)
                latest = max(latest, sequence)
            case .cursor(let neighbour, let cursor):
                memory.setCursor(cursor, for: neighbour)
            case .header:
                break
            }
        }
        _ = memory.takeUncommitted()
        // Numbers handed out before a machine crash but never fsynced may already have been acknowledged by a
        // neighbour. Numbering on far above them keeps a new change from reusing a number a neighbour's cursor
        // has passed (it would never be sent to it). 2^32 changes per run, 2^32 restarts: plenty of both.
        memory.continueSequence(after: latest > 0 ? latest + Self.restartGap : 0)
        if replay.tornBytes > 0 {
            logger.warning(
                """
                journal \(journalPath): cut off a torn final entry (\(replay.tornBytes) bytes at line \
                \(replay.tornLineNumber), left by a crash mid-write); the changes before it are kept
                """)
            try JournalFile.truncate(journalPath, to: replay.completeLength)
        }
        let file = try JournalFile.openForAppend(journalPath)
        let recovery = Recovery(
            replayedEntries: replay.entryCount, truncatedBytes: replay.tornBytes, compacted: false)
        return (memory, file, recovery)
    }

    // MARK: Reads and writes

    public func record(for client: ClientID) -> ATLine? { memory.record(for: client) }
    public func supersedes(_ line: ATLine, from origin: String?) -> Bool { memory.supersedes(line, from: origin) }
    public func holds(exactly line: UnsafeRawBufferPointer) -> Bool { memory.holds(exactly: line) }
    public func store(_ line: ATLine, from origin: String?) -> UInt64? { memory.store(line, from: origin) }
    public var count: Int { memory.count }
    public var epoch: UInt64 { memory.epoch }
    public var latestSequence: UInt64 { memory.latestSequence }

    public func changes(after sequence: UInt64, limit: Int) -> [StoreChange] {
        memory.changes(after: sequence, limit: limit)
    }

    func feed(after sequence: UInt64, limit: Int) -> (records: [StoredRecord], through: UInt64) {
        memory.feed(after: sequence, limit: limit)
    }

    func change(_ record: StoredRecord) -> StoreChange { memory.change(record) }

    func takeUnflooded() -> [StoredRecord] { memory.takeUnflooded() }
    func originID(for neighbour: String) -> UInt16 { memory.originID(for: neighbour) }

    public func cursor(for neighbour: String) -> PeerCursor? { memory.cursor(for: neighbour) }
    public func setCursor(_ cursor: PeerCursor, for neighbour: String) { memory.setCursor(cursor, for: neighbour) }

    // MARK: Durability

    public var hasUncommittedChanges: Bool { memory.hasUncommittedChanges || !pending.isEmpty }

    /// Appends everything changed since the last commit with one `write(2)`. On failure the file is cut back
    /// to where it was, the bytes stay pending and the error is thrown; the next commit writes them again.
    public func commit() throws {
        guard !closed else { throw DurableStoreError.stopped(directory: directory, sequence: latestSequence) }
        encodeUncommitted()
        guard !pending.isEmpty else { return }
        do {
            try journal.write(pending)
        } catch {
            // Half an entry would read as damage at the next start: cut the file back to its last whole entry.
            try? journal.truncate(to: journalLength)
            throw error
        }
        journalLength += pending.count
        journalBytesWritten += UInt64(pending.count)
        entries += pendingEntries
        pendingEntries = 0
        // Keep a batch's worth of capacity, not the largest batch ever.
        if pending.capacity > 1 << 22 { pending = [] } else { pending.removeAll(keepingCapacity: true) }
        if syncsEveryWrite { try journal.sync() } else { syncer?.markDirty() }
        compactIfDue()
    }

    /// Appends the memory store's changes since the last call to the pending bytes.
    private func encodeUncommitted() {
        let (records, cursors) = memory.takeUncommitted()
        guard !records.isEmpty || !cursors.isEmpty else { return }
        let start = pending.count
        let origins = memory.origins
        for record in records {
            JournalEntry.appendRecord(
                sequence: record.sequence, origin: origins.journalName(for: record.origin), line: record.line,
                to: &pending)
        }
        for (neighbour, cursor) in cursors.sorted(by: { $0.key < $1.key }) {
            pending += JournalEntry.cursor(neighbour: neighbour, cursor).encoded()
        }
        let added = records.count + cursors.count
        pendingEntries += added
        if compactionTail != nil {
            compactionTail!.bytes.append(contentsOf: pending[start...])
            compactionTail!.entries += added
        }
    }

    /// Dies mid-write, for a simulator: the first `tornFraction` of the bytes the next commit would write
    /// reach the file (a torn tail when the cut falls inside an entry), nothing is synced, and the
    /// descriptors and lock are let go as a dead process's are.
    func crash(tornFraction: Double) {
        guard !closed else { return }
        encodeUncommitted()
        let torn = min(pending.count, Int(Double(pending.count) * max(0, tornFraction)))
        if torn > 0 { try? journal.write(Array(pending[..<torn])) }
        pending = []
        releaseFiles()
    }

    public func close() throws {
        guard !closed else { return }
        defer { releaseFiles() }
        try commit()
        try journal.sync()
    }

    // MARK: Compaction

    private func compactIfDue() {
        guard compactionTail == nil, entries > compactionMinimum else { return }
        let live = memory.count + memory.allCursors.count
        guard JournalSnapshot.isDue(entries: entries, live: live, minimum: compactionMinimum) else { return }
        let snapshot = JournalSnapshot(of: memory)
        let journalPath = self.journalPath
        guard let eventLoop else {
            finishCompaction(
                Result { () throws(DurableStoreError) in try snapshot.write(journalPath: journalPath) },
                snapshot: snapshot)
            return
        }
        compactionTail = ([], 0)
        let store = NIOLoopBound(self, eventLoop: eventLoop)
        DispatchQueue.global(qos: .utility).async {
            let result = Result { () throws(DurableStoreError) in try snapshot.write(journalPath: journalPath) }
            eventLoop.execute { store.value.finishCompaction(result, snapshot: snapshot) }
        }
    }

    private func finishCompaction(_ result: Result<JournalFile, DurableStoreError>, snapshot: JournalSnapshot) {
        let tail = compactionTail ?? ([], 0)
        compactionTail = nil
        guard !closed else {
            if case .success(let file) = result {
                file.close()
                JournalFile.remove(file.path)
            }
            return
        }
        do {
            let written = try result.get()
            do {
                if !tail.bytes.isEmpty { try written.write(tail.bytes) }
                let installed = try JournalSnapshot.install(written, journalPath: journalPath, directory: directory)
                // The syncer lets go of the old descriptor (synced) before it is closed.
                _ = syncer?.replaceDescriptor(with: installed.descriptor)
                journal.close()
                journal = installed
                journalLength = try installed.length()
                entries = snapshot.entries + tail.entries
                compactionMinimum = compactionMinimumEntries
                logger.info("compacted journal \(journalPath) to \(entries) entries")
            } catch {
                written.close()
                JournalFile.remove(written.path)
                throw error
            }
        } catch {
            // Try again once the journal has grown as much again; appends went on to the old journal.
            compactionMinimum = entries * 2
            logger.warning("compacting journal \(journalPath) failed: \(error); will retry later")
        }
    }
}
