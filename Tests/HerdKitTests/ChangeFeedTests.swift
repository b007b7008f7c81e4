import Testing

@testable import HerdKit

@Suite("Memory store change feed")
struct ChangeFeedTests {
    @Test func sequenceNumbersIncreaseAndSkipStaleReports() {
        let store = MemoryStore()
        #expect(store.latestSequence == 0)
        #expect(store.store(atLine("a", 10), from: nil) == 1)
        #expect(store.store(atLine("b", 10), from: nil) == 2)
        #expect(store.store(atLine("a", 9), from: nil) == nil)
        #expect(store.store(atLine("a", 11), from: "Parker") == 3)
        #expect(store.latestSequence == 3)
    }

    @Test func epochsAreNonZeroAndDifferPerInstance() {
        let first = MemoryStore()
        let second = MemoryStore()
        #expect(first.epoch != 0)
        #expect(first.epoch != second.epoch)
    }

    @Test func aRecordUpdatedTwiceAppearsOnceUnderItsNewerNumber() {
        let store = MemoryStore()
        _ = store.store(atLine("a", 1), from: nil)
        _ = store.store(atLine("b", 1), from: nil)
        _ = store.store(atLine("a", 2), from: nil)
        let feed = store.changes(after: 0, limit: 10)
        #expect(feed.map(\.sequence) == [2, 3])
        #expect(feed.map(\.line) == [atLine("b", 1).bytes, atLine("a", 2).bytes])
    }

    @Test func theOriginIsKept() {
        let store = MemoryStore()
        _ = store.store(atLine("a", 1), from: "Parker")
        _ = store.store(atLine("b", 1), from: nil)
        _ = store.store(atLine("c", 1), from: "Welsh")
        _ = store.store(atLine("d", 1), from: "Parker")
        #expect(store.changes(after: 0, limit: 10).map(\.origin) == ["Parker", nil, "Welsh", "Parker"])
    }

    @Test(arguments: [1, 3, 64, 65_536])
    func theFeedMatchesAModelFromTheRingAndFromTheScan(ringCapacity: Int) {
        let store = MemoryStore(ringCapacity: ringCapacity)
        var model: [String: StoreChange] = [:]
        for step in 0..<200 {
            let client = "client-\((step * 37) % 23)"
            let origin = step % 3 == 0 ? "Parker" : nil
            let line = atLine(client, 1000 + step)
            if let sequence = store.store(line, from: origin) {
                model[client] = StoreChange(sequence: sequence, line: line.bytes, origin: origin)
            }
        }
        let expected = model.values.sorted { $0.sequence < $1.sequence }
        for after in [0, 1, 150, 177, 190, 199, 200, 300] {
            for limit in [1, 5, 1000] {
                let wanted = Array(expected.filter { $0.sequence > UInt64(after) }.prefix(limit))
                #expect(store.changes(after: UInt64(after), limit: limit) == wanted, "after \(after), limit \(limit)")
            }
        }
    }

    @Test func aReaderThatFellBehindTheRingCatchesUpPageByPage() {
        let store = MemoryStore(ringCapacity: 2)
        for index in 0..<10 { _ = store.store(atLine("c\(index)", 1), from: nil) }
        var acknowledged: UInt64 = 0
        var seen: [UInt64] = []
        while true {
            let page = store.changes(after: acknowledged, limit: 3)
            guard let last = page.last else { break }
            #expect(page.count <= 3)
            seen += page.map(\.sequence)
            acknowledged = last.sequence
        }
        #expect(seen == Array(1...10))
    }

    @Test func cursorsAreKeptPerNeighbour() {
        let store = MemoryStore()
        #expect(store.cursor(for: "Parker") == nil)
        store.setCursor(PeerCursor(neighbourEpoch: 7, acknowledged: 3), for: "Parker")
        store.setCursor(PeerCursor(neighbourEpoch: 7, acknowledged: 9), for: "Parker")
        store.setCursor(PeerCursor(neighbourEpoch: 1, acknowledged: 2), for: "Welsh")
        #expect(store.cursor(for: "Parker") == PeerCursor(neighbourEpoch: 7, acknowledged: 9))
        #expect(store.cursor(for: "Welsh") == PeerCursor(neighbourEpoch: 1, acknowledged: 2))
    }

