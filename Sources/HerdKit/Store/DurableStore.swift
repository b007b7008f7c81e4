import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A ``LocationStore`` that survives restarts: a ``MemoryStore`` for reads and writes, plus a journal in a
/// directory of its own (`journal`, see ``JournalEntry`` for the format, and a `lock` file so two servers
/// never share it).
///
/// Durability: stores never wait for the disk. Each change is queued in sequence order and a writer thread
/// appends everything queued with one `write(2)` (group commit); ``waitUntilDurable(_:)`` returns once the
/// write holding that change has returned, so the change survives the process being killed. The writer
/// calls `fsync(2)` at most every `fsyncIntervalMilliseconds` while there are unsynced writes, and on clean
/// shutdown: a machine crash (power loss) can lose at most that interval. Cursors are journalled too,
/// coalesced to the newest per neighbour per write.
///
/// Start-up replays the journal (newest client time per client wins; sequence numbers continue above the
/// highest seen; the epoch is kept). A torn final entry (bytes after the last LF, from a crash mid-write)
/// is cut off, logged as a warning and reported in ``recovery``; a damaged entry anywhere else stops
/// start-up with ``DurableStoreError/corruptJournal(path:line:reason:)``. When the journal holds more than
/// twice as many entries as live records and cursors (and more than `compactionMinimumEntries`), it is
/// rewritten as a snapshot at start-up or by the writer, never on the hot path.
///
/// Run it as a `Service` (``run()``) before the servers that use it, so it stops after them and writes
/// their last changes.
public final class DurableStore: LocationStore, Service {
    /// What start-up found and repaired.
    public struct Recovery: Sendable, Equatable {
        /// Entries read after the header.
        public var replayedEntries: Int
        /// Bytes of a torn final entry that were cut off (0 when the journal ended cleanly).
        public var truncatedBytes: Int
        /// True when the journal was compacted at start-up.
        public var compacted: Bool
    }

    private enum Phase {
        case ready(file: JournalFile, entries: Int, lock: JournalFile)
        case running
        case finished
    }

    public let directory: String
    /// The journal's path, for messages and tools.
    public let journalPath: String
    public let recovery: Recovery
    private let memory: MemoryStore
    private let queue: JournalQueue
    private let waiters: DurabilityWaiters
    private let writer: JournalWriter
    private let phase: Mutex<Phase>

    /// Opens (or creates) the store in `directory`, creating the directory if missing, and replays its
    /// journal.
    /// - Parameters:
    ///   - fsyncIntervalMilliseconds: the most a machine crash can lose; 0 syncs after every write.
    ///   - compactionMinimumEntries: journals with fewer entries are never compacted.
    ///   - shardCount, ringCapacity: as for ``MemoryStore``.
    public init(
        directory: String, fsyncIntervalMilliseconds: Int = 1000, compactionMinimumEntries: Int = 100_000,
        shardCount: Int = 16, ringCapacity: Int = 65_536, logger: Logger = Logger(label: "herd.store")
    ) throws(DurableStoreError) {
        try JournalFile.makeDirectory(directory)
        let lock = try JournalFile.lock(directory + "/lock", directory: directory)
        let journalPath = directory + "/journal"
        let queue = JournalQueue()
        do {
            JournalFile.remove(JournalSnapshot.temporaryPath(for: journalPath))
            let opened = try Self.open(
                journalPath: journalPath, directory: directory, shardCount: shardCount, ringCapacity: ringCapacity,
                queue: queue, logger: logger)
            var file = opened.file
            var entries = opened.recovery.replayedEntries
            var recovery = opened.recovery
            let live = opened.memory.count + opened.memory.allCursors.count
            if JournalSnapshot.isDue(entries: entries, live: live, minimum: compactionMinimumEntries) {
                let snapshot = try JournalSnapshot.write(opened.memory, journalPath: journalPath, directory: directory)
                file.close()
                file = snapshot.file
                entries = snapshot.entries
                recovery.compacted = true
                logger.info("compacted journal \(journalPath) to \(entries) entries at start-up")
            }
            self.directory = directory
            self.journalPath = journalPath
            self.recovery = recovery
            self.memory = opened.memory
            self.queue = queue
            self.waiters = DurabilityWaiters(durable: opened.memory.latestSequence, directory: directory)
            self.writer = JournalWriter(
                journalPath: journalPath, directory: directory, memory: opened.memory, queue: queue,
                waiters: waiters, fsyncInterval: .milliseconds(max(0, fsyncIntervalMilliseconds)),
                compactionMinimumEntries: compactionMinimumEntries, logger: logger)
            self.phase = Mutex(.ready(file: file, entries: entries, lock: lock))
        } catch {
            lock.close()
            throw error
        }
    }

