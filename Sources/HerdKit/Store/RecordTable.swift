/// The store's table: one record per client, found by the client id bytes inside each record's line, so a
/// lookup needs neither a key object nor an allocation.
///
/// Two parts, as in CPython's compact dictionaries: the records themselves, appended in segments of fixed
/// size (records are replaced, never removed, and a segment never moves), and an index of 8-byte slots
/// (a 32-bit fingerprint of the id's hash and the record's number), open addressing with linear probing.
/// A lookup probes the index, which is small enough to stay in cache, and touches a record only when a
/// fingerprint matches. Growing rebuilds only the index, from the fingerprints it holds: no record moves,
/// nothing is hashed again, and no large block is copied, so growth costs no noticeable pause.
///
/// Hashes come from the standard library's seeded hasher, so crafted ids cannot aim at one probe sequence.
/// A class, held by a `let`, so a lookup borrows the table rather than copying it (and retaining its arrays).
final class RecordTable {
    /// Where a record for an id is, or would go.
    struct Slot {
        /// The index slot.
        let index: Int
        /// The record's number when found.
        let entry: Int
        let fingerprint: UInt32
        var found: Bool { entry >= 0 }
    }

    private static let segmentShift = 16
    private static let segmentSize = 1 << segmentShift

    /// `fingerprint << 32 | (entry + 1)`; 0 is an empty slot.
    private var index: [UInt64]
    private var mask: Int
    private var segments: [[StoredRecord]] = []
    private(set) var count = 0
    /// Changes whenever a slot that ``probe(_:hash:)`` returned may no longer be right.
    private(set) var version = 0

    init(minimumCapacity: Int = 1024) {
        var capacity = 16
        while capacity < minimumCapacity { capacity <<= 1 }
        index = Array(repeating: 0, count: capacity)
        mask = capacity - 1
    }

    @inline(__always)
    static func hash(of id: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: id)
        return hasher.finalize()
    }

    @inline(__always)
    static func fingerprint(_ hash: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: hash)
    }

    @inline(__always)
    private func entry(_ number: Int) -> StoredRecord {
        segments[number >> Self.segmentShift][number & (Self.segmentSize - 1)]
    }

    /// The slot of the record for `id`, or the empty slot where it would go.
    @inline(__always)
    func probe(_ id: UnsafeRawBufferPointer, hash: Int) -> Slot {
        let fingerprint = Self.fingerprint(hash)
        return index.withUnsafeBufferPointer { slots in
            var position = Int(fingerprint) & mask
            while true {
                let slot = slots[position]
                if slot == 0 { return Slot(index: position, entry: -1, fingerprint: fingerprint) }
                if UInt32(truncatingIfNeeded: slot >> 32) == fingerprint {
                    let number = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                    if entry(number).hasID(id) { return Slot(index: position, entry: number, fingerprint: fingerprint) }
                }
                position = (position + 1) & mask
            }
        }
    }

    subscript(slot: Slot) -> StoredRecord? {
        slot.found ? entry(slot.entry) : nil
    }

    func record(for id: UnsafeRawBufferPointer) -> StoredRecord? {
        self[probe(id, hash: Self.hash(of: id))]
    }

    /// Puts `record` at `slot`, which ``probe(_:hash:)`` returned for its id with nothing changed since.
    func put(_ record: StoredRecord, at slot: Slot) {
        if slot.found {
            segments[slot.entry >> Self.segmentShift][slot.entry & (Self.segmentSize - 1)] = record
            return
        }
        let number = count
        if number & (Self.segmentSize - 1) == 0 {
            var segment: [StoredRecord] = []
            segment.reserveCapacity(Self.segmentSize)
            segments.append(segment)
        }
        segments[number >> Self.segmentShift].append(record)
        index[slot.index] = UInt64(slot.fingerprint) << 32 | UInt64(number + 1)
        count += 1
        version &+= 1
        // At most 3/4 full, so probe runs stay short.
        if count * 4 > index.count * 3 { grow() }
    }

    /// Doubles the index, placing each slot by the fingerprint it holds.
    private func grow() {
        let old = index
        index = Array(repeating: 0, count: old.count * 2)
        mask = index.count - 1
        let mask = self.mask
        index.withUnsafeMutableBufferPointer { slots in
            for slot in old where slot != 0 {
                var position = Int(UInt32(truncatingIfNeeded: slot >> 32)) & mask
                while slots[position] != 0 { position = (position + 1) & mask }
                slots[position] = slot
            }
        }
        version &+= 1
    }

    /// The record with this fingerprint and sequence number, if it is still current (not replaced).
    func record(fingerprint: UInt32, sequence: UInt64) -> StoredRecord? {
        index.withUnsafeBufferPointer { slots in
            var position = Int(fingerprint) & mask
            while true {
                let slot = slots[position]
                if slot == 0 { return nil }
                if UInt32(truncatingIfNeeded: slot >> 32) == fingerprint {
                    let record = entry(Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1)
                    if record.sequence == sequence { return record }
                }
                position = (position + 1) & mask
            }
        }
    }

    /// Every record, in the order they were first stored.
    func forEach(_ body: (StoredRecord) throws -> Void) rethrows {
        for segment in segments {
            for record in segment { try body(record) }
        }
    }

    /// The fingerprint and sequence number of every record numbered above `sequence`.
    func changes(after sequence: UInt64) -> [(fingerprint: UInt32, sequence: UInt64)] {
        var found: [(fingerprint: UInt32, sequence: UInt64)] = []
        for slot in index where slot != 0 {
            let record = entry(Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1)
            if record.sequence > sequence { found.append((UInt32(truncatingIfNeeded: slot >> 32), record.sequence)) }
        }
        return found
    }
}
