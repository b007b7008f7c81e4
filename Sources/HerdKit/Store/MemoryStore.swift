/// The in-memory ``LocationStore``: a table of compact records, a ring of recent changes for the change
/// feed, and the peer cursors. Used only on its server's event loop, so nothing locks. A client costs its
/// AT line and a 32-byte slot (see BENCHMARKS.md).
public final class MemoryStore: LocationStore, FloodSource {
    private let table = RecordTable()
    private let ring: ChangeRing
    private(set) var origins = OriginNames()
    private var cursors: [String: PeerCursor] = [:]
    public let epoch: UInt64
    /// Changes a journal has not taken yet (kept only for a ``DurableStore``), in sequence order.
    private var uncommitted: [StoredRecord] = []
    private var uncommittedCursors: [String: PeerCursor] = [:]
    private let keepsUncommitted: Bool
    /// Records stored since the peer links last took them, in sequence order.
    private var unflooded: [StoredRecord] = []
    /// The last full scan of the table, for a reader further behind than the ring (a neighbour catching up):
    /// the records numbered above `after` and up to `bound` when it ran, in sequence order.
    private var scan: (after: UInt64, bound: UInt64, changes: [(fingerprint: UInt32, sequence: UInt64)])?

    /// - Parameter ringCapacity: how many recent changes ``changes(after:limit:)`` can serve without scanning
    ///   every record; a reader further behind than this pays for one full scan.
    public convenience init(ringCapacity: Int = 65_536) {
        self.init(
            ringCapacity: ringCapacity, epoch: UInt64.random(in: 1...UInt64.max), latestSequence: 0,
            keepsUncommitted: false)
    }

    /// A store that continues a sequence (restored by a durable store).
    init(ringCapacity: Int, epoch: UInt64, latestSequence: UInt64, keepsUncommitted: Bool) {
        precondition(epoch != 0, "epoch 0 is reserved")
        self.ring = ChangeRing(capacity: ringCapacity, latest: latestSequence)
        self.epoch = epoch
        self.keepsUncommitted = keepsUncommitted
    }

    public func record(for client: ClientID) -> ATLine? {
        client.bytes.withUnsafeBytes { table.record(for: $0) }?.atLine
    }

    /// The last lookup for an update's client (dedupe asks, then store writes the same line): its hash and
    /// slot, valid while the table's version is unchanged, so one update costs one hash and one probe. It
    /// holds the line, so no other line can take its address meanwhile.
    private var lastLookup: (line: [UInt8], range: Range<Int>, slot: RecordTable.Slot, version: Int)?

    private func lookup(_ line: ATLine) -> RecordTable.Slot {
        if let last = lastLookup, last.version == table.version, last.range == line.clientRange,
            last.line.withUnsafeBytes({ $0.baseAddress }) == line.bytes.withUnsafeBytes({ $0.baseAddress })
        {
            return last.slot
        }
        let slot = line.bytes.withUnsafeBytes { bytes in
            let id = UnsafeRawBufferPointer(rebasing: bytes[line.clientRange])
            return table.probe(id, hash: RecordTable.hash(of: id))
        }
        lastLookup = (line.bytes, line.clientRange, slot, table.version)
        return slot
    }

    public func holds(exactly line: UnsafeRawBufferPointer) -> Bool {
        var fields = FieldCursor(line)
        guard fields.next() != nil, fields.next() != nil, fields.next() != nil, let id = fields.next(),
            let stored = table.record(for: UnsafeRawBufferPointer(rebasing: line[id]))
        else { return false }
        return stored.line.withUnsafeBytes { bytes in
            bytes.count == line.count && memcmp(bytes.baseAddress!, line.baseAddress!, line.count) == 0
        }
    }

    public func supersedes(_ line: ATLine, from origin: String?) -> Bool {
        guard let stored = table[lookup(line)] else { return true }
        return UpdateOrder.supersedes(line, local: origin == nil, stored: stored.time, storedLine: stored.line)
    }

    public func store(_ line: ATLine, from origin: String?) -> UInt64? {
        // A record keeps where the id starts in 16 bits: longer server names and skews are not AT lines of a herd.
        guard line.clientRange.lowerBound <= Int(UInt16.max) else { return nil }
        let slot = lookup(line)
        if let stored = table[slot] {
            guard UpdateOrder.supersedes(line, local: origin == nil, stored: stored.time, storedLine: stored.line)
            else { return nil }
        }
        let record = StoredRecord(line, sequence: ring.latest + 1, origin: origins.id(for: origin))
        table.put(record, at: slot)
        lastLookup = nil
        ring.append(slot.fingerprint)
        unflooded.append(record)
        if keepsUncommitted { uncommitted.append(record) }
        return record.sequence
    }

