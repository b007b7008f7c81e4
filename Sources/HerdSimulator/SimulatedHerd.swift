import Foundation
import HerdKit
import Logging
import NIOCore
import NIOEmbedded

/// A herd of real ``HerdServer``s in one process, on one `EmbeddedEventLoop` in simulated time, over a
/// ``SimulatedNetwork``: the servers' own pipelines, stores, journals and peer-link state machines, with the
/// transport, the clock and the re-dial jitter the only things simulated. Everything runs on the thread that
/// made the herd.
public final class SimulatedHerd {
    public struct Options: Sendable {
        /// Keep each server's journal in a directory of its own (crashes then lose only what was not
        /// written); false keeps stores in memory, for large studies.
        public var durable = true
        public var logLevel = Logger.Level.critical
        /// Where logs go when `logLevel` lets any through: a directory, or "-" for standard error.
        public var logDirectory = "-"
        public var network = SimulatedNetwork.Settings()
        public var limits = HerdConfig.Limits()
        public var redial = HerdConfig.Redial()
        /// Authenticate peer links with a shared secret, as a real herd does (false: `authentication: none`).
        public var peerSecret = true

        public init() {}
    }

    public let topology: Topology
    public let seed: UInt64
    public let network: SimulatedNetwork
    public let loop: EmbeddedEventLoop
    public let config: HerdConfig
    /// The host (address) of each server.
    public let hosts: [String: String]
    private let registry: HerdRegistry
    private let directory: PeerDirectory
    private let dataDirectory: String?
    private let clock: SimulatedClock
    private var running: [String: HerdServer] = [:]
    private var incarnations: [String: UInt64] = [:]

    public init(topology: Topology, seed: UInt64, options: Options = Options()) throws {
        self.topology = topology
        self.seed = seed
        let loop = EmbeddedEventLoop()
        self.loop = loop
        let network = SimulatedNetwork(loop: loop, seed: seed, settings: options.network)
        self.network = network
        var hosts: [String: String] = [:]
        for (index, name) in topology.servers.enumerated() {
            hosts[name] = "10.\(index / 62_500 % 256).\(index / 250 % 250).\(index % 250 + 1)"
        }
        self.hosts = hosts
        if options.durable {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "herd-sim-\(getpid())-\(seed)-\(UInt32.random(in: 0...UInt32.max))"
            ).path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            dataDirectory = path
        } else {
            dataDirectory = nil
        }
        let source = "<simulated herd, seed \(seed)>"
        func component(_ name: String, _ key: String) -> HerdConfig.Component {
            HerdConfig.Component(name: name, options: ConfigOptions(keyPath: key, file: source, baseDirectory: ""))
        }
        var storage = HerdConfig.Storage()
        storage.durable = options.durable
        var config = HerdConfig(
            servers: topology.servers.map { name in
                HerdConfig.Server(name: name, host: hosts[name]!, clientPort: 1, peerPort: 2)
            },
            links: topology.links,
            clientTransport: component("simulated", "transport.clients.options"),
            peerTransport: component("simulated", "transport.peers.options"),
            provider: component("none", "provider.options"),
            pipeline: HerdConfig.defaultPipeline.enumerated().map { component($1, "pipeline[\($0)].options") },
            logDirectory: options.logDirectory, logLevel: options.logLevel, dataDirectory: dataDirectory ?? "",
            storage: storage, limits: options.limits, redial: options.redial,
            peerAuthentication: options.peerSecret
                ? .secret(PeerKeys(current: PeerSecret(text: "simulated-herd-secret-\(seed)")!)) : .none,
            source: source, baseDirectory: "")
        config.adminBind = "127.0.0.1"
        self.config = config
        var registry = HerdRegistry.core
        let hostTable = hosts
        registry.registerTransport("simulated") { context, kind in
            SimulatedTransport(
                network: network, host: hostTable[context.serverName]!, kind: kind == .peers ? .peers : .clients)
        }
        registry.registerProvider("none") { _ in NoPlaces() }
        self.registry = registry
        self.directory = PeerDirectory(config: config)
        self.clock = SimulatedClock(network: network, start: WallTime(seconds: 1_800_000_000, nanoseconds: 0))
        for link in topology.links {
            network.setLatency(.milliseconds(1), between: hosts[link.first]!, and: hosts[link.second]!)
        }
    }

    deinit {
        for server in running.values { server.crashOnLoop(tornFraction: 0) }
        if let dataDirectory { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }

    /// The simulated time since the herd was made.
    public var now: TimeAmount { .nanoseconds(Int64(loop.now.uptimeNanoseconds)) }

    public func isRunning(_ name: String) -> Bool { running[name] != nil }

    public var runningServers: [String] { topology.servers.filter { running[$0] != nil } }

    /// Starts `name` (again, after a crash or stop): it replays its journal and dials its neighbours.
    public func start(_ name: String) throws {
        precondition(running[name] == nil, "\(name) is running already")
        let incarnation = incarnations[name, default: 0] + 1
        incarnations[name] = incarnation
        let index = UInt64(topology.servers.firstIndex(of: name)!)
        let jitter = SharedRandom(seed: seed, stream: index << 20 | incarnation)
        let server = try HerdServer(
            name: name, config: config, registry: registry, directory: directory, consoleLogLevel: nil, clock: clock,
            randomFraction: jitter.randomFraction)
        var failure: (any Error)?
        server.startOnLoop().whenFailure { failure = $0 }
        loop.run()
        if let failure { throw failure }
        running[name] = server
    }

    public func startAll() throws {
        for name in topology.servers { try start(name) }
    }

    /// Kills `name` as a crash kills a process (see ``HerdServer/crashOnLoop(tornFraction:)``).
    public func crash(_ name: String, tornFraction: Double = 0) {
        guard let server = running.removeValue(forKey: name) else { return }
        server.crashOnLoop(tornFraction: tornFraction)
        loop.run()
    }

    /// Stops `name` gracefully; returns once it has (in simulated time).
    public func stop(_ name: String) {
        guard let server = running.removeValue(forKey: name) else { return }
        var stopped = false
        server.stopOnLoop().whenComplete { _ in stopped = true }
        while !stopped { loop.advanceTime(by: .milliseconds(10)) }
    }

    /// Runs the herd until `time` (since it was made).
    public func run(until time: TimeAmount) {
        loop.advanceTime(to: .uptimeNanoseconds(UInt64(max(0, time.nanoseconds))))
    }

    public func run(for duration: TimeAmount) {
        loop.advanceTime(by: duration)
    }

    /// The store of a running server.
    public func store(of name: String) -> (any LocationStore)? {
        running[name]?.storeOnLoop
    }

    /// The host a client of the simulation dials from.
    public func clientHost(_ index: Int) -> String {
        "10.255.\(index / 250 % 250).\(index % 250 + 1)"
    }

    /// A server's client endpoint.
    public func clientEndpoint(of name: String) -> Endpoint {
        Endpoint(host: hosts[name]!, port: 1)
    }

    /// Crashes every running server and waits for the dust to settle; the herd can be dropped after.
    public func shutdown() {
        for name in runningServers { crash(name) }
        loop.advanceTime(by: .seconds(1))
        // The tasks still scheduled (handshake and flood timeouts) hold the servers, and the servers hold
        // the loop through their transports: cancelling them lets the whole herd go.
        try? loop.syncShutdownGracefully()
    }
}

/// The simulator's place provider: place queries are not what it tests.
struct NoPlaces: PlaceProvider {
    func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse {
        throw PlaceProviderError(
            status: .init(rawValue: "UNKNOWN_ERROR"), message: "the simulator has no place provider")
    }
}
