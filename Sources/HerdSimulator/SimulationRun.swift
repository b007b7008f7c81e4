import Foundation
import HerdKit
import Logging
import NIOCore

/// Runs one ``FaultPlan`` on a ``SimulatedHerd`` and checks what the herd owed its clients.
public struct SimulationRun {
    public struct Outcome: Sendable {
        public var plan: String
        public var violations: [Violation]
        public var reports: Int
        public var acknowledged: Int
        public var crashes: Int
        public var simulatedSeconds: Double
        /// Segments the network delivered, and a digest of every server's final records: equal for two runs
        /// of one seed.
        public var deliveries: Int
        public var digest: UInt64

        public var passed: Bool { violations.isEmpty }
    }

    public var plan: FaultPlan
    public var logLevel: Logger.Level

    public init(plan: FaultPlan, logLevel: Logger.Level = .critical) {
        self.plan = plan
        self.logLevel = logLevel
    }

    public func run() throws -> Outcome {
        var options = SimulatedHerd.Options()
        options.logLevel = logLevel
        options.network.loss = plan.loss
        let herd = try SimulatedHerd(topology: plan.topology, seed: plan.seed, options: options)
        defer { herd.shutdown() }
        for (link, latency) in plan.latencies {
            herd.network.setLatency(latency, between: herd.hosts[link.first]!, and: herd.hosts[link.second]!)
        }
        let history = History { Double(herd.now.nanoseconds) / 1e9 }
        let clients = SimulatedClients(herd: herd, history: history)
        var violations: [Violation] = []
        var crashes = 0
        try herd.startAll()

        func restart(_ name: String) throws {
            try herd.start(name)
            violations += Checks.durability(of: name, store: herd.store(of: name)!, history: history)
        }

        for (at, event) in plan.events {
            herd.run(until: at)
            switch event {
            case .report(let client, let location, let skew, let servers):
                let time = Double(herd.now.nanoseconds) / 1e9 + 1_800_000_000 + skew
                let text = String(format: "%.9f", time)
                for server in servers { clients.report(client: client, location: location, time: text, to: server) }
            case .crash(let name, let torn):
                guard herd.isRunning(name) else { continue }
                crashes += 1
                herd.crash(name, tornFraction: torn)
            case .restart(let name):
                guard !herd.isRunning(name) else { continue }
                try restart(name)
            case .cut(let links, let mode):
                for link in links { herd.network.cut(herd.hosts[link.first]!, herd.hosts[link.second]!, mode: mode) }
            case .heal(let links):
                for link in links { herd.network.heal(herd.hosts[link.first]!, herd.hosts[link.second]!) }
            }
        }
        herd.run(until: plan.loadEnds)
        herd.network.healAll()
        herd.run(until: plan.loadEnds + plan.restartDelay)
        for name in plan.topology.servers where !herd.isRunning(name) { try restart(name) }
        herd.run(for: plan.settle)
        violations += Checks.convergence(servers: plan.topology.servers, store: herd.store(of:), history: history)
        var digest: UInt64 = 0xCBF2_9CE4_8422_2325
        let clientIDs = Set(history.acknowledged.map(\.client)).sorted()
        for name in plan.topology.servers {
            for client in clientIDs {
                for byte in herd.store(of: name)?.record(for: ClientID(client))?.bytes ?? [] {
                    digest = (digest ^ UInt64(byte)) &* 0x100_0000_01B3
                }
            }
        }
        return Outcome(
            plan: plan.description, violations: violations, reports: history.sent,
            acknowledged: history.acknowledged.count, crashes: crashes,
            simulatedSeconds: Double(herd.now.nanoseconds) / 1e9, deliveries: herd.network.deliveries, digest: digest)
    }
}
