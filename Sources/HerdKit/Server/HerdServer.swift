import CoreMetrics
import Logging
import NIOCore
import ServiceLifecycle

/// One server of a herd: the composition root that builds its parts from the config (transports, store,
/// pipeline, provider, peer links, log) and runs them on one event loop.
///
/// A swift-service-lifecycle `Service`: run it in a `ServiceGroup` for signal handling, or in a task that
/// is cancelled to stop it. Either way it stops gracefully: no new connections, replies to the lines already
/// read, then every socket closed and the journal synced, so it can be started again at once.
public final class HerdServer: Service, Sendable {
    public let name: String
    public let config: HerdConfig
    public let logger: Logger
    /// The loop every connection, line and store access of this server runs on.
    public let eventLoop: any EventLoop

    let server: HerdConfig.Server
    let core: NIOLoopBoundBox<ServerCore>
    let clientTransport: any Transport
    let peerTransport: any Transport
    let adminTransport: (any Transport)?
    private let readiness = Readiness<BoundEndpoints>()
    private let stopRequested = Readiness<Void>()

    /// Builds the server `name` of `config` from the parts `registry` names.
    ///
    /// - Parameters:
    ///   - directory: where neighbours' peer endpoints are looked up; share one between servers of one process.
    ///   - consoleLogLevel: also log records at or above this level to standard error.
    ///   - clock: the wall clock receive times are read from.
    public convenience init(
        name: String, config: HerdConfig, registry: HerdRegistry, directory: PeerDirectory? = nil,
        consoleLogLevel: Logger.Level? = nil, clock: any WallClock = SystemClock()
    ) throws {
        try self.init(
            name: name, config: config, registry: registry, directory: directory, consoleLogLevel: consoleLogLevel,
            clock: clock, randomFraction: .system)
    }

    /// As the public initializer, with the re-dial jitter drawn from `randomFraction` (a simulator's seed).
    package init(
        name: String, config: HerdConfig, registry: HerdRegistry, directory: PeerDirectory?,
        consoleLogLevel: Logger.Level?, clock: any WallClock, randomFraction: RandomFraction
    ) throws {
        try registry.validate(config)
        guard let server = config.server(named: name) else {
            throw ConfigError(file: config.source, key: "servers", reason: "no server named '\(name)'")
        }
        let logPath =
            config.logDirectory == LogFile.standardErrorPath
            ? LogFile.standardErrorPath : ConfigPaths.resolve("\(name).log", against: config.logDirectory)
        let logFile = try LogFile(path: logPath)
        let level = config.logLevel
        let logger = Logger(label: name) { label in
            var handlers: [any LogHandler] = [
                FileLogHandler(label: label, file: logFile, level: level, format: config.logFormat)
            ]
            if let consoleLogLevel {
                var console = StreamLogHandler.standardError(label: label)
                console.logLevel = consoleLogLevel
                handlers.append(console)
            }
            return MultiplexLogHandler(handlers)
        }
        let metrics = ServerMetrics(server: name)
        func context(_ options: ConfigOptions) -> HerdRegistry.Context {
            HerdRegistry.Context(options: options, serverName: name, config: config, logger: logger, metrics: metrics)
        }
        let clientTransport = try registry.makeTransport(
            config.clientTransport, kind: .clients, context: context(config.clientTransport.options))
        let peerTransport = try registry.makeTransport(
            config.peerTransport, kind: .peers, context: context(config.peerTransport.options))
        let provider = MeteredPlaceProvider(
            wrapping: try registry.makeProvider(context: context(config.provider.options)), metrics: metrics)
        let pipeline = Pipeline(try config.pipeline.map { try registry.makeStage($0, context: context($0.options)) })
        let eventLoop = clientTransport.eventLoopGroup.next()
        let counters = ServerCounters(metrics: metrics, neighbours: config.neighbours(of: name))
        let store = try Self.makeStore(
            name: name, config: config, eventLoop: eventLoop, logger: logger, fsyncTimer: counters.fsyncLatency)
        var settings = ServerSettings(config: config)
        settings.peerKeys = try config.peerKeys()
        settings.randomFraction = randomFraction
        if case .none = config.peerAuthentication, !config.neighbours(of: name).isEmpty {
            logger.warning(
                "peer links are not authenticated (peer_links.authentication: none): anyone who reaches \(server.peerEndpoint) can send updates"
            )
        }
        let peers = PeerLinks(
            serverName: name, neighbours: config.neighbours(of: name), store: store, transport: peerTransport,
            directory: directory ?? PeerDirectory(config: config), eventLoop: eventLoop, settings: settings,
            logger: logger, counters: counters)
        let core = ServerCore(
            name: name, eventLoop: eventLoop, store: store, pipeline: pipeline, peers: peers, provider: provider,
            logFile: logFile, trafficEnabled: level <= .info, settings: settings, logger: logger, clock: clock,
            counters: counters)
        self.core = .makeBoxSendingValue(core, eventLoop: eventLoop)
        self.name = name
        self.config = config
        self.logger = logger
        self.eventLoop = eventLoop
        self.server = server
        self.clientTransport = clientTransport
        self.peerTransport = peerTransport
        // Plain HTTP over the registry's TCP transport, whatever the client and peer endpoints use.
        self.adminTransport =
            try server.adminPort.map { _ in
                try registry.makeTransport(
                    HerdConfig.Component(
                        name: "tcp",
                        options: ConfigOptions(keyPath: "admin.options", file: config.source, baseDirectory: "")),
                    kind: .clients,
                    context: context(ConfigOptions(keyPath: "admin", file: config.source, baseDirectory: "")))
            }
    }

