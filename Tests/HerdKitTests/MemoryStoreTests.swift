import Testing

@testable import HerdKit

/// An AT line built directly, without the parser.
private func line(
    _ client: String, seconds: UInt64, nanoseconds: UInt32 = 0, subnano: String = "", server: String = "S"
)
    -> ATLine
{
    let time = ClientTime(
        isNegative: false, seconds: seconds, nanoseconds: nanoseconds, subnanoDigits: Array(subnano.utf8))
    return ATLine(
        bytes: Array("AT \(server) +0.000000000 \(client) +1+1 \(time)".utf8), server: server,
        clientID: ClientID(client), coordinates: Coordinates(latitude: 1, longitude: 1), time: time)
}

@Suite("Memory store")
struct MemoryStoreTests {
    @Test func anEmptyStore() {
        let store = MemoryStore()
        #expect(store.count == 0)
        #expect(store.record(for: ClientID("kiwi")) == nil)
    }

    @Test func theFirstReportIsStored() {
        let store = MemoryStore()
        let first = line("kiwi", seconds: 10)
        #expect(store.storeIfNewer(first))
        #expect(store.record(for: ClientID("kiwi")) == first)
        #expect(store.count == 1)
    }

    @Test func onlyANewerTimeReplacesTheRecord() {
        let store = MemoryStore()
        let first = line("kiwi", seconds: 10, nanoseconds: 5, server: "A")
        #expect(store.storeIfNewer(first))
        #expect(!store.storeIfNewer(line("kiwi", seconds: 10, nanoseconds: 5, server: "B")))
        #expect(!store.storeIfNewer(line("kiwi", seconds: 10, nanoseconds: 4, server: "C")))
        #expect(!store.storeIfNewer(line("kiwi", seconds: 9, nanoseconds: 999_999_999, subnano: "9", server: "D")))
        #expect(store.record(for: ClientID("kiwi"))?.server == "A")
        let newer = line("kiwi", seconds: 10, nanoseconds: 5, subnano: "1", server: "E")
        #expect(store.storeIfNewer(newer))
        #expect(store.record(for: ClientID("kiwi")) == newer)
        #expect(store.count == 1)
    }

    @Test(arguments: [1, 2, 16, 64])
    func clientsAreKeptApart(shards: Int) {
        let store = MemoryStore(shardCount: shards)
        for index in 0..<100 {
            #expect(store.storeIfNewer(line("client-\(index)", seconds: UInt64(index))))
        }
        #expect(store.count == 100)
        #expect(store.record(for: ClientID("client-42"))?.time.seconds == 42)
        #expect(store.record(for: ClientID("client-100")) == nil)
        #expect(!store.storeIfNewer(line("client-7", seconds: 6)))
        #expect(store.record(for: ClientID("client-7"))?.time.seconds == 7)
    }

    @Test func clientIDsAreComparedByteForByte() {
        let store = MemoryStore()
        #expect(store.storeIfNewer(line("kiwi", seconds: 1)))
        #expect(store.storeIfNewer(line("Kiwi", seconds: 1)))
        #expect(store.storeIfNewer(line("kiwi.", seconds: 1)))
        #expect(store.count == 3)
    }

    @Test func concurrentReportsKeepTheNewest() async {
        let store = MemoryStore(shardCount: 4)
        // Times 0...999 for each of five clients, handed out in an order that is not sorted.
        let times = (0..<1000).map { ($0 * 7919) % 1000 }
        let successes = await withTaskGroup(of: Bool.self) { group in
            for time in times {
                for client in ["a", "b", "c", "d", "e"] {
                    group.addTask {
                        store.storeIfNewer(line(client, seconds: 1_000, nanoseconds: UInt32(time)))
                    }
                }
            }
            var count = 0
            for await stored in group where stored { count += 1 }
            return count
        }
        #expect(successes >= 5)
        #expect(store.count == 5)
        for client in ["a", "b", "c", "d", "e"] {
            #expect(store.record(for: ClientID(client))?.time.seconds == 1_000)
            #expect(store.record(for: ClientID(client))?.time.nanoseconds == 999)
        }
    }

    @Test func concurrentIdenticalReportsAreStoredOnce() async {
        let store = MemoryStore()
        let successes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 {
                group.addTask { store.storeIfNewer(line("kiwi", seconds: 5)) }
            }
            var count = 0
            for await stored in group where stored { count += 1 }
            return count
        }
        #expect(successes == 1)
    }
}
