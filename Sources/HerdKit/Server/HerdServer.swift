import Logging
import ServiceLifecycle

/// One server of a herd: its client and peer endpoints, its pipeline, its store and its links.
///
/// A swift-service-lifecycle `Service`: run it in a `ServiceGroup` for signal handling, or in a task that
/// is cancelled to stop it. Stopping closes every socket it opened, so it can be started again at once.
public final class HerdServer: Service, Sendable {
    public let name: String
    public let config: HerdConfig
    public let store: any LocationStore
    public let logger: Logger

    private let server: HerdConfig.Server
    private let pipeline: Pipeline
    private let context: HandlerContext
    private let clientTransport: any Transport
    private let peerTransport: any Transport
    private let peerLinks: PeerLinks
    private let neighbours: Set<String>
    private let directory: PeerDirectory
    private let logFile: LogFile?
    private let clientLimits: ConnectionLimits
    private let peerLimits: ConnectionLimits
    private let clock: any WallClock
    private let readiness = Readiness<BoundEndpoints>()
    private let clientConnections = ConnectionCounter()
    private let traffic: TrafficLog

    /// Builds the server `name` of `config` from the parts `registry` names.
    ///
    /// - Parameters:
    ///   - directory: where neighbours' peer endpoints are looked up; share one between servers of one process.
    ///   - store: the location store (a fresh ``MemoryStore`` by default).
    ///   - consoleLogLevel: also log records at or above this level to standard error.
    public init(
        name: String, config: HerdConfig, registry: HerdRegistry, directory: PeerDirectory? = nil,
        store: (any LocationStore)? = nil, consoleLogLevel: Logger.Level? = nil, clock: any WallClock = SystemClock()
    ) throws {
        try registry.validate(config)
        guard let server = config.server(named: name) else {
            throw ConfigError(file: config.source, key: "servers", reason: "no server named '\(name)'")
        }
        let logPath = ConfigPaths.resolve("\(name).log", against: config.logDirectory)
        let logFile = try LogFile(path: logPath)
        let level = config.logLevel
        let logger = Logger(label: name) { label in
            var handlers: [any LogHandler] = [FileLogHandler(label: label, file: logFile, level: level)]
            if let consoleLogLevel {
                var console = StreamLogHandler.standardError(label: label)
                console.logLevel = consoleLogLevel
                handlers.append(console)
            }
            return MultiplexLogHandler(handlers)
        }
        self.logger = logger
        self.name = name
        self.config = config
        self.server = server
        self.logFile = logFile
        self.traffic = TrafficLog(file: logFile, serverName: name, enabled: level <= .info)
        self.clock = clock
        let directory = directory ?? PeerDirectory(config: config)
        let store = try store ?? Self.makeStore(name: name, config: config, logger: logger)
        self.directory = directory
        self.store = store
        self.neighbours = Set(config.neighbours(of: name))

        func context(_ options: ConfigOptions) -> HerdRegistry.Context {
            HerdRegistry.Context(options: options, serverName: name, config: config, logger: logger)
        }
        self.clientTransport = try registry.makeTransport(
            config.clientTransport, kind: .clients, context: context(config.clientTransport.options))
        let peerTransport = try registry.makeTransport(
            config.peerTransport, kind: .peers, context: context(config.peerTransport.options))
        self.peerTransport = peerTransport
        let provider = try registry.makeProvider(context: context(config.provider.options))
        self.pipeline = Pipeline(
            try config.pipeline.map { try registry.makeStage($0, context: context($0.options)) })

        let peerLimits = ConnectionLimits(maximumLineBytes: config.limits.maximumLineBytes, idleTimeout: nil)
        self.clientLimits = ConnectionLimits(
            maximumLineBytes: config.limits.maximumLineBytes,
            idleTimeout: config.limits.idleTimeoutSeconds == 0 ? nil : .seconds(config.limits.idleTimeoutSeconds))
        self.peerLimits = peerLimits
        let peerLinks = PeerLinks(
            serverName: name, neighbours: config.neighbours(of: name), store: store, transport: peerTransport,
            directory: directory, limits: peerLimits,
            settings: PeerLinks.Settings(
                redial: config.redial, batchLines: config.limits.peerBatchLines,
                floodTimeout: .milliseconds(config.limits.floodTimeoutMilliseconds)),
            logger: logger)
        self.peerLinks = peerLinks
        self.context = HandlerContext(
            serverName: name, store: store, peers: peerLinks, provider: provider, logger: logger)
    }

