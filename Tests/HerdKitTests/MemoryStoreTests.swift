import Testing

@testable import HerdKit

/// An AT line for `client` at `seconds`, `nanoseconds` and extra digits `subnano`, received by `server`.
private func line(
    _ client: String, seconds: UInt64, nanoseconds: UInt32 = 0, subnano: String = "", server: String = "S"
) -> ATLine {
    let time = ClientTime(
        isNegative: false, seconds: seconds, nanoseconds: nanoseconds, subnanoDigits: Array(subnano.utf8))
    return parsedATLine("AT \(server) +0.000000000 \(client) +1+1 \(time)")
}

/// Whether `store` holds exactly the bytes of `text` for the client named in it.
private func holds(_ store: MemoryStore, _ text: String) -> Bool {
    Array(text.utf8).withUnsafeBytes { store.holds(exactly: $0) }
}

@Suite("Memory store")
struct MemoryStoreTests {
    @Test func anEmptyStore() {
        let store = MemoryStore()
        #expect(store.count == 0)
        #expect(store.record(for: ClientID("kiwi")) == nil)
        #expect(store.latestSequence == 0)
        #expect(!store.hasUncommittedChanges)
    }

    @Test func theFirstReportIsStored() {
        let store = MemoryStore()
        let first = line("kiwi", seconds: 10)
        #expect(store.storeIfNewer(first))
        #expect(store.record(for: ClientID("kiwi")) == first)
        #expect(store.storedTime(for: ClientID("kiwi")) == first.time)
        #expect(store.count == 1)
    }

    @Test func theRecordReadBackHasTheFieldsOfTheLineStored() {
        let store = MemoryStore()
        let stored = parsedATLine("AT Welsh -3.000000001 kiwi.cs.ucla.edu +27.5916+086.5640 1621464827.9594985031")
        _ = store.store(stored, from: "Parker")
        let record = store.record(for: ClientID("kiwi.cs.ucla.edu"))
        #expect(record?.bytes == stored.bytes)
        #expect(record?.server == "Welsh")
        #expect(record?.clientID == ClientID("kiwi.cs.ucla.edu"))
        #expect(record?.coordinates == Coordinates(latitude: 27.5916, longitude: 86.5640))
        #expect(record?.time == stored.time)
        #expect(record?.time.subnanoDigits == Array("1".utf8))
    }

    @Test func onlyANewerTimeReplacesAClientsOwnReport() {
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

    @Test func clientsAreKeptApart() {
        let store = MemoryStore()
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
        #expect(store.storeIfNewer(line("kiw", seconds: 1)))
        #expect(store.count == 4)
        #expect(store.record(for: ClientID("kiwi."))?.clientID == ClientID("kiwi."))
    }

    @Test func reportsInAnyOrderKeepTheNewest() {
        let store = MemoryStore()
        // Times 0...999 for each of five clients, in an order that is not sorted.
        let times = (0..<1000).map { ($0 * 7919) % 1000 }
        var stored = 0
        for time in times {
            for client in ["a", "b", "c", "d", "e"]
            where store.storeIfNewer(line(client, seconds: 1_000, nanoseconds: UInt32(time))) {
                stored += 1
            }
        }
        #expect(stored >= 5)
        #expect(store.count == 5)
        for client in ["a", "b", "c", "d", "e"] {
            #expect(store.record(for: ClientID(client))?.time.seconds == 1_000)
            #expect(store.record(for: ClientID(client))?.time.nanoseconds == 999)
        }
    }

    @Test func identicalReportsAreStoredOnce() {
        let store = MemoryStore()
        let stored = (0..<200).filter { _ in store.storeIfNewer(line("kiwi", seconds: 5)) }
        #expect(stored.count == 1)
        #expect(store.latestSequence == 1)
    }

    @Test func supersedesAgreesWithStore() {
        let store = MemoryStore()
        let first = line("kiwi", seconds: 10)
        #expect(store.supersedes(first, from: nil))
        _ = store.store(first, from: nil)
        for candidate in [
            line("kiwi", seconds: 9), line("kiwi", seconds: 10), line("kiwi", seconds: 10, server: "T"),
            line("kiwi", seconds: 10, server: "R"), line("kiwi", seconds: 11),
        ] {
            for origin in [nil, "Parker"] {
                let expected = store.supersedes(candidate, from: origin)
                let copy = MemoryStore()
                _ = copy.store(first, from: nil)
                #expect(
                    (copy.store(candidate, from: origin) != nil) == expected, "\(candidate.bytes) from \(origin ?? "-")"
                )
            }
        }
    }

