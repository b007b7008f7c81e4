import Foundation
import Logging
import NIOCore

@testable import HerdKit

/// An AT line for `client` with client time `seconds` (plus `nanoseconds`), as a server would produce it.
func atLine(_ client: String, _ seconds: Int, nanoseconds: Int = 0, server: String = "Alford") -> ATLine {
    let time = "\(seconds)." + String(format: "%09d", nanoseconds)
    return parsedATLine("AT \(server) +0.100000000 \(client) +34.068930-118.445127 \(time)")
}

/// A fresh directory under the system's temporary directory, removed when `body` returns.
func withTemporaryDirectory<Result>(_ body: (String) throws -> Result) throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herd-store-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try body(directory)
}

/// A fresh directory under the system's temporary directory, removed when `body` returns.
func withTemporaryDirectoryAsync<Result>(_ body: (String) async throws -> Result) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herd-store-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

/// The journal's lines (without LF).
func journalLines(_ store: DurableStore) throws -> [String] {
    try journalLines(at: store.journalPath)
}

func journalLines(at path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
}

/// The journal's bytes as they are on disk.
func journalBytes(_ store: DurableStore) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: store.journalPath)))
}

/// Everything a store holds that a restart must keep.
struct StoreState: Equatable, Sendable {
    var epoch: UInt64
    var latestSequence: UInt64
    var count: Int
    var feed: [StoreChange]
    var cursors: [String: PeerCursor]

    /// - Parameter restarts: how often the store was opened again from its journal; each time its numbering
    ///   restarted ``DurableStore/restartGap`` above the highest number replayed, taken off again to compare.
    init(_ store: some LocationStore, neighbours: [String] = ["Parker", "Welsh", "Bolden"], restarts: UInt64 = 0) {
        epoch = store.epoch
        latestSequence = store.latestSequence - restarts * DurableStore.restartGap
        count = store.count
        feed = store.changes(after: 0, limit: Int.max)
        cursors = [:]
        for neighbour in neighbours { cursors[neighbour] = store.cursor(for: neighbour) }
    }
}

/// A durable store that logs nowhere (the tests check its recovery report instead).
func openDurableStore(
    directory: String, fsyncIntervalMilliseconds: Int = 1000, compactionMinimumEntries: Int = 100_000,
    ringCapacity: Int = 65_536, eventLoop: (any EventLoop)? = nil
) throws(DurableStoreError) -> DurableStore {
    try DurableStore(
        directory: directory, fsyncIntervalMilliseconds: fsyncIntervalMilliseconds,
        compactionMinimumEntries: compactionMinimumEntries, ringCapacity: ringCapacity, eventLoop: eventLoop,
        logger: Logger.quiet)
}
