import Foundation
import HerdTesting
import NIOCore
import NIOEmbedded
import Testing

@testable import HerdKit

@Suite("Durable store")
struct DurableStoreTests {
    /// Stores a few records (one replaced, some from neighbours) and cursors, and commits them.
    private func fill(_ store: DurableStore) throws {
        _ = store.store(atLine("kiwi", 10), from: nil)
        _ = store.store(atLine("apple", 10), from: "Parker")
        _ = store.store(atLine("kiwi", 11), from: "Welsh")
        store.setCursor(PeerCursor(neighbourEpoch: 5, acknowledged: 1), for: "Parker")
        store.setCursor(PeerCursor(neighbourEpoch: 5, acknowledged: 2), for: "Parker")
        store.setCursor(PeerCursor(neighbourEpoch: 9, acknowledged: 3), for: "Welsh")
        try store.commit()
    }

    @Test func aReopenedStoreHasTheSameRecordsEpochSequenceCursorsAndFeed() throws {
        try withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory + "/Alford")
            try fill(first)
            let before = StoreState(first)
            #expect(before.feed.map(\.origin) == ["Parker", "Welsh"])
            #expect(before.cursors["Parker"] == PeerCursor(neighbourEpoch: 5, acknowledged: 2))
            try first.close()

            let second = try openDurableStore(directory: directory + "/Alford")
            #expect(StoreState(second, restarts: 1) == before)
            #expect(second.record(for: ClientID("kiwi")) == atLine("kiwi", 11))
            #expect(second.recovery == DurableStore.Recovery(replayedEntries: 5, truncatedBytes: 0, compacted: false))
            // Numbering goes on far above the replayed numbers: a machine crash may have lost some that a
            // neighbour already acknowledged, and they must not be reused.
            #expect(second.store(atLine("pear", 1), from: nil) == before.latestSequence + DurableStore.restartGap + 1)
            #expect(
                second.changes(after: 2, limit: 10).map(\.sequence) == [
                    3, before.latestSequence + DurableStore.restartGap + 1,
                ]
            )
            try second.close()
        }
    }

    @Test func aChangeIsInTheJournalOnceCommitted() throws {
        try withTemporaryDirectory { directory in
            let store = try openDurableStore(directory: directory)
            let kiwi = String(decoding: atLine("kiwi", 10).bytes, as: UTF8.self)
            let sequence = try #require(store.store(atLine("kiwi", 10), from: nil))
            #expect(sequence == 1)
            #expect(store.hasUncommittedChanges)
            #expect(try journalLines(store).allSatisfy { !$0.hasSuffix(kiwi) }, "nothing is written before commit")
            try store.commit()
            #expect(!store.hasUncommittedChanges)
            #expect(try journalLines(store).last?.hasSuffix("R 1 - " + kiwi) == true)
            // A commit with nothing new writes nothing.
            let length = try journalBytes(store).count
            try store.commit()
            #expect(try journalBytes(store).count == length)
            try store.close()
        }
    }

    @Test func oneCommitWritesEveryChangeSinceTheLastOnceInOrder() throws {
        try withTemporaryDirectory { directory in
            let store = try openDurableStore(directory: directory)
            _ = store.store(atLine("a", 1), from: nil)
            _ = store.store(atLine("b", 1), from: "Parker")
            _ = store.store(atLine("a", 2), from: nil)
            store.setCursor(PeerCursor(neighbourEpoch: 7, acknowledged: 1), for: "Welsh")
            store.setCursor(PeerCursor(neighbourEpoch: 7, acknowledged: 2), for: "Welsh")
            try store.commit()
            let entries = try journalLines(store).dropFirst().map { String($0.split(separator: " ", maxSplits: 1)[1]) }
            #expect(
                entries == [
                    "R 1 - " + String(decoding: atLine("a", 1).bytes, as: UTF8.self),
                    "R 2 Parker " + String(decoding: atLine("b", 1).bytes, as: UTF8.self),
                    "R 3 - " + String(decoding: atLine("a", 2).bytes, as: UTF8.self),
                    "C Welsh 0000000000000007 2",
                ])
            try store.close()
        }
    }

    @Test func closeCommitsWhatIsPendingAndTheClosedStoreTakesNoMoreCommits() throws {
        try withTemporaryDirectory { directory in
            let store = try openDurableStore(directory: directory)
            _ = store.store(atLine("kiwi", 10), from: nil)
            try store.close()
            try store.close()  // closing again does nothing
            let late = try #require(store.store(atLine("kiwi", 11), from: nil))
            #expect(throws: DurableStoreError.stopped(directory: directory, sequence: late)) { try store.commit() }

            let reopened = try openDurableStore(directory: directory)
            #expect(reopened.record(for: ClientID("kiwi")) == atLine("kiwi", 10))
            try reopened.close()
        }
    }

    @Test func aTornFinalEntryIsCutOffAndEverythingBeforeItKept() throws {
        try withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory)
            try fill(first)
            let before = StoreState(first)
            try first.close()
            let size = try FileManager.default.attributesOfItem(atPath: first.journalPath)[.size] as? Int
            let handle = try #require(FileHandle(forWritingAtPath: first.journalPath))
            handle.seekToEndOfFile()
            handle.write(Data("0badc0de R 4 - AT Alford +0.1 pe".utf8))
            try handle.close()

            let second = try openDurableStore(directory: directory)
            #expect(StoreState(second, restarts: 1) == before)
            #expect(second.recovery.truncatedBytes == 32)
            #expect(try FileManager.default.attributesOfItem(atPath: second.journalPath)[.size] as? Int == size)
            _ = second.store(atLine("pear", 1), from: nil)
            try second.close()

            let third = try openDurableStore(directory: directory)
            #expect(third.count == before.count + 1)
            #expect(third.recovery.truncatedBytes == 0)
            try third.close()
        }
    }

    @Test func aDamagedEntryInTheMiddleStopsStartUpNamingFileAndLine() throws {
        try withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory)
            try fill(first)
            try first.close()
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

    @Test func aJournalFromANewerFormatIsRefused() throws {
        try withTemporaryDirectory { directory in
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

    @Test func aSecondStoreOnTheSameDirectoryIsRefusedUntilTheFirstIsClosed() throws {
        try withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory)
            #expect(throws: DurableStoreError.inUse(directory: directory)) {
                try openDurableStore(directory: directory)
            }
            try first.close()
            let second = try openDurableStore(directory: directory)
            try second.close()
        }
    }

    /// Five clients updated `rounds` times each, one commit per round: far more entries than live records.
    private func churn(_ store: DurableStore, rounds: ClosedRange<Int> = 1...100) throws {
        for round in rounds {
            for client in ["a", "b", "c", "d", "e"] {
                _ = store.store(atLine(client, round), from: round % 2 == 0 ? "Parker" : nil)
            }
            store.setCursor(PeerCursor(neighbourEpoch: 3, acknowledged: UInt64(round)), for: "Welsh")
            try store.commit()
        }
    }

    @Test func commitCompactsAndKeepsEveryRecordCursorAndSequence() throws {
        try withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory, compactionMinimumEntries: 20)
            try churn(first)
            let before = StoreState(first)
            #expect(before.latestSequence == 500)
            #expect(try journalLines(first).count < 100)
            try first.close()

            let second = try openDurableStore(directory: directory, compactionMinimumEntries: 20)
            #expect(StoreState(second, restarts: 1) == before)
            #expect(second.record(for: ClientID("c")) == atLine("c", 100, server: "Alford"))
            #expect(second.changes(after: 495, limit: 10).map(\.origin) == Array(repeating: "Parker", count: 5))
            try second.close()
        }
    }

    @Test func startUpCompactsAJournalThatGrewTooLong() throws {
        try withTemporaryDirectory { directory in
            let first = try openDurableStore(directory: directory)
            try churn(first)
            let before = StoreState(first)
            let linesBefore = try journalLines(first).count
            #expect(linesBefore > 500)
            try first.close()

            let second = try openDurableStore(directory: directory, compactionMinimumEntries: 20)
            #expect(second.recovery.compacted)
            #expect(StoreState(second, restarts: 1) == before)
            #expect(try journalLines(second).count == 1 + 5 + 1)
            try second.close()

            let third = try openDurableStore(directory: directory)
            #expect(StoreState(third, restarts: 2) == before)
            try third.close()
        }
    }

    /// With an event loop, compaction writes its snapshot on another thread while the loop goes on storing and
    /// committing: what changed meanwhile must reach the new journal too.
    @Test func changesMadeWhileABackgroundCompactionRunsSurviveAReopen() async throws {
        try await withTemporaryDirectoryAsync { directory in
            let loop = NIOAsyncTestingEventLoop()
            let store = try await loop.submit {
                NIOLoopBound(
                    try openDurableStore(directory: directory, compactionMinimumEntries: 20, eventLoop: loop),
                    eventLoop: loop)
            }.get()
            let journalPath = directory + "/journal"
            let originalHeader = try #require(try journalLines(at: journalPath).first)
            // One loop task: the compaction starts at the fourth round, and cannot finish (it finishes on the
            // loop) before every later round and the new clients are committed.
            try await loop.submit {
                try churn(store.value, rounds: 1...10)
                for index in 0..<40 { _ = store.value.store(atLine("late-\(index)", 1), from: "Bolden") }
                try store.value.commit()
            }.get()
            try await eventually("the compacted journal is installed") {
                try journalLines(at: journalPath).first != originalHeader
            }
            let late = String(decoding: atLine("late-39", 1).bytes, as: UTF8.self)
            #expect(try journalLines(at: journalPath).contains { $0.hasSuffix(late) })
            #expect(try journalLines(at: journalPath).count < 1 + 10 * 6 + 40)
            try await loop.submit {
                for index in 0..<5 { _ = store.value.store(atLine("later-\(index)", 1), from: nil) }
                try store.value.commit()
            }.get()
            let before = try await loop.submit {
                let state = StoreState(store.value, neighbours: ["Welsh"])
                try store.value.close()
                return state
            }.get()
            #expect(before.count == 5 + 40 + 5)

            let reopened = try openDurableStore(directory: directory)
            #expect(StoreState(reopened, neighbours: ["Welsh"], restarts: 1) == before)
            #expect(reopened.record(for: ClientID("late-39")) == atLine("late-39", 1))
            #expect(reopened.cursor(for: "Welsh") == PeerCursor(neighbourEpoch: 3, acknowledged: 10))
            #expect(!FileManager.default.fileExists(atPath: journalPath + ".compacting"))
            try reopened.close()
            await loop.shutdownGracefully()
        }
    }

    #if os(Linux)
        @Test func aFailedWriteLeavesNothingHalfWrittenAndTheNextCommitWritesIt() throws {
            try withTemporaryDirectory { directory in
                let store = try openDurableStore(directory: directory, fsyncIntervalMilliseconds: 0)
                try fill(store)
                let committed = try journalBytes(store)
                _ = store.store(atLine("pear", 1), from: nil)
                store.setCursor(PeerCursor(neighbourEpoch: 5, acknowledged: 9), for: "Parker")
                try withFullDisk(under: store.journalPath) {
                    #expect(throws: DurableStoreError.io(path: store.journalPath, operation: "write", errno: ENOSPC)) {
                        try store.commit()
                    }
                }
                #expect(try journalBytes(store) == committed)
                #expect(store.hasUncommittedChanges)
                // A change made after the failed write goes out with the retried ones, after them.
                _ = store.store(atLine("plum", 1), from: "Welsh")
                try store.commit()
                #expect(!store.hasUncommittedChanges)
                let added = try journalLines(store).suffix(3).map { $0.split(separator: " ", maxSplits: 2)[1] }
                #expect(added == ["R", "C", "R"])
                #expect(
                    try journalLines(store).filter { $0.hasSuffix(" pear +34.068930-118.445127 1.000000000") }.count
                        == 1)
                let before = StoreState(store)
                try store.close()

                let reopened = try openDurableStore(directory: directory)
                #expect(StoreState(reopened, restarts: 1) == before)
                #expect(reopened.recovery.truncatedBytes == 0)
                try reopened.close()
            }
        }
    #endif
}