    deinit {
        if case .ready(let file, _, let lock) = phase.withLock({ $0 }) {
            file.close()
            lock.close()
        }
    }

    static let restartGap: UInt64 = 1 << 32

    /// Creates a new journal, or replays an existing one, into a fresh memory store.
    private static func open(
        journalPath: String, directory: String, shardCount: Int, ringCapacity: Int, queue: JournalQueue,
        logger: Logger
    ) throws(DurableStoreError) -> (memory: MemoryStore, file: JournalFile, recovery: Recovery) {
        let sink: MemoryStore.ChangeSink = { queue.append($0) }
        guard let bytes = try JournalFile.contents(of: journalPath) else {
            let memory = MemoryStore(
                shardCount: shardCount, ringCapacity: ringCapacity, epoch: UInt64.random(in: 1...UInt64.max),
                latestSequence: 0, sink: sink)
            let snapshot = try JournalSnapshot.write(memory, journalPath: journalPath, directory: directory)
            return (memory, snapshot.file, Recovery(replayedEntries: 0, truncatedBytes: 0, compacted: false))
        }
        var replay = try JournalReplay(path: journalPath, bytes: bytes)
        let memory = MemoryStore(
            shardCount: shardCount, ringCapacity: ringCapacity, epoch: replay.epoch,
            latestSequence: replay.headerLatestSequence, sink: sink)
        var latest = replay.headerLatestSequence
        try replay.forEachEntry { (entry, lineNumber) throws(DurableStoreError) in
            switch entry {
            case .record(let sequence, let origin, let line):
                guard case .at(let atLine)? = try? MessageParser.parse(line) else {
                    throw .corruptJournal(path: journalPath, line: lineNumber, reason: "not a valid AT line")
                }
                memory.restore(StoredRecord(atLine, sequence: sequence, origin: memory.origins.id(for: origin)))
                latest = max(latest, sequence)
            case .cursor(let neighbour, let cursor):
                memory.setCursor(cursor, for: neighbour)
            case .header:
                break
            }
        }
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

    /// Runs the journal writer until graceful shutdown or cancellation, then writes and syncs everything
    /// stored until then. Throws if a write fails (the store then keeps serving from memory, and
    /// ``waitUntilDurable(_:)`` throws).
    public func run() async throws {
        let start: (file: JournalFile, entries: Int, lock: JournalFile)? = phase.withLock { phase in
            guard case .ready(let file, let entries, let lock) = phase else { return nil }
            phase = .running
            return (file, entries, lock)
        }
        guard let start else { throw DurableStoreError.alreadyRunning(directory: directory) }
        let finished = Readiness<Void>()
        let writer = self.writer
        let thread = Thread {
            let failure = writer.run(file: start.file, entries: start.entries, lock: start.lock)
            finished.resolve(failure.map { .failure($0) } ?? .success(()))
        }
        thread.name = "herd-journal"
        thread.start()
        let queue = self.queue
        defer { phase.withLock { $0 = .finished } }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await finished.wait()
            } onGracefulShutdown: {
                queue.stop()
            }
        } onCancel: {
            queue.stop()
        }
    }

    public func record(for client: ClientID) -> ATLine? { memory.record(for: client) }
    public func storedTime(for client: ClientID) -> ClientTime? { memory.storedTime(for: client) }
    public func store(_ line: ATLine, from origin: String?) -> UInt64? { memory.store(line, from: origin) }
    public var count: Int { memory.count }
    public var epoch: UInt64 { memory.epoch }
    public var latestSequence: UInt64 { memory.latestSequence }

    public func changes(after sequence: UInt64, limit: Int) -> [StoreChange] {
        memory.changes(after: sequence, limit: limit)
    }

    /// Returns once the write holding change `sequence` has returned (a number above ``latestSequence``
    /// waits for the latest). After the store stopped, throws ``DurableStoreError/stopped(directory:sequence:)``
    /// for a change that was not written (and returns for one that was).
    public func waitUntilDurable(_ sequence: UInt64) async throws {
        try await waiters.wait(for: min(sequence, memory.latestSequence))
    }

    public func cursor(for neighbour: String) -> PeerCursor? { memory.cursor(for: neighbour) }

    public func setCursor(_ cursor: PeerCursor, for neighbour: String) {
        memory.setCursor(cursor, for: neighbour)
        queue.setCursor(cursor, for: neighbour)
    }
}
