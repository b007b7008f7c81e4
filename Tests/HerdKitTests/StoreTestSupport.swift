import Foundation
import Logging

@testable import HerdKit

/// An AT line for `client` with client time `seconds` (plus `nanoseconds`), as a server would produce it.
func atLine(_ client: String, _ seconds: Int, nanoseconds: Int = 0, server: String = "Alford") -> ATLine {
    let time = "\(seconds)." + String(format: "%09d", nanoseconds)
    let text = "AT \(server) +0.100000000 \(client) +34.068930-118.445127 \(time)"
    guard case .at(let line)? = try? MessageParser.parse(Array(text.utf8)) else {
        preconditionFailure("test line does not parse: \(text)")
    }
    return line
}

/// A fresh directory under the system's temporary directory, removed when `body` returns.
func withTemporaryDirectory<Result>(_ body: (String) async throws -> Result) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herd-store-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

/// Runs `store`'s journal writer around `body`, then stops it cleanly (final write and fsync).
func whileRunning<Result>(_ store: DurableStore, _ body: () async throws -> Result) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await store.run() }
        let result = try await body()
        group.cancelAll()
        try await group.waitForAll()
        return result
    }
}

/// The journal's lines (without LF).
func journalLines(_ store: DurableStore) throws -> [String] {
    try String(contentsOfFile: store.journalPath, encoding: .utf8).split(separator: "\n").map(String.init)
}

/// Everything a store holds that a restart must keep.
struct StoreState: Equatable {
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
    directory: String, compactionMinimumEntries: Int = 100_000, shardCount: Int = 16, ringCapacity: Int = 65_536
) throws(DurableStoreError) -> DurableStore {
    try DurableStore(
        directory: directory, compactionMinimumEntries: compactionMinimumEntries, shardCount: shardCount,
        ringCapacity: ringCapacity, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
}
