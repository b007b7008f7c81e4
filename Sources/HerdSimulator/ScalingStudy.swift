import Foundation
import HerdKit
import NIOCore

/// The scaling study: how flooding behaves as a herd grows, measured on simulated herds of real servers.
///
/// Each case starts a herd with every link at one latency, lets the links come up, then has clients send
/// `updates` reports (each of a client of its own) to random servers, and watches the peer links: for each
/// update, when and after how many hops it first reached each server, how many AT lines carried it, and
/// the peer bytes (AT lines, acknowledgements) the herd spent per update.
public struct ScalingStudy {
    public enum Condition: String, Sendable, CaseIterable {
        case clean
        /// Every segment is lost with probability 1 % (and arrives a retransmission timeout later).
        case loss1
        /// The reports are sent while the herd is split in two halves; convergence is measured from the heal.
        case partition
    }

    public struct Figures: Sendable {
        public var topology: String
        public var servers: Int
        public var variant: String
        public var condition: Condition
        public var updates: Int
        /// The most hops an update took to reach its last server.
        public var hops: Int
        /// Mean over updates of the time from the origin taking it to the last server taking it (from the heal,
        /// for a partition), simulated.
        public var convergenceMilliseconds: Double
        /// AT lines sent over peer links per update, duplicates included.
        public var messagesPerUpdate: Double
        /// Peer-link bytes (AT lines and acknowledgements) per update.
        public var bytesPerUpdate: Double
        /// Updates that reached every server.
        public var complete: Int

        /// Relative message redundancy (Plumtree's RMR): messages per update over the N - 1 a tree needs, less one.
        public var relativeRedundancy: Double {
            servers > 1 ? messagesPerUpdate / Double(servers - 1) - 1 : 0
        }

        public static let tsvHeader =
            "topology\tservers\tvariant\tcondition\tupdates\thops\tconvergence_ms\tmessages_per_update\trmr\tbytes_per_update"

        public var tsvRow: String {
            [
                topology, "\(servers)", variant, condition.rawValue, "\(updates)", "\(hops)",
                String(format: "%.2f", convergenceMilliseconds), String(format: "%.2f", messagesPerUpdate),
                String(format: "%.3f", relativeRedundancy), String(format: "%.0f", bytesPerUpdate),
            ].joined(separator: "\t")
        }
    }

    /// One-way latency of every peer link.
    public var linkLatency = TimeAmount.milliseconds(10)
    public var updates = 20
    public var seed: UInt64 = 1
    public var heal = TimeAmount.seconds(3)

    public init() {}

    /// The topologies the study compares at `servers` servers (the reference herd only at five).
    public func topologies(servers: Int) -> [Topology] {
        var result: [Topology] = []
        if servers == 5 { result.append(.reference) }
        result.append(.ring(servers))
        result.append(.tree(servers))
        if servers > 3 { result.append(.randomRegular(servers, degree: 3, seed: seed)) }
        if servers > 4 { result.append(.randomRegular(servers, degree: 4, seed: seed)) }
        return result
    }

    /// - Parameter origin: the server every report goes to; random servers when nil.
    public func measure(_ topology: Topology, condition: Condition, origin fixedOrigin: String? = nil) throws
        -> Figures
    {
        var options = SimulatedHerd.Options()
        options.durable = false
        options.network.jitter = 0
        options.network.loss = condition == .loss1 ? 0.01 : 0
        options.network.defaultLatency = .microseconds(100)
        let herd = try SimulatedHerd(topology: topology, seed: seed, options: options)
        defer { herd.shutdown() }
        for link in topology.links {
            herd.network.setLatency(linkLatency, between: herd.hosts[link.first]!, and: herd.hosts[link.second]!)
        }
        var serverOfHost: [String: String] = [:]
        for (name, host) in herd.hosts { serverOfHost[host] = name }
        try herd.startAll()
        herd.run(for: .seconds(3))

        let tally = Tally(servers: topology.servers.count)
        tally.clock = { [unowned herd] in Double(herd.now.nanoseconds) / 1e9 }
        herd.network.observer = { delivery in tally.observe(delivery, serverOfHost: serverOfHost) }
        defer { herd.network.observer = nil }
        var random = SeededRandom(seed: seed, stream: 0x7374_7564)
        var cut: [HerdConfig.Link] = []
        if condition == .partition {
            let half = Self.half(of: topology, random: &random)
            cut = topology.links.filter { half.contains($0.first) != half.contains($0.second) }
            for link in cut { herd.network.cut(herd.hosts[link.first]!, herd.hosts[link.second]!, mode: .reset) }
        }
        let history = History { Double(herd.now.nanoseconds) / 1e9 }
        let clients = SimulatedClients(herd: herd, history: history)
        for index in 0..<updates {
            let drawn = topology.servers[Int(random.next() % UInt64(topology.servers.count))]
            let origin = fixedOrigin ?? drawn
            let time = String(format: "%.9f", 1_800_000_000 + Double(herd.now.nanoseconds) / 1e9)
            clients.report(client: "u\(index)", location: "+34.068930-118.445127", time: time, to: origin)
            herd.run(for: .milliseconds(50))
        }
        var healedAt: Double?
        if condition == .partition {
            herd.run(for: heal)
            for link in cut { herd.network.heal(herd.hosts[link.first]!, herd.hosts[link.second]!) }
            healedAt = Double(herd.now.nanoseconds) / 1e9
        }
        // Until every update reached every server (or a minute passes), then a little longer for the
        // duplicates and acknowledgements still in flight.
        var waited = 0
        while tally.complete < updates && waited < 600 {
            herd.run(for: .milliseconds(100))
            waited += 1
        }
        herd.run(for: linkLatency * 4 + .seconds(1))
        return tally.figures(
            topology: topology, updates: updates, condition: condition, from: healedAt)
    }

