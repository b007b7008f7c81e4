/// The most recent changes in sequence order, a bounded window over the store's sequence, so a peer link
/// that is nearly caught up reads its next changes in time proportional to what it reads, not to the number
/// of clients.
///
/// Every sequence number the store hands out is appended, so the ring holds a gap-free run of numbers
/// ending at ``latest``; entry `s` sits at `(s - base) % capacity`. An entry is only the changed record's
/// fingerprint (four bytes, no reference): the record is found again in the table by fingerprint and
/// sequence number, and an entry whose record was replaced since is simply not found.
///
/// A class, held by a `let`, so reading an entry does not copy the ring (and retain its array).
final class ChangeRing {
    let capacity: Int
    /// The first sequence number appended by this store instance (numbers below it were restored).
    private var base: UInt64
    private var entries: [UInt32] = []
    /// The highest sequence number handed out so far (0 when none).
    private(set) var latest: UInt64

    init(capacity: Int, latest: UInt64) {
        precondition(capacity > 0, "a change ring needs room for at least one change")
        self.capacity = capacity
        self.latest = latest
        self.base = latest + 1
    }

    /// Starts over after `latest` (a store restored from a journal continues its sequence there).
    func restart(after latest: UInt64) {
        entries.removeAll()
        self.latest = latest
        base = latest + 1
    }

    /// The lowest sequence number still held; `latest + 1` when the ring is empty.
    var oldest: UInt64 { latest + 1 - UInt64(entries.count) }

    /// Appends the fingerprint of the record that got the next sequence number, overwriting the oldest
    /// entry when full.
    func append(_ fingerprint: UInt32) {
        if entries.count < capacity {
            entries.append(fingerprint)
        } else {
            entries[index(of: latest + 1)] = fingerprint
        }
        latest += 1
    }

    /// The fingerprint of change `sequence`, which must lie within `oldest...latest`.
    func fingerprint(of sequence: UInt64) -> UInt32 {
        precondition(sequence >= oldest && sequence <= latest)
        return entries[index(of: sequence)]
    }

    private func index(of sequence: UInt64) -> Int {
        Int((sequence - base) % UInt64(capacity))
    }
}
