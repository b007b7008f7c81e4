import Synchronization

/// The in-memory ``LocationStore``: a dictionary split into shards, each behind its own mutex, so
/// connections on different threads rarely wait for one another.
public final class MemoryStore: LocationStore {
    private final class Shard: Sendable {
        let table = Mutex<[ClientID: ATLine]>([:])
    }

    private let shards: [Shard]

    public init(shardCount: Int = 16) {
        precondition(shardCount > 0)
        self.shards = (0..<shardCount).map { _ in Shard() }
    }

    private func shard(for client: ClientID) -> Shard {
        var hasher = Hasher()
        hasher.combine(client)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
    }

    public func record(for client: ClientID) -> ATLine? {
        shard(for: client).table.withLock { $0[client] }
    }

    public func storeIfNewer(_ line: ATLine) -> Bool {
        shard(for: line.clientID).table.withLock { table in
            if let current = table[line.clientID], !(current.time < line.time) { return false }
            table[line.clientID] = line
            return true
        }
    }

    public var count: Int {
        shards.reduce(0) { total, shard in total + shard.table.withLock { $0.count } }
    }
}
