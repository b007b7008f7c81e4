import Foundation
import HerdTesting
import Synchronization

/// One IAMAT the load sent, and the AT line that acknowledged it (nil: no reply came, the server may or may
/// not have stored it).
struct SentReport: Sendable {
    let client: String
    let server: String
    let location: String
    let time: String
    /// The order of `time` among this client's times (1, 2, ...); two reports share one only as a tie.
    let rank: Int
    let reply: String?
}

/// IAMAT load from the test process: a few workers, each sending pipelined batches of reports to a random
/// server, for clients drawn from a fixed set with increasing times per client. Now and then a worker sends
/// one batch to two servers at once with the same client times (a tie the herd must break the same way
/// everywhere). Every report sent and every acknowledgement is recorded.
final class NemesisLoad: Sendable {
    let clients: [String]
    /// Client times are this many seconds since the epoch plus the report's rank: a day in the past, so no
    /// server finds them ahead of its clock, and strictly increasing per client.
    let baseTime: Int
    private let servers: [(name: String, host: String)]
    private let port: Int
    private let seed: UInt64
    private let ranks: Mutex<[Int]>
    private let sent = Mutex<[SentReport]>([])
    private let anomalies = Mutex<[String]>([])
    private let stopping = Atomic<Bool>(false)
    private let ties = Atomic<Int>(0)

    init(clients: Int, servers: [(name: String, host: String)], port: Int, seed: UInt64) {
        self.clients = (0..<clients).map { String(format: "nemesis.%03d", $0) }
        self.baseTime = Int(Date().timeIntervalSince1970) - 86_400
        self.servers = servers
        self.port = port
        self.seed = seed
        self.ranks = Mutex([Int](repeating: 0, count: clients))
    }

    /// Runs `workers` workers until ``stop()``.
    func run(workers: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask { await self.work(SeededGenerator(seed: self.seed, stream: UInt64(worker + 1))) }
            }
        }
    }

    func stop() { stopping.store(true, ordering: .relaxed) }

    var reports: [SentReport] { sent.withLock { $0 } }
    var tieCount: Int { ties.load(ordering: .relaxed) }
    /// Replies that were not the AT line the protocol prescribes for the IAMAT they answered.
    var unexpectedReplies: [String] { anomalies.withLock { $0 } }

    private func work(_ generator: SeededGenerator) async {
        var random = generator
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            let first = random.element(servers)
            let tie = random.chance(15)
            let targets = tie ? [first, random.element(servers.filter { $0.name != first.name })] : [first]
            if tie { ties.add(1, ordering: .relaxed) }
            var batch: [(client: Int, rank: Int, time: String)] = []
            for _ in 0..<random.int(1...8) {
                let client = random.int(0...(clients.count - 1))
                let rank = ranks.withLock { ranks in
                    ranks[client] += 1
                    return ranks[client]
                }
                batch.append(
                    (client, rank, "\(baseTime + rank).\(String(format: "%09d", random.int(0...999_999_999)))"))
            }
            let items = batch
            let sends = targets.map { target in
                (target: target, locations: items.map { _ in Self.location(&random) })
            }
            await withTaskGroup(of: Void.self) { group in
                for send in sends {
                    group.addTask { await self.send(items, locations: send.locations, to: send.target) }
                }
            }
            try? await Task.sleep(for: .milliseconds(random.int(5...30)))
        }
    }

    /// Sends one pipelined batch to `target`, half-closes, and reads replies until they end.
    private func send(
        _ batch: [(client: Int, rank: Int, time: String)], locations: [String], to target: (name: String, host: String)
    ) async {
        let lines = zip(batch, locations).map { item, location in
            Wire.iamat(clients[item.client], location: location, time: item.time) + "\n"
        }
        let port = port
        let outcome = try? await RawConnection.onThread { () -> (connected: Bool, replies: [String]) in
            guard let connection = try? RawConnection(host: target.host, port: port) else { return (false, []) }
            guard (try? connection.write(lines.joined())) != nil else { return (true, []) }
            connection.finishWriting()
            var replies: [String] = []
            while replies.count < lines.count, let line = try? connection.readLine() { replies.append(line) }
            return (true, replies)
        }
        guard let outcome, outcome.connected else { return }
        var reports: [SentReport] = []
        for (index, (item, location)) in zip(batch, locations).enumerated() {
            let client = clients[item.client]
            var reply = index < outcome.replies.count ? outcome.replies[index] : nil
            if let line = reply {
                let expected =
                    "AT \(target.name) \(Wire.skew(inATLine: Substring(line)) ?? "?") \(client) \(location) \(item.time)"
                if line != expected {
                    anomalies.withLock {
                        $0.append("\(target.name) answered `\(lines[index].dropLast())` with `\(line)`")
                    }
                    reply = nil
                }
            }
            reports.append(
                SentReport(
                    client: client, server: target.name, location: location, time: item.time, rank: item.rank,
                    reply: reply))
        }
        sent.withLock { $0.append(contentsOf: reports) }
    }

    /// A random ISO 6709 location with six decimals, so two reports of one client never share a location.
    private static func location(_ random: inout SeededGenerator) -> String {
        func degrees(_ limit: Int, digits: Int) -> String {
            let value = random.int(-(limit * 1_000_000 - 1)...(limit * 1_000_000 - 1))
            let whole = String(abs(value) / 1_000_000)
            let padded = String(repeating: "0", count: max(0, digits - whole.count)) + whole
            return (value < 0 ? "-" : "+") + padded + "." + String(format: "%06d", abs(value) % 1_000_000)
        }
        return degrees(90, digits: 2) + degrees(180, digits: 3)
    }
}