#if os(Linux)
    /// Makes every write to the open descriptor of `path` fail with ENOSPC while `body` runs, as on a full disk:
    /// the descriptor is pointed at `/dev/full`, then back at the file.
    private func withFullDisk(under path: String, _ body: () throws -> Void) throws {
        let target = try #require(
            realpath(path, nil).map { pointer in
                defer { free(pointer) }
                return String(cString: pointer)
            })
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap(Int32.init)
        let matching = descriptors.filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == target
        }
        let descriptor = try #require(matching.first, "the store has its journal open")
        #expect(matching.count == 1)
        let saved = dup(descriptor)
        let full = open("/dev/full", O_WRONLY)
        try #require(saved >= 0 && full >= 0)
        _ = dup2(full, descriptor)
        _ = close(full)
        defer {
            _ = dup2(saved, descriptor)
            _ = close(saved)
        }
        try body()
    }
#endif

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

    @Test(arguments: [String?.none, "Parker", "odd name%", "-", "Zürich"])
    func anEscapedOriginGivesTheSameEntryAsItsName(origin: String?) {
        let line = Array("AT Alford +0.263873386 kiwi +1-1 1.5".utf8)
        var byName: [UInt8] = []
        JournalEntry.appendRecord(sequence: 42, origin: origin, line: line, to: &byName)
        var escaped: [UInt8] = []
        let journalName = origin.map { Array(JournalEntry.escape($0).utf8) } ?? [UInt8(ascii: "-")]
        JournalEntry.appendRecord(sequence: 42, origin: journalName, line: line, to: &escaped)
        #expect(escaped == byName)
        var names = OriginNames()
        let id = names.id(for: origin)
        #expect(names.journalName(for: id) == journalName)
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

@Suite("Journal snapshot")
struct JournalSnapshotTests {
    @Test func aSnapshotIsAValueTakenWhenMade() throws {
        let memory = MemoryStore()
        _ = memory.store(atLine("a", 1), from: nil)
        _ = memory.store(atLine("b", 1), from: "Parker")
        memory.setCursor(PeerCursor(neighbourEpoch: 2, acknowledged: 1), for: "Parker")
        let snapshot = JournalSnapshot(of: memory)
        _ = memory.store(atLine("c", 1), from: nil)
        _ = memory.store(atLine("a", 2), from: nil)
        #expect(snapshot.entries == 3)
        #expect(snapshot.latestSequence == 2)
        #expect(snapshot.epoch == memory.epoch)
        #expect(snapshot.records.map(\.sequence) == [1, 2])
    }

    @Test func aWrittenAndInstalledSnapshotOpensAsTheStoreItWasTakenOf() throws {
        try withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let memory = MemoryStore()
            _ = memory.store(atLine("a", 1), from: nil)
            _ = memory.store(atLine("b", 1), from: "Parker")
            _ = memory.store(atLine("a", 2), from: "Welsh")
            memory.setCursor(PeerCursor(neighbourEpoch: 2, acknowledged: 3), for: "Parker")
            let journalPath = directory + "/journal"
            let written = try JournalSnapshot(of: memory).write(journalPath: journalPath)
            #expect(FileManager.default.fileExists(atPath: JournalSnapshot.temporaryPath(for: journalPath)))
            let installed = try JournalSnapshot.install(written, journalPath: journalPath, directory: directory)
            installed.close()
            #expect(!FileManager.default.fileExists(atPath: JournalSnapshot.temporaryPath(for: journalPath)))

            let store = try openDurableStore(directory: directory)
            #expect(StoreState(store, restarts: 1) == StoreState(memory))
            #expect(store.recovery.replayedEntries == 3)
            try store.close()
        }
    }
}
