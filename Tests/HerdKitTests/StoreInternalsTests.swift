import Testing

@testable import HerdKit

/// The hash and fingerprint the table uses for `client`.
private func fingerprint(of client: String) -> UInt32 {
    Array(client.utf8).withUnsafeBytes { RecordTable.fingerprint(RecordTable.hash(of: $0)) }
}

/// Puts `line` into `table` under `sequence`, as the memory store does: probe for its id, put at the slot.
/// Returns whether the client was already there.
@discardableResult
private func put(_ line: ATLine, sequence: UInt64, into table: RecordTable) -> Bool {
    line.bytes.withUnsafeBytes { bytes in
        let id = UnsafeRawBufferPointer(rebasing: bytes[line.clientRange])
        let slot = table.probe(id, hash: RecordTable.hash(of: id))
        table.put(StoredRecord(line, sequence: sequence, origin: OriginNames.local), at: slot)
        return slot.found
    }
}

private func lookUp(_ client: String, in table: RecordTable) -> StoredRecord? {
    Array(client.utf8).withUnsafeBytes { table.record(for: $0) }
}

private func line(_ client: String, _ seconds: Int) -> ATLine {
    parsedATLine("AT Alford +0.100000000 \(client) +1-1 \(seconds)")
}

@Suite("Record table")
struct RecordTableTests {
    @Test func aRecordIsFoundByItsClientIDAndOthersAreNot() {
        let table = RecordTable()
        #expect(lookUp("kiwi", in: table) == nil)
        #expect(!put(line("kiwi", 1), sequence: 1, into: table))
        #expect(!put(line("apple", 1), sequence: 2, into: table))
        #expect(table.count == 2)
        let kiwi = lookUp("kiwi", in: table)
        #expect(kiwi?.line == line("kiwi", 1).bytes)
        #expect(kiwi?.sequence == 1)
        #expect(kiwi.map { String(decoding: $0.clientIDBytes, as: UTF8.self) } == "kiwi")
        #expect(lookUp("apple", in: table)?.sequence == 2)
        for other in ["kiw", "kiwi.", "Kiwi", "", "appl"] { #expect(lookUp(other, in: table) == nil, "\(other)") }
    }

    @Test func puttingAtAFoundSlotReplacesTheRecord() {
        let table = RecordTable()
        put(line("kiwi", 1), sequence: 1, into: table)
        #expect(put(line("kiwi", 2), sequence: 7, into: table))
        #expect(table.count == 1)
        #expect(lookUp("kiwi", in: table)?.sequence == 7)
        #expect(lookUp("kiwi", in: table)?.line == line("kiwi", 2).bytes)
    }

    /// Past one segment of records (65 536) and through many doublings of the index from its smallest size.
    @Test func growthKeepsEveryRecordFindable() {
        let table = RecordTable(minimumCapacity: 1)
        let clients = 70_000
        for index in 0..<clients { put(line("client-\(index)", 1), sequence: UInt64(index + 1), into: table) }
        #expect(table.count == clients)
        var missing: [Int] = []
        for index in 0..<clients where lookUp("client-\(index)", in: table)?.sequence != UInt64(index + 1) {
            missing.append(index)
        }
        #expect(missing.isEmpty, "records lost or mixed up: \(missing.prefix(10))")
        #expect(lookUp("client-\(clients)", in: table) == nil)
        // Replacing after growth finds the record where it is.
        #expect(put(line("client-65536", 2), sequence: 100_000, into: table))
        #expect(lookUp("client-65536", in: table)?.sequence == 100_000)
        #expect(table.count == clients)
    }

    @Test func recordByFingerprintAndSequenceFindsOnlyTheCurrentRecord() {
        let table = RecordTable()
        put(line("kiwi", 1), sequence: 1, into: table)
        put(line("apple", 1), sequence: 2, into: table)
        put(line("kiwi", 2), sequence: 3, into: table)
        let kiwi = fingerprint(of: "kiwi")
        #expect(table.record(fingerprint: kiwi, sequence: 1) == nil, "replaced by sequence 3")
        #expect(table.record(fingerprint: kiwi, sequence: 3)?.line == line("kiwi", 2).bytes)
        #expect(table.record(fingerprint: kiwi, sequence: 2) == nil, "sequence 2 is another client's")
        #expect(table.record(fingerprint: fingerprint(of: "apple"), sequence: 2)?.line == line("apple", 1).bytes)
        #expect(table.record(fingerprint: fingerprint(of: "pear"), sequence: 3) == nil)
    }

    @Test func forEachVisitsEveryRecordOnceInTheOrderFirstStored() {
        let table = RecordTable(minimumCapacity: 1)
        for index in 0..<1000 { put(line("c\(index)", 1), sequence: UInt64(index + 1), into: table) }
        put(line("c5", 2), sequence: 1001, into: table)
        var visited: [String] = []
        // swift-format-ignore: ReplaceForEachWithForLoop
        table.forEach { visited.append(String(decoding: $0.clientIDBytes, as: UTF8.self)) }
        #expect(visited == (0..<1000).map { "c\($0)" })
        var sequences: [UInt64] = []
        // swift-format-ignore: ReplaceForEachWithForLoop
        table.forEach { sequences.append($0.sequence) }
        #expect(sequences[5] == 1001)
    }

    @Test func changesAfterASequenceAreTheCurrentRecordsAboveIt() {
        let table = RecordTable()
        put(line("a", 1), sequence: 1, into: table)
        put(line("b", 1), sequence: 2, into: table)
        put(line("a", 2), sequence: 3, into: table)
        put(line("c", 1), sequence: 4, into: table)
        let changes = table.changes(after: 1).sorted { $0.sequence < $1.sequence }
        #expect(changes.map(\.sequence) == [2, 3, 4])
        #expect(changes.map(\.fingerprint) == [fingerprint(of: "b"), fingerprint(of: "a"), fingerprint(of: "c")])
        #expect(table.changes(after: 4).isEmpty)
    }
}

@Suite("Change ring")
struct ChangeRingTests {
    @Test func anEmptyRingHoldsNothing() {
        let ring = ChangeRing(capacity: 4, latest: 0)
        #expect(ring.latest == 0)
        #expect(ring.oldest == 1)
        let restored = ChangeRing(capacity: 4, latest: 100)
        #expect(restored.latest == 100)
        #expect(restored.oldest == 101)
    }