    @Test func storesInAnyOrderGetDistinctNumbersAndTheFeedHoldsTheNewest() {
        let store = MemoryStore(ringCapacity: 100)
        var numbers: [UInt64] = []
        for time in 0..<300 {
            for client in ["a", "b", "c", "d"] {
                if let number = store.store(atLine(client, 1000, nanoseconds: (time * 7919) % 300), from: nil) {
                    numbers.append(number)
                }
            }
        }
        #expect(numbers == Array(1...UInt64(numbers.count)))
        #expect(store.latestSequence == UInt64(numbers.count))
        let feed = store.changes(after: 0, limit: 100)
        #expect(feed.count == 4)
        #expect(Set(feed.map(\.line)) == Set(["a", "b", "c", "d"].map { atLine($0, 1000, nanoseconds: 299).bytes }))
    }
}

/// The feed's internals: where a read comes from (the ring of recent changes or a scan of the table) and how
/// far it covers the sequence.
@Suite("Memory store feed")
struct FeedTests {
    /// The client ids of `records`, in order, with their sequence numbers: `c3@7`.
    private func names(_ records: [StoredRecord]) -> [String] {
        records.map { "\(String(decoding: $0.clientIDBytes, as: UTF8.self))@\($0.sequence)" }
    }

    @Test func aReaderWithinTheRingReadsTheNextChangesInOrder() {
        let store = MemoryStore(ringCapacity: 100)
        for index in 1...10 { _ = store.store(atLine("c\(index)", 1), from: nil) }
        let (records, through) = store.feed(after: 3, limit: 4)
        #expect(names(records) == ["c4@4", "c5@5", "c6@6", "c7@7"])
        #expect(through == 7)
        let (rest, end) = store.feed(after: through, limit: 100)
        #expect(names(rest) == ["c8@8", "c9@9", "c10@10"])
        #expect(end == 10)
    }

    @Test func aReaderThatIsCaughtUpGetsNothingAndStaysWhereItIs() {
        let store = MemoryStore(ringCapacity: 4)
        #expect(store.feed(after: 0, limit: 10).records.isEmpty)
        #expect(store.feed(after: 0, limit: 10).through == 0)
        _ = store.store(atLine("a", 1), from: nil)
        #expect(store.feed(after: 1, limit: 10).records.isEmpty)
        #expect(store.feed(after: 1, limit: 10).through == 1)
        #expect(store.feed(after: 0, limit: 0).records.isEmpty)
    }

    @Test func supersededRecordsAreSkippedAndThroughCoversThem() {
        let store = MemoryStore(ringCapacity: 100)
        _ = store.store(atLine("a", 1), from: nil)  // 1, replaced by 3
        _ = store.store(atLine("b", 1), from: nil)  // 2, replaced by 4
        _ = store.store(atLine("a", 2), from: nil)  // 3
        _ = store.store(atLine("b", 2), from: nil)  // 4
        _ = store.store(atLine("c", 1), from: nil)  // 5
        let first = store.feed(after: 0, limit: 1)
        #expect(names(first.records) == ["a@3"])
        #expect(first.through == 3)
        let second = store.feed(after: first.through, limit: 1)
        #expect(names(second.records) == ["b@4"])
        #expect(second.through == 4)
        let all = store.feed(after: 0, limit: 10)
        #expect(names(all.records) == ["a@3", "b@4", "c@5"])
        #expect(all.through == 5)
        // A reader just past the replaced numbers reads on from there.
        #expect(names(store.feed(after: 2, limit: 10).records) == ["a@3", "b@4", "c@5"])
    }