    @Test func aMemoryStoreHasNothingToCommit() throws {
        let store = MemoryStore()
        _ = store.store(line("kiwi", seconds: 1), from: nil)
        store.setCursor(PeerCursor(neighbourEpoch: 1, acknowledged: 1), for: "Parker")
        #expect(!store.hasUncommittedChanges)
        try store.commit()
        try store.close()
        #expect(store.record(for: ClientID("kiwi")) != nil)
    }
}

@Suite("Memory store: holds(exactly:)")
struct HoldsExactlyTests {
    private let kiwi = "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"

    @Test func theStoredBytesAreHeld() {
        let store = MemoryStore()
        _ = store.store(parsedATLine(kiwi), from: "Parker")
        #expect(holds(store, kiwi))
    }

    @Test(
        "Other bytes for the client, or another client, are not held",
        arguments: [
            "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498504",
            "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.95949850",
            "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.9594985030",
            "AT Bolden +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503",
            "AT Alford  +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503",
            "AT Alford +0.263873386 kiwi.cs.ucla.ed +34.068930-118.445127 1621464827.959498503",
            "AT Alford +0.263873386 kiwi.cs.ucla.edu",
            "AT Alford +0.263873386",
            "AT",
            "",
        ])
    func otherBytesAreNotHeld(text: String) {
        let store = MemoryStore()
        _ = store.store(parsedATLine(kiwi), from: "Parker")
        #expect(!holds(store, text))
    }

    @Test func anEmptyStoreHoldsNothing() {
        #expect(!holds(MemoryStore(), kiwi))
    }

    @Test func aReplacedRecordIsNoLongerHeld() {
        let store = MemoryStore()
        _ = store.store(parsedATLine(kiwi), from: nil)
        let newer = "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464828"
        _ = store.store(parsedATLine(newer), from: nil)
        #expect(!holds(store, kiwi))
        #expect(holds(store, newer))
    }

    @Test func theProtocolDefaultAgreesWithTheMemoryStore() {
        let memory = MemoryStore()
        _ = memory.store(parsedATLine(kiwi), from: nil)
        let plain = PlainStore(wrapping: memory)
        for text in [kiwi, kiwi + "0", "AT Alford +0.263873386 kiwi +1+1 1", "AT x y", ""] {
            let expected = holds(memory, text)
            #expect(Array(text.utf8).withUnsafeBytes { plain.holds(exactly: $0) } == expected, "\(text)")
        }
    }
}

/// A store of a user's own, with only the required members (so `holds(exactly:)` is the protocol's default).
private final class PlainStore: LocationStore {
    let memory: MemoryStore
    init(wrapping memory: MemoryStore) { self.memory = memory }
    func record(for client: ClientID) -> ATLine? { memory.record(for: client) }
    func supersedes(_ line: ATLine, from origin: String?) -> Bool { memory.supersedes(line, from: origin) }
    func store(_ line: ATLine, from origin: String?) -> UInt64? { memory.store(line, from: origin) }
    var count: Int { memory.count }
    var epoch: UInt64 { memory.epoch }
    var latestSequence: UInt64 { memory.latestSequence }
    func changes(after sequence: UInt64, limit: Int) -> [StoreChange] { memory.changes(after: sequence, limit: limit) }
    func commit() throws {}
    var hasUncommittedChanges: Bool { false }
    func close() throws {}
    func cursor(for neighbour: String) -> PeerCursor? { memory.cursor(for: neighbour) }
    func setCursor(_ cursor: PeerCursor, for neighbour: String) { memory.setCursor(cursor, for: neighbour) }
}

@Suite("Update order")
struct UpdateOrderTests {
    private let alford = parsedATLine("AT Alford +0.100000000 kiwi +1+1 1621464827.5")
    private let bolden = parsedATLine("AT Bolden +0.200000000 kiwi +2+2 1621464827.5")

    @Test func aNewerTimeAlwaysWins() {
        let older = parsedATLine("AT Zed +0.100000000 kiwi +1+1 1621464827.4")
        for local in [true, false] {
            #expect(UpdateOrder.supersedes(alford, local: local, stored: older.time, storedLine: older.bytes))
            #expect(!UpdateOrder.supersedes(older, local: local, stored: alford.time, storedLine: alford.bytes))
        }
    }

