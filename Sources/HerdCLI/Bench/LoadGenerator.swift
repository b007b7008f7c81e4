import Foundation
import HerdKit
import NIOCore
import NIOPosix
import Synchronization

/// Opens connections to a client endpoint and runs a pipelined load over them.
struct LoadGenerator {
    let group: any EventLoopGroup

    /// Sends `total` commands split over `connections`, `window` in flight on each. Returns latencies and
    /// the elapsed seconds from the first connect to the last reply.
    func run(
        endpoint: Endpoint, connections: Int, total: Int, window: Int, replyEnd: PipelinedLoadHandler.ReplyEnd,
        command: @escaping @Sendable (_ connection: Int, _ index: Int) -> String
    ) async throws -> (LatencyStats, Double) {
        let start = MonotonicClock.nanoseconds()
        let perConnection = (0..<connections).map { total / connections + ($0 < total % connections ? 1 : 0) }
        let finished = FinishedConnections()
        // On a terminal, a phase that runs for more than a few seconds says it is still going.
        let progress =
            isatty(2) == 1
            ? Task {
                var seconds = 0
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(2))
                    seconds += 2
                    let done = finished.count.load(ordering: .relaxed)
                    FileHandle.standardError.write(
                        Data("  ... \(seconds) s, \(done) of \(connections) connections done\n".utf8))
                }
            } : nil
        defer { progress?.cancel() }
        let stats = try await withThrowingTaskGroup(of: LatencyStats.self) { tasks in
            for (connection, count) in perConnection.enumerated() where count > 0 {
                tasks.addTask {
                    let eventLoop = group.next()
                    let done = eventLoop.makePromise(of: LatencyStats.self)
                    let channel = try await ClientBootstrap(group: eventLoop)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(
                                    PipelinedLoadHandler(total: count, window: window, replyEnd: replyEnd, done: done) {
                                        command(connection, $0)
                                    })
                            }
                        }
                        .connect(host: endpoint.host, port: endpoint.port).get()
                    do {
                        defer { finished.count.add(1, ordering: .relaxed) }
                        return try await done.futureResult.get()
                    } catch {
                        try? await channel.close()
                        throw error
                    }
                }
            }
            var merged = LatencyStats()
            for try await part in tasks { merged.merge(part) }
            return merged
        }
        return (stats, Double(MonotonicClock.nanoseconds() - start) / 1e9)
    }
}

/// How many connections of a phase have finished, for its progress line.
private final class FinishedConnections: Sendable {
    let count = Atomic<Int>(0)
}