    /// The store the config asks for: a journal in `<data_dir>/<name>/`, or memory only.
    private static func makeStore(
        name: String, config: HerdConfig, eventLoop: any EventLoop, logger: Logger, fsyncTimer: CoreMetrics.Timer
    ) throws -> any LocationStore {
        guard config.storage.durable else { return MemoryStore() }
        let directory = ConfigPaths.resolve(name, against: config.dataDirectory)
        do {
            let store = try DurableStore(
                directory: directory, fsyncIntervalMilliseconds: config.storage.fsyncIntervalMilliseconds,
                eventLoop: eventLoop, logger: logger, fsyncTimer: fsyncTimer)
            if store.recovery.replayedEntries > 0 {
                logger.info(
                    "loaded \(store.count) clients from \(store.journalPath) (\(store.recovery.replayedEntries) entries)"
                )
            }
            return store
        } catch {
            logger.error("cannot open the store: \(error)")
            throw ServerStartError(server: name, reason: "cannot open its store in \(directory): \(error)")
        }
    }

    /// The endpoints once bound; throws if the server failed to start.
    public func waitUntilBound() async throws -> BoundEndpoints {
        try await readiness.wait()
    }

    /// Neighbours this server currently has an outgoing link to.
    public func connectedNeighbours() async throws -> [String] {
        let core = self.core
        return try await eventLoop.submit { core.value.peers.connectedNeighbours }.get()
    }

    /// Every outgoing peer link as it stands now.
    public func linkStates() async throws -> [PeerLinkState] {
        let core = self.core
        return try await eventLoop.submit { core.value.peers.linkStates }.get()
    }

    /// Connections accepted and still open, on both endpoints (TLS handshakes in progress included).
    public func openConnectionCount() async throws -> Int {
        let core = self.core
        return try await eventLoop.submit { core.value.openConnectionCount }.get()
    }

    /// Writes every log record so far to the log file (the server itself does so every quarter second).
    public func flushLog() async throws {
        let core = self.core
        try await eventLoop.submit { core.value.flushLog() }.get()
    }

    /// Runs `body` with the store on the server's event loop (for tests and tools: the server's own code
    /// is on the loop already).
    public func withStore<Result: Sendable>(
        _ body: @escaping @Sendable (any LocationStore) throws -> Result
    ) async throws -> Result {
        let core = self.core
        return try await eventLoop.submit { try body(core.value.store) }.get()
    }

    public func run() async throws {
        let bound: BoundEndpoints
        do {
            bound = try await eventLoop.flatSubmit { self.startOnLoop() }.get()
        } catch {
            let failure =
                error as? ServerStartError ?? ServerStartError(server: name, reason: "cannot start: \(error)")
            logger.error("\(failure.reason)")
            readiness.resolve(.failure(failure))
            throw failure
        }
        let adminNote = bound.admin.map { ", admin requests on \($0)" } ?? ""
        logger.info("listening for clients on \(bound.clients) and peers on \(bound.peers)\(adminNote)")
        readiness.resolve(.success(bound))
        let stopRequested = self.stopRequested
        await withTaskCancellationOrGracefulShutdownHandler {
            try? await stopRequested.wait()
        } onCancelOrGracefulShutdown: {
            stopRequested.resolve(.success(()))
        }
        try await eventLoop.flatSubmit { self.stopOnLoop() }.get()
    }
}
