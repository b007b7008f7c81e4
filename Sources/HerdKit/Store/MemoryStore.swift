import Synchronization

/// The in-memory ``LocationStore``: sets of compact records split into shards, each behind its own mutex,
/// so connections on different threads rarely wait for one another. A client costs its AT line and one
/// set slot (about 200 bytes; see BENCHMARKS.md).
public final class MemoryStore: LocationStore {
    private final class Shard: Sendable {
        let records = Mutex<Set<StoredRecord>>([])
    }

    private let shards: [Shard]

    public init(shardCount: Int = 16) {
        precondition(shardCount > 0)
        self.shards = (0..<shardCount).map { _ in Shard() }
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

    public func storeIfNewer(_ line: ATLine) -> Bool {
        let record = StoredRecord(line)
        return shard(for: record).records.withLock { records in
            if let index = records.firstIndex(of: record), !(records[index].time < line.time) { return false }
            records.update(with: record)
            return true
        }
    }

    public var count: Int {
        shards.reduce(0) { total, shard in total + shard.records.withLock { $0.count } }
    }
}