    @Test func withEqualTimesAClientsOwnReportIsADuplicate() {
        #expect(!UpdateOrder.supersedes(bolden, local: true, stored: alford.time, storedLine: alford.bytes))
        #expect(!UpdateOrder.supersedes(alford, local: true, stored: bolden.time, storedLine: bolden.bytes))
        let store = MemoryStore()
        _ = store.store(alford, from: "Parker")
        #expect(store.store(bolden, from: nil) == nil)
        #expect(store.record(for: ClientID("kiwi")) == alford)
    }

    @Test func withEqualTimesAPeerLineWithGreaterBytesReplacesAndSmallerDoesNot() {
        #expect(UpdateOrder.supersedes(bolden, local: false, stored: alford.time, storedLine: alford.bytes))
        #expect(!UpdateOrder.supersedes(alford, local: false, stored: bolden.time, storedLine: bolden.bytes))
        #expect(!UpdateOrder.supersedes(alford, local: false, stored: alford.time, storedLine: alford.bytes))
        let store = MemoryStore()
        _ = store.store(alford, from: nil)
        #expect(store.store(bolden, from: "Parker") == 2)
        #expect(store.store(alford, from: "Welsh") == nil)
        #expect(store.record(for: ClientID("kiwi")) == bolden)
    }

    @Test func aLongerLineThatStartsWithTheStoredOneIsGreater() {
        let short = parsedATLine("AT Alford +0.100000000 kiwi +1+1 1621464827.5")
        let long = parsedATLine("AT Alford +0.100000000 kiwi +1+1 1621464827.50")
        #expect(short.time == long.time)
        #expect(UpdateOrder.supersedes(long, local: false, stored: short.time, storedLine: short.bytes))
        #expect(!UpdateOrder.supersedes(short, local: false, stored: long.time, storedLine: long.bytes))
    }

    @Test func bytesAreComparedUnsigned() {
        // A UTF-8 server name (bytes at or above 0x80) sorts after ASCII on every server.
        let utf8 = parsedATLine("AT \u{C4}lford +0.100000000 kiwi +1+1 1621464827.5")
        let ascii = parsedATLine("AT Zed +0.100000000 kiwi +1+1 1621464827.5")
        #expect(UpdateOrder.supersedes(utf8, local: false, stored: ascii.time, storedLine: ascii.bytes))
        #expect(!UpdateOrder.supersedes(ascii, local: false, stored: utf8.time, storedLine: utf8.bytes))
    }

    /// Alford and Bolden each take a report of the same time from the client and flood it to the other.
    @Test func twoServersThatTookTheSameTimeKeepTheSameLine() {
        let atAlford = MemoryStore()
        let atBolden = MemoryStore()
        #expect(atAlford.store(alford, from: nil) != nil)
        #expect(atBolden.store(bolden, from: nil) != nil)
        _ = atAlford.store(bolden, from: "Bolden")
        _ = atBolden.store(alford, from: "Alford")
        #expect(atAlford.record(for: ClientID("kiwi")) == bolden)
        #expect(atBolden.record(for: ClientID("kiwi")) == bolden)
    }

    /// Bolden has Alford's line before the client reports the same time to it: the report is a duplicate, not
    /// stored and so not flooded, and both keep Alford's line.
    @Test func aReportArrivingAfterThePeerLineOfTheSameTimeKeepsThePeerLine() {
        let atAlford = MemoryStore()
        let atBolden = MemoryStore()
        #expect(atAlford.store(alford, from: nil) != nil)
        #expect(atBolden.store(alford, from: "Alford") != nil)
        #expect(atBolden.store(bolden, from: nil) == nil)
        #expect(atAlford.record(for: ClientID("kiwi")) == alford)
        #expect(atBolden.record(for: ClientID("kiwi")) == alford)
    }

    /// Two servers that got the same-time lines in opposite orders from their neighbours keep the same one, so
    /// the herd converges.
    @Test(arguments: [0, 1, 2, 3, 4, 5, 6, 7])
    func bothOrdersOfArrivalConvergeOnTheSameRecord(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        let lines = (0..<4).map { index in
            parsedATLine("AT S\(index)\(Int.random(in: 0..<100, using: &rng)) +0.100000000 kiwi +1+1 1621464827.5")
        }
        let greatest = lines.max { $0.bytes.lexicographicallyPrecedes($1.bytes) }!
        for order in [lines, lines.reversed(), lines.shuffled(using: &rng)] {
            let store = MemoryStore()
            for line in order { _ = store.store(line, from: "Parker") }
            #expect(store.record(for: ClientID("kiwi")) == greatest)
        }
    }
}