    @Test func entriesAreKeptInSequenceOrderWhileThereIsRoom() {
        let ring = ChangeRing(capacity: 4, latest: 0)
        for fingerprint: UInt32 in [10, 20, 30] { ring.append(fingerprint) }
        #expect(ring.oldest == 1)
        #expect(ring.latest == 3)
        #expect((1...3).map(ring.fingerprint(of:)) == [10, 20, 30])
    }

    @Test(arguments: [1, 3, 4, 7])
    func aFullRingOverwritesItsOldestEntries(capacity: Int) {
        let ring = ChangeRing(capacity: capacity, latest: 0)
        for sequence in 1...25 { ring.append(UInt32(sequence * 11)) }
        #expect(ring.latest == 25)
        #expect(ring.oldest == UInt64(25 - capacity + 1))
        for sequence in ring.oldest...ring.latest {
            #expect(ring.fingerprint(of: sequence) == UInt32(sequence * 11), "sequence \(sequence)")
        }
    }

    @Test func aRingThatContinuesASequenceNumbersOnFromIt() {
        let ring = ChangeRing(capacity: 3, latest: 1_000)
        for sequence in 1_001...1_008 { ring.append(UInt32(sequence)) }
        #expect(ring.oldest == 1_006)
        #expect((1_006...1_008).map(ring.fingerprint(of:)) == [1_006, 1_007, 1_008])
    }

    @Test func restartingForgetsTheEntriesAndContinuesAfterTheGivenNumber() {
        let ring = ChangeRing(capacity: 3, latest: 0)
        for sequence in 1...5 { ring.append(UInt32(sequence)) }
        ring.restart(after: 1 << 32)
        #expect(ring.latest == 1 << 32)
        #expect(ring.oldest == (1 << 32) + 1)
        for offset in 1...4 { ring.append(UInt32(100 + offset)) }
        #expect(ring.latest == (1 << 32) + 4)
        #expect(ring.oldest == (1 << 32) + 2)
        #expect((ring.oldest...ring.latest).map(ring.fingerprint(of:)) == [102, 103, 104])
    }
}

@Suite("CRC-32")
struct CRC32Tests {
    /// The plain bytewise CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320).
    private func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    @Test func knownValues() {
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.checksum([UInt8](repeating: 0, count: 32)) == 0x190A_55AD)
    }

    @Test func slicingByEightAgreesWithTheBytewiseReferenceOnRandomInputs() {
        var rng = SplitMix64(seed: 0xC0FFEE)
        for _ in 0..<2000 {
            let count = Int.random(in: 0...300, using: &rng)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(CRC32.checksum(bytes) == reference(bytes), "\(bytes)")
            // From an unaligned start, and through the path for collections without contiguous storage.
            let offset = min(count, Int.random(in: 0...7, using: &rng))
            let tail = Array(bytes[offset...])
            #expect(CRC32.checksum(bytes[offset...]) == reference(tail))
            #expect(CRC32.checksum(bytes.lazy.map { $0 }) == reference(bytes))
        }
    }

    @Test func everyLengthAroundTheEightByteStepAgrees() {
        var rng = SplitMix64(seed: 8)
        for count in 0...40 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(CRC32.checksum(bytes) == reference(bytes), "length \(count)")
        }
    }
}
