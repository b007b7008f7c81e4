/// The most recent stored records in sequence order, a bounded window over the store's sequence, so a peer
/// link that is nearly caught up reads its next changes in time proportional to what it reads, not to the
/// number of clients. Lives inside the store's sequence critical section.
///
/// Every sequence number the store hands out is appended, so the ring holds a gap-free run of numbers
/// ending at ``latest``; entry `s` sits at `(s - base) % capacity`.
struct ChangeRing {
    let capacity: Int
    /// The first sequence number appended by this store instance (numbers below it were restored).
    private let base: UInt64
    private var entries: [StoredRecord] = []
    /// The highest sequence number handed out so far (0 when none).
    private(set) var latest: UInt64

    init(capacity: Int, latest: UInt64) {
        precondition(capacity > 0, "a change ring needs room for at least one change")
        self.capacity = capacity
        self.latest = latest
        self.base = latest + 1
    }

    /// The lowest sequence number still held; `latest + 1` when the ring is empty.
    var oldest: UInt64 { latest + 1 - UInt64(entries.count) }

    /// Appends a record that got the next sequence number, overwriting the oldest one when full.
    mutating func append(_ record: StoredRecord) {
        precondition(record.sequence == latest + 1, "the ring takes sequence numbers in order")
        if entries.count < capacity {
            entries.append(record)
        } else {
            entries[index(of: record.sequence)] = record
        }
        latest = record.sequence
    }

    /// The entries numbered `first...last`, which must lie within `oldest...latest`.
    func entries(from first: UInt64, through last: UInt64) -> [StoredRecord] {
        precondition(first >= oldest && last <= latest)
        guard first <= last else { return [] }
        var result: [StoredRecord] = []
        result.reserveCapacity(Int(last - first + 1))
        for sequence in first...last { result.append(entries[index(of: sequence)]) }
        return result
    }

    private func index(of sequence: UInt64) -> Int {
        Int((sequence - base) % UInt64(capacity))
    }
}
