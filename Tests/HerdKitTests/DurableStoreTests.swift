import Foundation
import Testing

@testable import HerdKit

@Suite("Durable store")
struct DurableStoreTests {
    /// Stores a few records (one replaced, some from neighbours) and cursors through a running store.
    private func fill(_ store: DurableStore) async throws {
        try await whileRunning(store) {
            _ = store.store(atLine("kiwi", 10), from: nil)
            _ = store.store(atLine("apple", 10), from: "Parker")
            _ = store.store(atLine("kiwi", 11), from: "Welsh")
            store.setCursor(PeerCursor(neighbourEpoch: 5, acknowledged: 1), for: "Parker")
            store.setCursor(PeerCursor(neighbourEpoch: 5, acknowledged: 2), for: "Parker")
            store.setCursor(PeerCursor(neighbourEpoch: 9, acknowledged: 3), for: "Welsh")
            try await store.waitUntilDurable(store.latestSequence)
        }
    }

    @Test func aReopenedStoreHasTheSameRecordsEpochSequenceCursorsAndFeed() async throws {
        try await withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory + "/Alford")
            try await fill(first)
            let before = StoreState(first)
            #expect(before.feed.map(\.origin) == ["Parker", "Welsh"])
            #expect(before.cursors["Parker"] == PeerCursor(neighbourEpoch: 5, acknowledged: 2))

