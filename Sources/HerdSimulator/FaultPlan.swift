import HerdKit
import NIOCore

/// One seeded run of the fault search: a herd, its link latencies and loss, and a timeline of client
/// reports, crashes, restarts, cuts and heals, all drawn from the seed. The same seed is the same plan.
public struct FaultPlan: Sendable, CustomStringConvertible {
    public enum Event: Sendable {
        /// A client reports a location to one server (or the same line to two at once: the equal-time tie).
        case report(client: String, location: String, skew: Double, servers: [String])
        case crash(String, tornFraction: Double)
        case restart(String)
        case cut([HerdConfig.Link], SimulatedNetwork.CutMode)
        case heal([HerdConfig.Link])
    }

    public var seed: UInt64
    public var topology: Topology
    public var loss: Double
    /// One-way latency of each link.
    public var latencies: [(HerdConfig.Link, TimeAmount)]
    /// In time order.
    public var events: [(at: TimeAmount, event: Event)]
    /// When the faults and load stop: every cut heals then, and dead servers restart `restartDelay` later.
    public var loadEnds: TimeAmount
    public var restartDelay = TimeAmount.seconds(8)
    /// How long after the last restart the herd must have converged.
    public var settle = TimeAmount.seconds(2)

    public var description: String {
        var counts: [String: Int] = [:]
        for (_, event) in events {
            let name =
                switch event {
                case .report(_, _, _, let servers): servers.count > 1 ? "tied reports" : "reports"
                case .crash: "crashes"
                case .restart: "restarts"
                case .cut: "cuts"
                case .heal: "heals"
                }
            counts[name, default: 0] += 1
        }
        let summary = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return "seed \(seed): \(topology), loss \(loss * 100) %, \(summary)"
    }

    /// The plan for `seed`: even seeds run the five-server reference herd, odd ones a random herd of 6 to
    /// `maximumServers` servers.
    public static func make(seed: UInt64, maximumServers: Int = 50) -> FaultPlan {
        var random = SeededRandom(seed: seed, stream: 0x706C_616E)
        let topology: Topology
        if seed % 2 == 0 {
            topology = .reference
        } else {
            let count = 6 + Int(random.next() % UInt64(max(1, maximumServers - 5)))
            topology = .randomHerd(count, extra: 0.2 + random.fraction() * 0.6, seed: seed)
        }
        let servers = topology.servers
        let latencies = topology.links.map { link in
            (link, TimeAmount.microseconds(200 + Int64(random.next() % 30_000)))
        }
        let loss = random.chance(0.5) ? random.fraction() * 0.02 : 0
        let loadEnds = TimeAmount.seconds(10 + Int64(random.next() % 10))
        // Fewer reports in a big herd: each costs a flood over every link.
        let reports = max(40, 300 * 5 / servers.count)
        let clients = (0..<(4 + Int(random.next() % 16))).map { "client\($0)" }
        let skews = clients.map { _ in (random.fraction() - 0.5) * 4 }
        var events: [(at: TimeAmount, event: Event)] = []
        for _ in 0..<reports {
            let at = TimeAmount.nanoseconds(Int64(random.fraction() * Double(loadEnds.nanoseconds)))
            let index = Int(random.next() % UInt64(clients.count))
            let latitude = String(format: "%+08.4f", random.fraction() * 180 - 90)
            let longitude = String(format: "%+09.4f", random.fraction() * 360 - 180)
            var targets = [servers[Int(random.next() % UInt64(servers.count))]]
            if random.chance(0.1) {
                let other = servers[Int(random.next() % UInt64(servers.count))]
                if other != targets[0] { targets.append(other) }
            }
            events.append(
                (
                    at,
                    .report(
                        client: clients[index], location: latitude + longitude, skew: skews[index], servers: targets)
                ))
        }
        // Faults: crashes (restarted after a while, or only at the end), cuts of one server, of a few links
        // or across a random split, and flapping links.
        var deadUntil: [String: TimeAmount] = [:]
        let faults = 2 + Int(random.next() % 8)
        for _ in 0..<faults {
            let at = TimeAmount.nanoseconds(Int64(random.fraction() * Double(loadEnds.nanoseconds) * 0.9))
            switch random.next() % 4 {
            case 0:
                let victim = servers[Int(random.next() % UInt64(servers.count))]
                guard (deadUntil[victim] ?? .zero) < at else { continue }
                events.append((at, .crash(victim, tornFraction: random.chance(0.5) ? random.fraction() : 0)))
                if random.chance(0.6) {
                    let back = at + .milliseconds(200 + Int64(random.next() % 8_000))
                    if back < loadEnds {
                        events.append((back, .restart(victim)))
                        deadUntil[victim] = back
                        continue
                    }
                }
                deadUntil[victim] = loadEnds + .hours(1)
            case 1:
                let isolated = servers[Int(random.next() % UInt64(servers.count))]
                let links = topology.links.filter { $0.first == isolated || $0.second == isolated }
                addCut(links, at: at, random: &random, loadEnds: loadEnds, to: &events)
            case 2:
                let links = (0..<(1 + Int(random.next() % 3))).map { _ in
                    topology.links[Int(random.next() % UInt64(topology.links.count))]
                }
                addCut(links, at: at, random: &random, loadEnds: loadEnds, to: &events)
            default:
                let link = [topology.links[Int(random.next() % UInt64(topology.links.count))]]
                var time = at
                for _ in 0..<(3 + Int(random.next() % 4)) {
                    let mode: SimulatedNetwork.CutMode = random.chance(0.5) ? .reset : .silent
                    events.append((time, .cut(link, mode)))
                    time = time + .milliseconds(50 + Int64(random.next() % 450))
                    events.append((time, .heal(link)))
                    time = time + .milliseconds(50 + Int64(random.next() % 450))
                }
            }
        }
        events.sort { $0.at < $1.at }
        return FaultPlan(
            seed: seed, topology: topology, loss: loss, latencies: latencies, events: events, loadEnds: loadEnds)
    }

    private static func addCut(
        _ links: [HerdConfig.Link], at: TimeAmount, random: inout SeededRandom, loadEnds: TimeAmount,
        to events: inout [(at: TimeAmount, event: Event)]
    ) {
        guard !links.isEmpty else { return }
        let mode: SimulatedNetwork.CutMode = random.chance(0.5) ? .reset : .silent
        events.append((at, .cut(links, mode)))
        let heal = at + .milliseconds(200 + Int64(random.next() % 6_000))
        if heal < loadEnds { events.append((heal, .heal(links))) }
    }
}
