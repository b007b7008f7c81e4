import ArgumentParser
import Foundation
import HerdKit
import NIOCore
import NIOPosix
import Transports

/// `herd bench`: a load generator and the figures of BENCHMARKS.md. Every mode ends on its own.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a herd: throughput, latency, propagation, replication and memory.",
        discussion: """
            Without --spawn it drives a running herd (the config's client endpoints, or the default herd's). \
            With --spawn it starts the herd in this process on free ports first.
            """)

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case iamat, whatsat, propagation, replication, memory, all
    }

    @Argument(help: "iamat, whatsat, propagation, replication, memory or all.")
    var mode: Mode = .all

    @OptionGroup var config: ConfigOption

    @Flag(help: "Start the herd in this process (free ports, logs in a temporary directory).")
    var spawn = false

    @Flag(help: "A few seconds in all: small counts, for CI.")
    var smoke = false

    @Option(help: "Server that takes the IAMAT/WHATSAT load (default: the first in the config).")
    var server: String?

    @Option(help: "Connections for the throughput modes.")
    var connections = 8

    @Option(help: "Commands in flight per connection.")
    var window = 64

    @Option(help: "Commands for the throughput modes.")
    var count = 200_000

    @Option(help: "Samples for the propagation mode.")
    var samples = 2_000

    @Option(help: "Clients stored for the memory mode.")
    var clients = 1_000_000

    func run() async throws {
        let base = try config.load()
        if mode == .memory || mode == .all {
            // First, while the process is fresh: resident memory only measures the store if nothing else
            // has been allocated and freed before it.
            try measureMemory()
            if mode == .memory { return }
        }
        let herd = spawn ? try await BenchHerd(spawning: base, registry: .standard) : BenchHerd(running: base)
        do {
            try await runModes(herd)
        } catch {
            await herd.stop()
            throw error
        }
        await herd.stop()
    }

    private var scaledCount: Int { smoke ? min(count, 5_000) : count }
    private var scaledSamples: Int { smoke ? min(samples, 100) : samples }
    private var runTag: String { String(UInt32.random(in: 0...UInt32.max), radix: 36) }

    private func runModes(_ herd: BenchHerd) async throws {
        let target = server ?? herd.config.servers[0].name
        let generator = LoadGenerator(group: MultiThreadedEventLoopGroup.singleton)
        let tag = runTag
        if mode == .iamat || mode == .all {
            try await throughput(
                "iamat", herd: herd, target: target, generator: generator, replyEnd: .line
            ) { connection, index in
                "IAMAT bench-\(tag)-\(connection)-\(index) +34.068930-118.445127 1700000000.\(String(format: "%09d", index))"
            }
        }
        if mode == .whatsat || mode == .all {
            let client = "bench-\(tag)-whatsat"
            _ = try await HerdClient(endpoint: herd.endpoint(target))
                .exchange(["IAMAT \(client) +34.068930-118.445127 1700000000.0"])
            try await throughput(
                "whatsat", herd: herd, target: target, generator: generator, replyEnd: .emptyLine, scale: 10
            ) { _, _ in "WHATSAT \(client) 1 5" }
        }
        if mode == .propagation || mode == .all {
            try await propagation(herd, tag: tag)
        }
        if mode == .replication || mode == .all {
            try await replication(herd, target: target, generator: generator, tag: tag)
        }
    }

    private func throughput(
        _ name: String, herd: BenchHerd, target: String, generator: LoadGenerator,
        replyEnd: PipelinedLoadHandler.ReplyEnd, scale: Int = 1,
        command: @escaping @Sendable (Int, Int) -> String
    ) async throws {
        let total = max(connections, scaledCount / scale)
        let (stats, seconds) = try await generator.run(
            endpoint: herd.endpoint(target), connections: connections, total: total, window: window,
            replyEnd: replyEnd, command: command)
        let rate = Int(Double(stats.count) / seconds)
        print(
            "\(name): \(stats.count) replies from \(target) in \(String(format: "%.2f", seconds)) s = \(rate) replies/s "
                + "(\(connections) connections, \(window) in flight each); latency \(stats.summary)")
    }

    /// IAMAT at one end of the longest path, then WHATSAT at the other end until it shows the new line.
    private func propagation(_ herd: BenchHerd, tag: String) async throws {
        let (from, to, hops) = herd.farthestPair()
        let transport = TCPTransport()
        let reporter = try await HerdClient.connect(to: herd.endpoint(from), over: transport)
        let asker = try await HerdClient.connect(to: herd.endpoint(to), over: transport)
        let total = scaledSamples
        let stats = try await reporter.executeThenClose { reportIn, reportOut in
            try await asker.executeThenClose { askIn, askOut in
                var reports = ReplyReader(reportIn)
                var answers = ReplyReader(askIn)
                var stats = LatencyStats()
                for index in 0..<total {
                    let client = Array("prop-\(tag)-\(index)".utf8)
                    let start = MonotonicClock.nanoseconds()
                    try await reportOut.write(
                        ByteBuffer(
                            bytes: Array("IAMAT ".utf8) + client + Array(" +34.068930-118.445127 1700000000.5\n".utf8)))
                    _ = try await reports.nextReply(isPlaceQuery: false)
                    let query = ByteBuffer(bytes: Array("WHATSAT ".utf8) + client + Array(" 0.01 1\n".utf8))
                    var polls = 0
                    while true {
                        try await askOut.write(query)
                        let reply = try await answers.nextReply(isPlaceQuery: true)
                        if reply.first == UInt8(ascii: "A") { break }
                        polls += 1
                        if polls > 100_000 {
                            throw BenchError("\(to) never saw \(String(decoding: client, as: UTF8.self))")
                        }
                    }
                    stats.record(nanoseconds: MonotonicClock.nanoseconds() - start)
                }
                return stats
            }
        }
        print(
            "propagation: \(stats.count) updates \(from) -> \(to) (\(hops) hops), IAMAT sent to WHATSAT answered: \(stats.summary)"
        )
    }

    /// Floods IAMATs into one server as fast as it takes them, then waits until the last of each connection
    /// is visible at every server: the rate the whole herd absorbs while staying up to date.
    private func replication(_ herd: BenchHerd, target: String, generator: LoadGenerator, tag: String) async throws {
        let start = MonotonicClock.nanoseconds()
        let total = max(connections, scaledCount / 2)
        let (_, sendSeconds) = try await generator.run(
            endpoint: herd.endpoint(target), connections: connections, total: total, window: window, replyEnd: .line
        ) { connection, index in
            "IAMAT repl-\(tag)-\(connection) +34.068930-118.445127 1700000000.\(String(format: "%09d", index))"
        }
        let reachable = herd.hops(from: target).keys.sorted()
        for name in reachable {
            let endpoint = try herd.endpoint(name)
            for connection in 0..<connections {
                let perConnection = total / connections + (connection < total % connections ? 1 : 0)
                guard perConnection > 0 else { continue }
                let expectedTime = "1700000000.\(String(format: "%09d", perConnection - 1))"
                var attempts = 0
                while true {
                    let reply = try await HerdClient(endpoint: endpoint).exchange([
                        "WHATSAT repl-\(tag)-\(connection) 0.01 1"
                    ])
                    if reply.hasPrefix("AT "), reply.split(separator: "\n").first?.hasSuffix(expectedTime) == true {
                        break
                    }
                    attempts += 1
                    if attempts > 20_000 { throw BenchError("\(name) never caught up with connection \(connection)") }
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
        }
        let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
        print(
            "replication: \(total) IAMATs into \(target) accepted in \(String(format: "%.2f", sendSeconds)) s; "
                + "visible at all \(reachable.count) servers after \(String(format: "%.2f", seconds)) s = "
                + "\(Int(Double(total) / seconds)) updates/s herd-wide")
    }

    /// Resident memory of the in-memory store holding `clients` clients, filled through the real parse path.
    private func measureMemory() throws {
        let total = smoke ? min(clients, 20_000) : clients
        let store = MemoryStore()
        let received = WallTime.now()
        let before = ProcessMemory.residentBytes()
        for index in 0..<total {
            let line = Array(
                "IAMAT client-\(index).cs.ucla.edu +34.068930-118.445127 1700000000.\(index % 1_000_000_000)".utf8)
            guard case .iamat(let report)? = try MessageParser.parse(line) else { throw BenchError("unparsable line") }
            _ = store.storeIfNewer(report.atLine(server: "Alford", receivedAt: received))
        }
        let after = ProcessMemory.residentBytes()
        func mebibytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        print(
            "memory: \(store.count) clients (ids of ~24 bytes, AT lines of ~90 bytes): resident memory grew \(mebibytes(after - before)) = \((after - before) / total) bytes per client; "
                + "process resident \(mebibytes(after))")
    }
}