    /// The store the config asks for: a journal in `<data_dir>/<name>/`, or memory only.
    private static func makeStore(name: String, config: HerdConfig, logger: Logger) throws -> any LocationStore {
        guard config.storage.durable else { return MemoryStore() }
        let directory = ConfigPaths.resolve(name, against: config.dataDirectory)
        do {
            let store = try DurableStore(
                directory: directory, fsyncIntervalMilliseconds: config.storage.fsyncIntervalMilliseconds,
                logger: logger)
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
    public var connectedNeighbours: [String] { peerLinks.connectedNeighbours }

    public func run() async throws {
        defer { logFile?.flush() }
        let clientListener: any Listener
        let peerListener: any Listener
        do {
            clientListener = try await clientTransport.listen(on: server.clientEndpoint, limits: clientLimits)
            do {
                peerListener = try await peerTransport.listen(on: server.peerEndpoint, limits: peerLimits)
            } catch {
                await clientListener.close()
                throw ServerStartError(
                    server: name, reason: "cannot listen for peers on \(server.peerEndpoint): \(error)")
            }
        } catch let error as ServerStartError {
            readiness.resolve(.failure(error))
            logger.error("\(error.reason)")
            throw error
        } catch {
            let failure = ServerStartError(
                server: name, reason: "cannot listen for clients on \(server.clientEndpoint): \(error)")
            readiness.resolve(.failure(failure))
            logger.error("\(failure.reason)")
            throw failure
        }
        let bound = BoundEndpoints(clients: clientListener.localEndpoint, peers: peerListener.localEndpoint)
        directory.record(bound.peers, for: name)
        logger.info("listening for clients on \(bound.clients) and peers on \(bound.peers)")
        readiness.resolve(.success(bound))

        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.accept(on: clientListener, kind: "clients", self.serveClient) }
                group.addTask { await self.accept(on: peerListener, kind: "peers", self.servePeer) }
                group.addTask { await self.peerLinks.run() }
                group.addTask { await self.flushLogPeriodically() }
                if let service = self.store as? any Service {
                    group.addTask {
                        do {
                            try await service.run()
                        } catch {
                            self.logger.error("store failed: \(error)")
                        }
                    }
                }
            }
        }
        logger.info("stopped")
    }

    private func accept(
        on listener: any Listener, kind: String, _ handler: @escaping @Sendable (any Connection) async -> Void
    ) async {
        do {
            try await listener.run(handler)
        } catch {
            if !Task.isCancelled { logger.error("\(kind) listener failed: \(error)") }
        }
    }

    private func flushLogPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            logFile?.flush()
        }
    }

    // MARK: Clients

    private func serveClient(_ connection: any Connection) async {
        let origin = Envelope.Origin.client(connection.remoteDescription)
        guard clientConnections.admit(limit: config.limits.maximumClientConnections) else {
            logger.warning(
                "\(origin) refused: \(config.limits.maximumClientConnections) client connections already open")
            try? await connection.run { _, _ in }
            return
        }
        defer { clientConnections.release() }
        do {
            try await connection.run { inbound, outbound in
                for try await event in inbound {
                    switch event {
                    case .lines(let lines):
                        var replies: [[UInt8]] = []
                        replies.reserveCapacity(lines.count)
                        var barrier = ReplyBarrier()
                        var traffic = self.traffic.batch(origin: origin)
                        let receivedAt = self.clock.now()
                        for line in lines {
                            traffic.input(line)
                            guard let reply = await self.process(line, from: origin, receivedAt: receivedAt)
                            else { continue }
                            traffic.output(reply.bytes)
                            replies.append(reply.bytes)
                            barrier.include(reply)
                        }
                        self.traffic.write(traffic)
                        try await self.hold(until: barrier)
                        if !replies.isEmpty { try await outbound.write(replies) }
                    case .overlongLine(let prefix):
                        self.logger.notice(
                            "\(origin) sent a line over \(self.clientLimits.maximumLineBytes) bytes; closing")
                        let reply = Replies.invalid(prefix)
                        var traffic = self.traffic.batch(origin: origin)
                        traffic.output(reply)
                        self.traffic.write(traffic)
                        try await outbound.write([reply])
                        return
                    }
                }
            }
        } catch {
            if !Task.isCancelled { logger.debug("\(origin) closed: \(error)") }
        }
    }

    /// Holds a batch of replies until the updates they confirm are durable and, where flooded, acknowledged
    /// by the neighbours: one wait per batch, not per line.
    private func hold(until barrier: ReplyBarrier) async throws {
        guard let sequence = barrier.sequence else { return }
        try await store.waitUntilDurable(sequence)
        if barrier.waitsForFlood { await peerLinks.waitUntilAcknowledged(sequence) }
    }

    /// Runs one line through the pipeline.
    func process(_ line: [UInt8], from origin: Envelope.Origin, receivedAt: WallTime) async -> Reply? {
        let envelope = Envelope(line: line, origin: origin, receivedAt: receivedAt)
        do {
            return try await pipeline.handle(envelope, context: context)
        } catch {
            logger.error("pipeline failed on a line from \(origin): \(error)")
            return if case .client = origin { .invalid(line) } else { nil }
        }
    }

    // MARK: Peers

    private func servePeer(_ connection: any Connection) async {
        let remote = connection.remoteDescription
        do {
            try await connection.run { inbound, outbound in
                var neighbour: String?
                var processed: UInt64 = 0
                defer {
                    if let neighbour, !Task.isCancelled { self.logger.info("peer link from \(neighbour) dropped") }
                }
                for try await event in inbound {
                    guard case .lines(let lines) = event else {
                        self.logger.warning("peer link from \(neighbour ?? remote) sent an overlong line; closing")
                        return
                    }
                    var processedBefore = processed
                    var traffic: TrafficLog.Batch?
                    let receivedAt = self.clock.now()
                    defer { if let traffic { self.traffic.write(traffic) } }
                    for line in lines {
                        if let neighbour {
                            let origin = Envelope.Origin.peer(neighbour)
                            if traffic == nil { traffic = self.traffic.batch(origin: origin) }
                            traffic?.input(line)
                            _ = await self.process(line, from: origin, receivedAt: receivedAt)
                            processed += 1
                            continue
                        }
                        guard let claimed = PeerHello.serverName(in: line) else {
                            self.logger.warning("peer link from \(remote) refused: no hello line")
                            return
                        }
                        if let refusal = self.refusal(of: claimed, identity: connection.peerIdentity) {
                            self.logger.warning("peer link from \(remote) claiming \(claimed) refused: \(refusal)")
                            return
                        }
                        neighbour = claimed
                        self.logger.info("peer link from \(claimed) opened (\(remote))")
                        try await outbound.write([PeerHello.epoch(self.store.epoch)])
                    }
                    // Tell the neighbour these updates are stored, so it can answer its client (PROTOCOL.md 5).
                    if processed != processedBefore {
                        try await self.store.waitUntilDurable(self.store.latestSequence)
                        try await outbound.write([PeerHello.acknowledgement(processed)])
                        processedBefore = processed
                    }
                }
            }
        } catch {
            if !Task.isCancelled { logger.debug("peer connection \(remote) ended: \(error)") }
        }
    }

    private func refusal(of claimed: String, identity: PeerIdentity?) -> String? {
        guard neighbours.contains(claimed) else { return "not a configured neighbour" }
        if let identity, !identity.names.contains(claimed) {
            return "its certificate names \(identity.names.joined(separator: ", "))"
        }
        return nil
    }
}