    /// The same case in the message-level ``FloodModel`` (`eager-model` or `plumtree-model` in the figures).
    /// A partition holds the messages over the cut for a second, then delivers them.
    public func model(_ topology: Topology, variant: FloodModel.Variant, condition: Condition) -> Figures {
        var model = FloodModel(topology: topology, variant: variant)
        model.latency = Double(linkLatency.nanoseconds) / 1e6
        model.loss = condition == .loss1 ? 0.01 : 0
        model.seed = seed
        var cut: [HerdConfig.Link] = []
        if condition == .partition {
            var random = SeededRandom(seed: seed, stream: 0x7374_7564)
            let half = Self.half(of: topology, random: &random)
            cut = topology.links.filter { half.contains($0.first) != half.contains($0.second) }
        }
        let result = model.run(updates: updates, cut: cut, heal: cut.isEmpty ? 0 : 1000)
        return Figures(
            topology: topology.name, servers: topology.servers.count, variant: "\(variant.rawValue)-model",
            condition: condition, updates: updates, hops: result.hops,
            convergenceMilliseconds: result.convergenceMilliseconds, messagesPerUpdate: result.updatesPerUpdate,
            bytesPerUpdate: result.bytesPerUpdate, complete: result.complete)
    }

    /// About half the servers, reached from a random one by breadth-first search: one side of a partition.
    static func half(of topology: Topology, random: inout SeededRandom) -> Set<String> {
        let adjacent = topology.adjacency
        var side: Set<String> = [topology.servers[Int(random.next() % UInt64(topology.servers.count))]]
        var queue = Array(side)
        var index = 0
        while index < queue.count && side.count < topology.servers.count / 2 {
            for other in adjacent[queue[index]] ?? []
            where !side.contains(other) && side.count < topology.servers.count / 2 {
                side.insert(other)
                queue.append(other)
            }
            index += 1
        }
        return side
    }
}

/// What the study's observer counts on the peer links.
final class Tally {
    private struct Spread {
        var origin: String?
        var start: Double?
        var arrivals: [String: (time: Double, hops: Int)] = [:]
    }

    let servers: Int
    private var spreads: [String: Spread] = [:]
    private var messages = 0
    private var bytes = 0
    private(set) var complete = 0

    init(servers: Int) {
        self.servers = servers
    }

    func observe(_ delivery: SimulatedNetwork.Delivery, serverOfHost: [String: String]) {
        let now = clock()
        guard let receiver = serverOfHost[delivery.to] else { return }
        let view = delivery.bytes.readableBytesView
        if delivery.kind == .clients {
            // A client's report reaching its origin server: hop 0.
            for line in view.split(separator: UInt8(ascii: "\n")) where line.starts(with: Array("IAMAT ".utf8)) {
                let fields = line.split(separator: UInt8(ascii: " "))
                guard fields.count > 1 else { continue }
                let client = String(decoding: fields[1], as: UTF8.self)
                spreads[client, default: Spread()].origin = receiver
                spreads[client]!.start = now
                spreads[client]!.arrivals[receiver] = (now, 0)
            }
            return
        }
        bytes += view.count
        guard let sender = serverOfHost[delivery.from] else { return }
        for line in view.split(separator: UInt8(ascii: "\n")) where line.starts(with: Array("AT ".utf8)) {
            messages += 1
            let fields = line.split(separator: UInt8(ascii: " "))
            guard fields.count > 3 else { continue }
            let client = String(decoding: fields[3], as: UTF8.self)
            guard spreads[client]?.arrivals[receiver] == nil else { continue }
            let hops = (spreads[client]?.arrivals[sender]?.hops ?? 0) + 1
            spreads[client, default: Spread()].arrivals[receiver] = (now, hops)
            if spreads[client]!.arrivals.count == servers { complete += 1 }
        }
    }

    /// Set by the study: the simulated time now, in seconds.
    var clock: () -> Double = { 0 }

    func figures(topology: Topology, updates: Int, condition: ScalingStudy.Condition, from healedAt: Double?)
        -> ScalingStudy.Figures
    {
        var convergence: [Double] = []
        var hops = 0
        for spread in spreads.values {
            guard let start = spread.start, spread.arrivals.count == servers else { continue }
            let last = spread.arrivals.values.map(\.time).max() ?? start
            convergence.append((last - (healedAt ?? start)) * 1000)
            hops = max(hops, spread.arrivals.values.map(\.hops).max() ?? 0)
        }
        return ScalingStudy.Figures(
            topology: topology.name, servers: topology.servers.count, variant: "eager", condition: condition,
            updates: updates, hops: hops,
            convergenceMilliseconds: convergence.isEmpty ? .nan : convergence.reduce(0, +) / Double(convergence.count),
            messagesPerUpdate: Double(messages) / Double(updates), bytesPerUpdate: Double(bytes) / Double(updates),
            complete: complete)
    }
}