    /// Continues the sequence after `latest` (restored from a journal); only before the first store.
    func continueSequence(after latest: UInt64) {
        ring.restart(after: latest)
    }

    /// Puts back a record read from a journal, keeping its sequence number, unless a newer one is held.
    func restore(_ line: ATLine, sequence: UInt64, origin: String?) {
        guard line.clientRange.lowerBound <= Int(UInt16.max) else { return }
        let slot = lookup(line)
        // A journal holds each record under a higher number than the ones it replaced.
        if let stored = table[slot], stored.sequence >= sequence { return }
        table.put(StoredRecord(line, sequence: sequence, origin: origins.id(for: origin)), at: slot)
        lastLookup = nil
    }

    public var count: Int { table.count }

    public var latestSequence: UInt64 { ring.latest }

    public func changes(after sequence: UInt64, limit: Int) -> [StoreChange] {
        feed(after: sequence, limit: limit).records.map(change)
    }

    /// Up to `limit` current records numbered above `sequence`, lowest first, and the number the read covers
    /// up to: records between the last one returned and `through` were replaced since, under higher numbers.
    ///
    /// Reads the ring of recent changes when it still holds `sequence + 1`; otherwise a full scan, kept so
    /// that a reader far behind pays for one scan, not one per batch.
    func feed(after sequence: UInt64, limit: Int) -> (records: [StoredRecord], through: UInt64) {
        guard limit > 0, sequence < ring.latest else { return ([], max(sequence, ring.latest)) }
        var result: [StoredRecord] = []
        var next = sequence + 1
        if next < ring.oldest {
            if scan == nil || !(scan!.after <= sequence && sequence < scan!.bound) {
                var changes = table.changes(after: sequence)
                changes.sort { $0.sequence < $1.sequence }
                scan = (sequence, ring.latest, changes)
            }
            let scanned = scan!
            var index = firstIndex(in: scanned.changes, above: sequence)
            while index < scanned.changes.count, result.count < limit {
                let change = scanned.changes[index]
                if let record = table.record(fingerprint: change.fingerprint, sequence: change.sequence) {
                    result.append(record)
                }
                index += 1
            }
            if index < scanned.changes.count { return (result, scanned.changes[index - 1].sequence) }
            scan = nil
            next = scanned.bound + 1
            // What was changed while the scanned part was read comes from the ring, or from another scan.
            guard next >= ring.oldest else { return (result, scanned.bound) }
        }
        while next <= ring.latest, result.count < limit {
            if let record = table.record(fingerprint: ring.fingerprint(of: next), sequence: next) {
                result.append(record)
            }
            next += 1
        }
        return (result, next - 1)
    }

    private func firstIndex(in changes: [(fingerprint: UInt32, sequence: UInt64)], above sequence: UInt64) -> Int {
        var low = 0
        var high = changes.count
        while low < high {
            let middle = (low + high) / 2
            if changes[middle].sequence <= sequence { low = middle + 1 } else { high = middle }
        }
        return low
    }

    func change(_ record: StoredRecord) -> StoreChange {
        StoreChange(sequence: record.sequence, line: record.line, origin: origins.name(for: record.origin))
    }

    /// Nothing to write: memory is as durable as this store gets.
    public func commit() throws {}

    public var hasUncommittedChanges: Bool { !uncommitted.isEmpty || !uncommittedCursors.isEmpty }

    public func close() throws {}

    /// The changes since the last call, for a journal to write.
    func takeUncommitted() -> (records: [StoredRecord], cursors: [String: PeerCursor]) {
        defer {
            uncommitted.removeAll(keepingCapacity: true)
            uncommittedCursors.removeAll(keepingCapacity: true)
        }
        return (uncommitted, uncommittedCursors)
    }

    public func cursor(for neighbour: String) -> PeerCursor? {
        cursors[neighbour]
    }

    public func setCursor(_ cursor: PeerCursor, for neighbour: String) {
        cursors[neighbour] = cursor
        if keepsUncommitted { uncommittedCursors[neighbour] = cursor }
    }

    /// The records stored since the last call, numbered one after another: what the peer links send in a
    /// pass when they are caught up, without reading the table again.
    func takeUnflooded() -> [StoredRecord] {
        defer { unflooded.removeAll(keepingCapacity: true) }
        return unflooded
    }

    /// The id records use for `neighbour` as their origin.
    func originID(for neighbour: String) -> UInt16 {
        origins.id(for: neighbour)
    }

    /// Every cursor, for a snapshot.
    var allCursors: [String: PeerCursor] { cursors }

    /// Every record, for a snapshot.
    func forEachRecord(_ body: (StoredRecord) throws -> Void) rethrows {
        try table.forEach(body)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
