import Synchronization

/// The in-memory ``LocationStore``: sets of compact records split into shards, each behind its own mutex,
/// so connections on different threads rarely wait for one another. A client costs its AT line and one
/// 48-byte set slot (about 230 bytes in all; see BENCHMARKS.md).
///
/// Sequence numbers are handed out in one short global critical section taken inside the client's shard
/// lock (lock order: shard, then sequence), so they are unique, increase, and a client's newer record always
/// has the higher number. The same critical section appends to a ring of recent changes (what
/// ``changes(after:limit:)`` reads first) and calls the optional change sink, which is how ``DurableStore``
/// receives every change in sequence order.
public final class MemoryStore: LocationStore {
    /// Receives each stored record inside the sequence critical section, hence in sequence order. It must
    /// be quick and must not call back into the store.
    typealias ChangeSink = @Sendable (StoredRecord) -> Void

    private final class Shard: Sendable {
        let records = Mutex<Set<StoredRecord>>([])
    }

    private let shards: [Shard]
    private let ring: Mutex<ChangeRing>
    private let sink: ChangeSink?
    let origins = OriginNames()
    private let cursors = Mutex<[String: PeerCursor]>([:])
    public let epoch: UInt64

    /// - Parameters:
    ///   - shardCount: how many independently locked parts the table has.
    ///   - ringCapacity: how many recent changes ``changes(after:limit:)`` can serve without scanning every
    ///     record; a reader further behind than this pays for a full scan.
    public convenience init(shardCount: Int = 16, ringCapacity: Int = 65_536) {
        self.init(
            shardCount: shardCount, ringCapacity: ringCapacity, epoch: UInt64.random(in: 1...UInt64.max),
            latestSequence: 0, sink: nil)
    }

    /// A store that continues a sequence (restored by a durable store) and reports changes to `sink`.
    init(shardCount: Int, ringCapacity: Int, epoch: UInt64, latestSequence: UInt64, sink: ChangeSink?) {
        precondition(shardCount > 0, "a store needs at least one shard")
        precondition(epoch != 0, "epoch 0 is reserved")
        self.shards = (0..<shardCount).map { _ in Shard() }
        self.ring = Mutex(ChangeRing(capacity: ringCapacity, latest: latestSequence))
        self.sink = sink
        self.epoch = epoch
    }

    private func shard(for probe: StoredRecord) -> Shard {
        shards[Int(UInt(bitPattern: probe.hashValue) % UInt(shards.count))]
    }

    private func stored(_ client: ClientID) -> StoredRecord? {
        let probe = StoredRecord(probe: client)
        return shard(for: probe).records.withLock { records in
            records.firstIndex(of: probe).map { records[$0] }
        }
    }

    public func record(for client: ClientID) -> ATLine? {
        stored(client)?.atLine
    }

    public func storedTime(for client: ClientID) -> ClientTime? {
        stored(client)?.time
    }

    public func store(_ line: ATLine, from origin: String?) -> UInt64? {
        let candidate = StoredRecord(line, sequence: 0, origin: origins.id(for: origin))
        return shard(for: candidate).records.withLock { records in
            if let index = records.firstIndex(of: candidate), !(records[index].time < line.time) { return nil }
            let record = ring.withLock { ring in
                let record = candidate.numbered(ring.latest + 1)
                ring.append(record)
                sink?(record)
                return record
            }
            records.update(with: record)
            return record.sequence
        }
    }

    /// Continues the sequence after `latest` (restored from a journal); only before the first store.
    func continueSequence(after latest: UInt64) {
        ring.withLock { ring in ring = ChangeRing(capacity: ring.capacity, latest: latest) }
    }

    /// Puts back a record read from a journal, keeping its sequence number, unless a newer one is held.
    func restore(_ record: StoredRecord) {
        shard(for: record).records.withLock { records in
            if let index = records.firstIndex(of: record), !record.supersedes(records[index]) { return }
            records.update(with: record)
        }
    }

    public var count: Int {
        shards.reduce(0) { total, shard in total + shard.records.withLock { $0.count } }
    }

    public var latestSequence: UInt64 {
        ring.withLock { $0.latest }
    }

    /// Reads the ring of recent changes when it still holds `sequence + 1`, skipping entries whose record
    /// was replaced since (the replacement comes later under its own number); otherwise scans every shard.
    public func changes(after sequence: UInt64, limit: Int) -> [StoreChange] {
        guard limit > 0, sequence < UInt64.max else { return [] }
        var result: [StoreChange] = []
        var next = sequence + 1
        while result.count < limit {
            let wanted = UInt64(limit - result.count)
            let chunk: [StoredRecord]? = ring.withLock { ring in
                guard next <= ring.latest else { return [] }
                guard next >= ring.oldest else { return nil }
                return ring.entries(from: next, through: next - 1 + min(ring.latest - next + 1, wanted))
            }
            guard let chunk else {
                result += scan(after: next - 1, limit: limit - result.count)
                break
            }
            guard let last = chunk.last else { break }
            for entry in chunk where isCurrent(entry) { result.append(change(entry)) }
            next = last.sequence + 1
        }
        return result
    }

    /// Every record numbered above `sequence` but not above the latest number at the start of the scan: a
    /// record numbered below that bound is either visible or still held by its writer's shard lock, so the
    /// result has no gaps a reader could acknowledge past.
    private func scan(after sequence: UInt64, limit: Int) -> [StoreChange] {
        let bound = latestSequence
        var found: [StoredRecord] = []
        for shard in shards {
            shard.records.withLock { records in
                for record in records where record.sequence > sequence && record.sequence <= bound {
                    found.append(record)
                }
            }
        }
        found.sort { $0.sequence < $1.sequence }
        return found.prefix(limit).map(change)
    }

    private func isCurrent(_ entry: StoredRecord) -> Bool {
        shard(for: entry).records.withLock { records in
            records.firstIndex(of: entry).map { records[$0].sequence == entry.sequence } ?? false
        }
    }

    private func change(_ record: StoredRecord) -> StoreChange {
        StoreChange(sequence: record.sequence, line: record.line, origin: origins.name(for: record.origin))
    }

    /// Nothing to wait for: memory is as durable as this store gets.
    public func waitUntilDurable(_ sequence: UInt64) async throws {}

    public func cursor(for neighbour: String) -> PeerCursor? {
        cursors.withLock { $0[neighbour] }
    }

    public func setCursor(_ cursor: PeerCursor, for neighbour: String) {
        cursors.withLock { $0[neighbour] = cursor }
    }

    /// Every cursor, for a snapshot.
    var allCursors: [String: PeerCursor] {
        cursors.withLock { $0 }
    }

    /// Hands each shard's records to `body`, one shard at a time, copied out so no lock is held while
    /// `body` runs (a snapshot of a live store; changes made meanwhile reach the journal through the sink).
    func forEachShard<Failure: Error>(_ body: ([StoredRecord]) throws(Failure) -> Void) throws(Failure) {
        for shard in shards {
            let records = shard.records.withLock { Array($0) }
            try body(records)
        }
    }
}
