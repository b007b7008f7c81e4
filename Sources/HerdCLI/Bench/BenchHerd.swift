import Foundation
import HerdKit

/// The herd a benchmark talks to: a running one described by a config, or one started in this process.
struct BenchHerd {
    let config: HerdConfig
    let clientEndpoints: [String: Endpoint]
    private let running: Task<Void, Never>?

    /// Uses the servers of `config` as they are already running.
    init(running config: HerdConfig) {
        self.config = config
        self.clientEndpoints = Dictionary(uniqueKeysWithValues: config.servers.map { ($0.name, $0.clientEndpoint) })
        self.running = nil
    }

    /// Starts every server of `config` in this process on free ports, with logs and journals in a temporary
    /// directory.
    init(spawning base: HerdConfig, registry: HerdRegistry) async throws {
        var config = base
        config.servers = config.servers.map { server in
            var server = server
            server.clientPort = 0
            server.peerPort = 0
            return server
        }
        config.logDirectory = NSTemporaryDirectory() + "herd-bench-\(getpid())"
        config.dataDirectory = config.logDirectory + "/data"
        config.redial.initialMilliseconds = 20
        config.redial.maximumMilliseconds = 500
        let herd = try Herd(config: config, registry: registry)
        self.running = Task {
            await withDiscardingTaskGroup { group in
                for server in herd.servers { group.addTask { try? await server.run() } }
            }
        }
        var endpoints: [String: Endpoint] = [:]
        for server in herd.servers { endpoints[server.name] = try await server.waitUntilBound().clients }
        self.clientEndpoints = endpoints
        self.config = config
        // Wait (bounded) until every link is up, so the first figures are not of a herd still connecting.
        let deadline = MonotonicClock.nanoseconds() + 10_000_000_000
        for server in herd.servers {
            let expected = Set(config.neighbours(of: server.name))
            while MonotonicClock.nanoseconds() < deadline, try await Set(server.connectedNeighbours()) != expected {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    func stop() async {
        running?.cancel()
        await running?.value
    }

    func endpoint(_ name: String) throws -> Endpoint {
        guard let endpoint = clientEndpoints[name] else {
            throw BenchError("no server named \(name); servers: \(config.servers.map(\.name).joined(separator: ", "))")
        }
        return endpoint
    }

    /// Hops from `from` to every server reachable from it.
    func hops(from: String) -> [String: Int] {
        var distance = [from: 0]
        var queue = [from]
        while !queue.isEmpty {
            let current = queue.removeFirst()
            for next in config.neighbours(of: current) where distance[next] == nil {
                distance[next] = distance[current]! + 1
                queue.append(next)
            }
        }
        return distance
    }

    /// The pair of servers farthest apart in the topology (first such pair in config order).
    func farthestPair() -> (String, String, Int) {
        var best = (config.servers[0].name, config.servers[0].name, 0)
        for server in config.servers {
            for (other, hops) in hops(from: server.name) where hops > best.2 {
                best = (server.name, other, hops)
            }
        }
        return best
    }
}