    @Test func aReaderBehindTheRingIsServedFromAScanPageByPage() {
        let store = MemoryStore(ringCapacity: 2)
        for index in 1...10 { _ = store.store(atLine("c\(index)", 1), from: nil) }
        let first = store.feed(after: 0, limit: 3)
        #expect(names(first.records) == ["c1@1", "c2@2", "c3@3"])
        #expect(first.through == 3)
        // Changes while the reader pages through: c4 is replaced (its old number is skipped), c11 is new.
        _ = store.store(atLine("c4", 2), from: nil)  // 11
        _ = store.store(atLine("c11", 1), from: nil)  // 12
        let second = store.feed(after: first.through, limit: 3)
        #expect(names(second.records) == ["c5@5", "c6@6", "c7@7"])
        #expect(second.through == 7)
        // The rest of the scan, then the ring for what changed since the scan was made.
        let third = store.feed(after: second.through, limit: 100)
        #expect(names(third.records) == ["c8@8", "c9@9", "c10@10", "c4@11", "c11@12"])
        #expect(third.through == 12)
    }

    @Test func aReaderFarBehindWhileTheRingMovesOnIsScannedAgain() {
        let store = MemoryStore(ringCapacity: 2)
        for index in 1...6 { _ = store.store(atLine("c\(index)", 1), from: nil) }
        let first = store.feed(after: 0, limit: 6)
        #expect(first.through == 6)
        for index in 1...6 { _ = store.store(atLine("d\(index)", 1), from: nil) }  // 7...12
        // Far behind again: 7 has left the ring (which holds 11 and 12).
        let second = store.feed(after: 6, limit: 100)
        #expect(names(second.records) == ["d1@7", "d2@8", "d3@9", "d4@10", "d5@11", "d6@12"])
        #expect(second.through == 12)
    }

    /// A model of the store, and readers that page through the feed with random limits while stores go on:
    /// each read returns current records above the cursor in sequence order, `through` never goes back and never
    /// passes the store, and a reader that catches up has seen the current record of every client.
    @Test(arguments: [1, 2, 7, 64])
    func readersPagingWhileStoresGoOnSeeEveryCurrentRecord(ringCapacity: Int) {
        var rng = SplitMix64(seed: UInt64(ringCapacity))
        let store = MemoryStore(ringCapacity: ringCapacity)
        var current: [String: UInt64] = [:]
        var cursors: [UInt64] = [0, 0, 0]
        var seen: [[String: UInt64]] = [[:], [:], [:]]
        for step in 0..<2000 {
            if Int.random(in: 0..<3, using: &rng) < 2 {
                let client = "c\(Int.random(in: 0..<40, using: &rng))"
                if let sequence = store.store(atLine(client, 1000 + step), from: nil) { current[client] = sequence }
            } else {
                let reader = Int.random(in: 0..<cursors.count, using: &rng)
                let limit = Int.random(in: 1...12, using: &rng)
                let (records, through) = store.feed(after: cursors[reader], limit: limit)
                #expect(records.count <= limit)
                #expect(through >= cursors[reader] && through <= store.latestSequence)
                var previous = cursors[reader]
                for record in records {
                    let client = String(decoding: record.clientIDBytes, as: UTF8.self)
                    #expect(record.sequence > previous && record.sequence <= through)
                    #expect(current[client] == record.sequence, "\(client)@\(record.sequence) is not current")
                    previous = record.sequence
                    seen[reader][client] = record.sequence
                }
                cursors[reader] = through
            }
        }
        for reader in cursors.indices {
            while cursors[reader] < store.latestSequence {
                let (records, through) = store.feed(after: cursors[reader], limit: 5)
                #expect(through > cursors[reader])
                for record in records {
                    seen[reader][String(decoding: record.clientIDBytes, as: UTF8.self)] = record.sequence
                }
                cursors[reader] = through
            }
            #expect(seen[reader] == current, "reader \(reader)")
        }
    }
}

/// A small seeded generator, so a failing model test replays.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
