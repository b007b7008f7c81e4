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
        let store = MemoryStore(shardCount: 4, ringCapacity: ringCapacity)
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

    @Test func concurrentStoresGetDistinctNumbersAndTheFeedHoldsTheNewest() async {
        let store = MemoryStore(shardCount: 4, ringCapacity: 100)
        let numbers = await withTaskGroup(of: UInt64?.self) { group in
            for time in 0..<300 {
                for client in ["a", "b", "c", "d"] {
                    group.addTask { store.store(atLine(client, 1000, nanoseconds: (time * 7919) % 300), from: nil) }
                }
            }
            var numbers: [UInt64] = []
            for await number in group { if let number { numbers.append(number) } }
            return numbers
        }
        #expect(Set(numbers).count == numbers.count)
        #expect(store.latestSequence == UInt64(numbers.count))
        let feed = store.changes(after: 0, limit: 100)
        #expect(feed.count == 4)
        #expect(Set(feed.map(\.line)) == Set(["a", "b", "c", "d"].map { atLine($0, 1000, nanoseconds: 299).bytes }))
    }
}