            let second = try openDurableStore(directory: directory + "/Alford")
            #expect(StoreState(second, restarts: 1) == before)
            #expect(second.record(for: ClientID("kiwi")) == atLine("kiwi", 11))
            #expect(second.recovery.truncatedBytes == 0)
            #expect(!second.recovery.compacted)
            // Numbering goes on far above the replayed numbers: a machine crash may have lost some that a
            // neighbour already acknowledged, and they must not be reused.
            #expect(second.store(atLine("pear", 1), from: nil) == before.latestSequence + DurableStore.restartGap + 1)
            #expect(
                second.changes(after: 2, limit: 10).map(\.sequence) == [
                    3, before.latestSequence + DurableStore.restartGap + 1,
                ]
            )
        }
    }

    @Test func waitUntilDurableReturnsOnceTheChangeIsInTheJournal() async throws {
        try await withTemporaryDirectory { directory in
            let store = try openDurableStore(directory: directory)
            try await whileRunning(store) {
                let sequence = try #require(store.store(atLine("kiwi", 10), from: nil))
                try await store.waitUntilDurable(sequence)
                let lines = try journalLines(store)
                #expect(lines.last?.hasSuffix(String(decoding: atLine("kiwi", 10).bytes, as: UTF8.self)) == true)
                try await store.waitUntilDurable(0)
            }
        }
    }

    @Test func waitingForAChangeTheStoppedStoreNeverWroteThrows() async throws {
        try await withTemporaryDirectory { directory in
            let store = try openDurableStore(directory: directory)
            try await whileRunning(store) { _ = store.store(atLine("kiwi", 10), from: nil) }
            try await store.waitUntilDurable(1)
            let late = try #require(store.store(atLine("kiwi", 11), from: nil))
            await #expect(throws: DurableStoreError.stopped(directory: directory, sequence: late)) {
                try await store.waitUntilDurable(late)
            }
            await #expect(throws: DurableStoreError.alreadyRunning(directory: directory)) { try await store.run() }
        }
    }

    @Test func aTornFinalEntryIsCutOffAndEverythingBeforeItKept() async throws {
        try await withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory)
            try await fill(first)
            let before = StoreState(first)
            let size = try FileManager.default.attributesOfItem(atPath: first.journalPath)[.size] as? Int
            let handle = try #require(FileHandle(forWritingAtPath: first.journalPath))
            handle.seekToEndOfFile()
            handle.write(Data("0badc0de R 4 - AT Alford +0.1 pe".utf8))
            try handle.close()

            let second = try openDurableStore(directory: directory)
            #expect(StoreState(second, restarts: 1) == before)
            #expect(second.recovery.truncatedBytes == 32)
            #expect(try FileManager.default.attributesOfItem(atPath: second.journalPath)[.size] as? Int == size)
            try await whileRunning(second) {
                _ = second.store(atLine("pear", 1), from: nil)
                try await second.waitUntilDurable(second.latestSequence)
            }
            let third = try openDurableStore(directory: directory)
            #expect(third.count == before.count + 1)
            #expect(third.recovery.truncatedBytes == 0)
        }
    }

    @Test func aDamagedEntryInTheMiddleStopsStartUpNamingFileAndLine() async throws {
        try await withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory)
            try await fill(first)
            var lines = try journalLines(first)
            lines[2] = lines[2].replacingOccurrences(of: "apple", with: "apples")
            try (lines.joined(separator: "\n") + "\n").write(
                toFile: first.journalPath, atomically: false, encoding: .utf8)

            let error = try #require(throws: DurableStoreError.self) { try openDurableStore(directory: directory) }
            guard case .corruptJournal(let path, let line, let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == first.journalPath)
            #expect(line == 3)
            #expect(reason.contains("checksum"))
            #expect(error.description.contains(first.journalPath))
            #expect(error.description.contains("line 3"))
        }
    }

    @Test func aJournalFromANewerFormatIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let header = JournalEntry.header(version: JournalEntry.version + 1, epoch: 42, latestSequence: 0)
            try Data(header.encoded()).write(to: URL(fileURLWithPath: directory + "/journal"))
            #expect(
                throws: DurableStoreError.unsupportedVersion(
                    path: directory + "/journal", found: JournalEntry.version + 1, supported: JournalEntry.version)
            ) {
                try openDurableStore(directory: directory)
            }
        }
    }

    @Test func aSecondStoreOnTheSameDirectoryIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory)
            #expect(throws: DurableStoreError.inUse(directory: directory)) {
                try openDurableStore(directory: directory)
            }
            try await whileRunning(first) {}
            _ = try openDurableStore(directory: directory)
        }
    }

    /// Five clients updated 100 times each: far more entries than live records.
    private func churn(_ store: DurableStore) async throws {
        try await whileRunning(store) {
            for round in 1...100 {
                for client in ["a", "b", "c", "d", "e"] {
                    _ = store.store(atLine(client, round), from: round % 2 == 0 ? "Parker" : nil)
                }
                store.setCursor(PeerCursor(neighbourEpoch: 3, acknowledged: UInt64(round)), for: "Welsh")
                try await store.waitUntilDurable(store.latestSequence)
            }
        }
    }

    @Test func theWriterCompactsAndKeepsEveryRecordCursorAndSequence() async throws {
        try await withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory, compactionMinimumEntries: 20)
            try await churn(first)
            let before = StoreState(first)
            #expect(before.latestSequence == 500)
            #expect(try journalLines(first).count < 100)

            let second = try openDurableStore(directory: directory, compactionMinimumEntries: 20)
            #expect(StoreState(second, restarts: 1) == before)
            #expect(second.record(for: ClientID("c")) == atLine("c", 100, server: "Alford"))
            #expect(second.changes(after: 495, limit: 10).map(\.origin) == Array(repeating: "Parker", count: 5))
        }
    }

    @Test func startUpCompactsAJournalThatGrewTooLong() async throws {
        try await withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory)
            try await churn(first)
            let before = StoreState(first)
            let linesBefore = try journalLines(first).count
            #expect(linesBefore > 500)

            let second = try openDurableStore(directory: directory, compactionMinimumEntries: 20)
            #expect(second.recovery.compacted)
            #expect(StoreState(second, restarts: 1) == before)
            #expect(try journalLines(second).count == 1 + 5 + 1)
            try await whileRunning(second) {}

            let third = try openDurableStore(directory: directory)
            #expect(StoreState(third, restarts: 2) == before)
        }
    }

    @Test func concurrentStoresKeepTheNewestPerClientAcrossARestart() async throws {
        try await withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory, shardCount: 4, ringCapacity: 64)
            try await whileRunning(first) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for time in 0..<200 {
                        for client in ["a", "b", "c", "d", "e"] {
                            group.addTask {
                                let line = atLine(client, 1000, nanoseconds: (time * 7919) % 200)
                                if let sequence = first.store(line, from: "Bolden") {
                                    try await first.waitUntilDurable(sequence)
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let before = StoreState(first)
            let second = try openDurableStore(directory: directory)
            #expect(StoreState(second, restarts: 1) == before)
            for client in ["a", "b", "c", "d", "e"] {
                #expect(second.record(for: ClientID(client)) == atLine(client, 1000, nanoseconds: 199))
            }
        }
    }
}

@Suite("Journal entries")
struct JournalEntryTests {
    @Test(arguments: [
        (UInt64(0), String?.none), (1, "Parker"), (4_294_967_296, "odd name%"), (UInt64.max, "-"),
    ])
    func theRecordEncoderWritesWhatTheDecoderReads(sequence: UInt64, origin: String?) throws {
        let line = Array("AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503".utf8)
        var appended: [UInt8] = Array("already here\n".utf8)
        JournalEntry.appendRecord(sequence: sequence, origin: origin, line: line, to: &appended)
        #expect(appended.prefix(13).elementsEqual("already here\n".utf8))
        let entry = Array(appended.dropFirst(13))
        #expect(entry.last == UInt8(ascii: "\n"))
        #expect(
            try JournalEntry.decode(entry.dropLast()) == .record(sequence: sequence, origin: origin, line: line))
    }

    /// The format on disk, byte for byte: CRC-32 (zlib's) of the payload in 8 hex digits, then the payload.
    @Test func aRecordEntryIsItsChecksumThenItsFields() {
        let line = "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
        let parker = JournalEntry.record(sequence: 1, origin: "Parker", line: Array(line.utf8)).encoded()
        #expect(String(decoding: parker, as: UTF8.self) == "ca16a524 R 1 Parker \(line)\n")
        let escaped = JournalEntry.record(sequence: 4_294_967_296, origin: "odd name%", line: Array(line.utf8))
        #expect(String(decoding: escaped.encoded(), as: UTF8.self) == "b30a2a83 R 4294967296 odd%20name%25 \(line)\n")
    }
}
