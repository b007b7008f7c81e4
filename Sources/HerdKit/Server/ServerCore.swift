import Logging
import NIOCore

/// Everything of one server that lives on its event loop: the store, the pipeline, the peer links, the
/// connections, and the pass that ties them together.
///
/// The pass is Redis's event-loop iteration: every line read in one turn of the loop is parsed, checked,
/// stored and answered at once, and the replies are staged on their connections. At the end of the turn,
/// ``commit()`` appends the turn's changes to the journal with one write, sends each neighbour its new
/// updates with one write, acknowledges the neighbours' updates, then writes every connection's replies that
/// may go, one write each. Nothing locks and nothing hops threads; only a stage that must wait (a provider on
/// the network) leaves the loop, and its reply comes back to it.
final class ServerCore {
    let name: String
    let eventLoop: any EventLoop
    let store: any LocationStore
    let pipeline: Pipeline
    let context: HandlerContext
    /// The pipeline bound to the context, made on the loop the first time a line runs.
    private(set) lazy var runner = PipelineRunner(stages: pipeline.stages, context: context)
    let peers: PeerLinks
    let traffic: TrafficLog
    let settings: ServerSettings
    let logger: Logger
    let clock: any WallClock
    let counters: ServerCounters
    private let logFile: LogFile?

    /// The pass replies are being made in now; they may be written once ``committedPass`` reaches it.
    private(set) var pass: UInt64 = 1
    private(set) var committedPass: UInt64 = 0
    private var commitScheduled = false
    private var flushes: [any PassFlushing] = []
    /// Set while the journal cannot be written: nothing is answered, flooded or acknowledged until it can.
    private(set) var journalFailure: (any Error)?
    private var journalRetry = Backoff(initial: .milliseconds(50), maximum: .seconds(5))
    private var journalRetryScheduled = false
    private var clientSessions: [ObjectIdentifier: ClientSession] = [:]
    private var openClientConnections = 0
    /// Accepted peer connections still in their handshake, each with the timer that closes it at the deadline.
    private var peerHandshakes: [ObjectIdentifier: Scheduled<Void>] = [:]
    private var openPeerConnections = 0
    /// Every connection accepted and not yet closed, handed over or still in a TLS handshake: a stop closes
    /// them all.
    private var acceptedChannels: [ObjectIdentifier: any Channel] = [:]
    private var listeners: [any Channel] = []
    private var timers: [LoopTimer] = []
    private(set) var isStopping = false
    /// Set by ``crash(tornFraction:)``: the server is dead and runs no more passes.
    private(set) var crashed = false
    /// When the endpoints were bound.
    private(set) var startedAt: NIODeadline?
    /// Updates stored per second, a moving average over about ten seconds.
    private(set) var updatesPerSecond = 0.0
    private var sequenceSampled: UInt64?

    init(
        name: String, eventLoop: any EventLoop, store: any LocationStore, pipeline: Pipeline, peers: PeerLinks,
        provider: any PlaceProvider, logFile: LogFile?, trafficEnabled: Bool, settings: ServerSettings,
        logger: Logger, clock: any WallClock, counters: ServerCounters
    ) {
        self.counters = counters
        self.name = name
        self.eventLoop = eventLoop
        self.store = store
        self.pipeline = pipeline
        self.peers = peers
        self.settings = settings
        self.logger = logger
        self.clock = clock
        self.logFile = logFile
        self.traffic = TrafficLog(file: logFile, enabled: trafficEnabled, format: settings.logFormat)
        self.context = HandlerContext(
            serverName: name, store: store, peers: peers, provider: provider, logger: logger, eventLoop: eventLoop,
            rules: settings.rules)
        peers.requestPass = { [unowned self] in self.requestCommit() }
    }

    // MARK: The pass

    /// Makes sure ``commit()`` runs at the end of this turn of the loop.
    func requestCommit() {
        guard !commitScheduled else { return }
        commitScheduled = true
        eventLoop.assumeIsolated().execute { self.commit() }
    }

    /// `target` staged output in this pass; it is flushed after the commit.
    func requestFlush(_ target: any PassFlushing) {
        flushes.append(target)
        requestCommit()
    }

    /// Ends the pass: journal, floods, acknowledgements, replies.
    func commit() {
        commitScheduled = false
        guard !crashed else { return }
        if store.hasUncommittedChanges {
            do {
                try store.commit()
                if let failure = journalFailure {
                    journalFailure = nil
                    journalRetry.reset()
                    logger.notice("the journal can be written again (it failed with: \(failure)); serving again")
                    resumeSessions()
                }
            } catch {
                journalStalled(error)
                return
            }
        }
        counters.passCommitted(journalBytesWritten: store.journalBytesWritten)
        committedPass = pass
        pass += 1
        traffic.newPass()
        peers.sendPending()
        let targets = flushes
        flushes.removeAll(keepingCapacity: true)
        for target in targets { target.flushPass() }
    }

    /// The journal write failed: nothing of this pass may be told to anyone. Retries with backoff; the
    /// connections stop taking lines meanwhile.
    private func journalStalled(_ error: any Error) {
        if journalFailure == nil {
            logger.error(
                "cannot write the journal: \(error); holding replies, floods and acknowledgements until it can be written"
            )
        }
        journalFailure = error
        // A pass that fails while a retry is already due (an acknowledgement arrived, say) waits for it: one
        // retry at a time, so the backoff grows per retry, not per event.
        guard !journalRetryScheduled else { return }
        journalRetryScheduled = true
        let delay = journalRetry.nextDelay()
        eventLoop.assumeIsolated().scheduleTask(in: delay.timeAmount) {
            self.journalRetryScheduled = false
            self.requestCommit()
        }
    }

    private func resumeSessions() {
        for session in clientSessions.values { session.resume() }
        peers.resumeInbound()
    }

    /// The wall time for lines read now.
    func now() -> WallTime { clock.now() }

    // MARK: Connections

    /// Counts a new client connection against the limit; false to refuse it.
    func admitClient(_ channel: any Channel) -> Bool {
        guard !isStopping else { return false }
        guard openClientConnections < settings.maximumClientConnections else {
            counters.refused("clients")
            logger.warning(
                "client \(ConnectionPeer(channel: channel).remoteDescription) refused: \(settings.maximumClientConnections) client connections already open"
            )
            return false
        }
        openClientConnections += 1
        channel.closeFuture.assumeIsolated().whenComplete { _ in self.openClientConnections -= 1 }
        track(channel)
        return true
    }

    /// Takes a peer connection (the hello decides whether it stays), counted against the peer cap from
    /// before any TLS handshake, and closed if its handshake is not over by the deadline.
    func admitPeer(_ channel: any Channel) -> Bool {
        guard !isStopping else { return false }
        let remote = ConnectionPeer(channel: channel).remoteDescription
        guard openPeerConnections < settings.maximumPeerConnections else {
            counters.refused("peers")
            logger.warning(
                "peer connection from \(remote) refused: \(settings.maximumPeerConnections) peer connections already open"
            )
            return false
        }
        openPeerConnections += 1
        PeerKeepalive.enable(on: channel)
        let id = ObjectIdentifier(channel)
        let timeout = settings.handshakeTimeout
        peerHandshakes[id] = eventLoop.assumeIsolated().scheduleTask(in: timeout.timeAmount) {
            self.peerHandshakes[id] = nil
            self.logger.warning("peer connection from \(remote) closed: no complete handshake within \(timeout)")
            channel.close(promise: nil)
        }
        channel.closeFuture.assumeIsolated().whenComplete { _ in
            self.openPeerConnections -= 1
            self.peerHandshakes.removeValue(forKey: id)?.cancel()
        }
        track(channel)
        return true
    }

    /// A peer connection's handshake is over: its link is up, and its deadline no longer applies.
    func peerHandshakeCompleted(_ channel: any Channel) {
        peerHandshakes.removeValue(forKey: ObjectIdentifier(channel))?.cancel()
    }

    /// Connections accepted and still open, on both endpoints.
    var openConnectionCount: Int { acceptedChannels.count }

    /// Connections open on each endpoint (TLS handshakes included).
    var openConnections: (clients: Int, peers: Int) { (openClientConnections, openPeerConnections) }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        acceptedChannels[id] = channel
        channel.closeFuture.assumeIsolated().whenComplete { _ in self.acceptedChannels[id] = nil }
    }

    /// Puts a client session on a connection that is ready for lines.
    func serveClient(_ channel: any Channel, peer: ConnectionPeer) throws {
        let high = settings.maximumUnsentBytes
        try channel.syncOptions?.setOption(.writeBufferWaterMark, value: .init(low: high / 2, high: high))
        let session = ClientSession(server: self, origin: .client(peer.remoteDescription))
        try channel.pipeline.syncOperations.addHandler(session)
    }

    func register(_ session: ClientSession) {
        clientSessions[ObjectIdentifier(session)] = session
    }

    func unregister(_ session: ClientSession) {
        clientSessions[ObjectIdentifier(session)] = nil
    }

    // MARK: Life cycle

    /// Binds the endpoints and starts the links and timers.
    ///
    /// - Parameters:
    ///   - advertisedHost: the address neighbours dial (the bound one may be `0.0.0.0`).
    ///   - admin: the admin endpoint's transport and address, if it has one.
    func start(
        clients: (transport: any Transport, endpoint: Endpoint),
        peers peerEndpoint: (transport: any Transport, endpoint: Endpoint),
        advertisedHost: String, admin: (transport: any Transport, endpoint: Endpoint)?,
        box: NIOLoopBoundBox<ServerCore>
    ) -> EventLoopFuture<BoundEndpoints> {
        let clientSetup = ConnectionSetup(
            admit: { channel in box.value.admitClient(channel) },
            ready: { channel, peer in try box.value.serveClient(channel, peer: peer) })
        let peerSetup = ConnectionSetup(
            admit: { channel in box.value.admitPeer(channel) },
            ready: { channel, peer in
                let server = box.value
                try channel.pipeline.syncOperations.addHandler(InboundLinkHandler(server: server, peer: peer))
            })
        let name = self.name
        let loop = eventLoop
        let clientListener = clients.transport.listen(on: clients.endpoint, eventLoop: eventLoop, setup: clientSetup)
        return clientListener.flatMapError { error in
            loop.makeFailedFuture(
                ServerStartError(server: name, reason: "cannot listen for clients on \(clients.endpoint): \(error)"))
        }.flatMap { clientChannel in
            peerEndpoint.transport.listen(on: peerEndpoint.endpoint, eventLoop: loop, setup: peerSetup)
                .map { peerChannel in (clientChannel, peerChannel) }
                .flatMapError { error in
                    clientChannel.close(promise: nil)
                    return loop.makeFailedFuture(
                        ServerStartError(
                            server: name, reason: "cannot listen for peers on \(peerEndpoint.endpoint): \(error)"))
                }
        }.flatMap { clientChannel, peerChannel in
            guard let admin else { return loop.makeSucceededFuture((clientChannel, peerChannel, nil)) }
            let setup = ConnectionSetup(
                admit: { _ in !box.value.isStopping },
                ready: { channel, _ in
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(server: box.value))
                })
            return admin.transport.listen(on: admin.endpoint, eventLoop: loop, setup: setup)
                .map { adminChannel in (clientChannel, peerChannel, adminChannel) }
                .flatMapError { error in
                    clientChannel.close(promise: nil)
                    peerChannel.close(promise: nil)
                    return loop.makeFailedFuture(
                        ServerStartError(
                            server: name, reason: "cannot listen for admin requests on \(admin.endpoint): \(error)"))
                }
        }.assumeIsolated().map { (clientChannel: any Channel, peerChannel: any Channel, adminChannel: (any Channel)?) in
            self.listeners = [clientChannel, peerChannel] + (adminChannel.map { [$0] } ?? [])
            let bound = BoundEndpoints(
                clients: clientChannel.localAddress.flatMap(Endpoint.init) ?? clients.endpoint,
                peers: peerChannel.localAddress.flatMap(Endpoint.init) ?? peerEndpoint.endpoint,
                admin: adminChannel.map { $0.localAddress.flatMap(Endpoint.init) ?? admin!.endpoint })
            self.startedAt = self.eventLoop.now
            self.startTimers()
            self.peers.start(boundPeerEndpoint: Endpoint(host: advertisedHost, port: bound.peers.port))
            return bound
        }.nonisolated()
    }

    private func startTimers() {
        timers.append(
            LoopTimer(every: .milliseconds(250), on: eventLoop) { self.flushLog() })
        timers.append(
            LoopTimer(every: .seconds(1), on: eventLoop) {
                self.closeIdleConnections()
                self.sampleUpdateRate()
            })
    }

    private func cancelTimers() {
        for timer in timers { timer.cancel() }
        timers = []
    }

    private func sampleUpdateRate() {
        let latest = store.latestSequence
        if let before = sequenceSampled {
            let stored = Double(latest >= before ? latest - before : 0)
            updatesPerSecond += (stored - updatesPerSecond) * 0.2
        }
        sequenceSampled = latest
    }

    /// Hands the traffic log to the log file and flushes it.
    func flushLog() {
        traffic.flush()
        logFile?.flush()
    }

    /// Closes client connections idle for longer than the idle timeout, and those that owe the rest of a
    /// line for longer than the line timeout.
    private func closeIdleConnections() {
        let now = eventLoop.now
        let idleCutoff = settings.idleTimeout.map { now - $0.timeAmount }
        let lineCutoff = settings.lineTimeout.map { now - $0.timeAmount }
        for session in clientSessions.values {
            if let idleCutoff, session.lastActivity < idleCutoff {
                session.closeIdle()
            } else if let lineCutoff, let since = session.partialLineSince, since < lineCutoff {
                session.closeIncompleteLine()
            }
        }
    }

    /// Stops gracefully: no new connections; lines already read are answered (their replies may wait for
    /// the neighbours' acknowledgements, up to the shutdown timeout); then every connection closes, the
    /// journal is synced and closed and the log flushed.
    func stop() -> EventLoopFuture<Void> {
        guard !isStopping else { return eventLoop.makeSucceededVoidFuture() }
        isStopping = true
        let closedListeners = listeners.map { $0.close() }
        listeners = []
        peers.stopDialling()
        for session in clientSessions.values { session.finish() }
        let clientsDone = EventLoopFuture.andAllComplete(
            clientSessions.values.map { $0.closeFuture }, on: eventLoop)
        let deadline = eventLoop.scheduleTask(in: settings.shutdownTimeout.timeAmount) {}
        let drained = eventLoop.any(clientsDone, deadline.futureResult)
        return EventLoopFuture.andAllComplete(closedListeners, on: eventLoop).flatMap { drained }
            .assumeIsolated().flatMap { _ in
                deadline.cancel()
                for session in self.clientSessions.values { session.closeNow() }
                return self.peers.close()
            }.flatMap { _ in
                // What is left was never handed over (a TLS handshake still running, say).
                let left = self.acceptedChannels.values.map { $0.close(mode: .all) }
                return EventLoopFuture.andAllComplete(left, on: self.eventLoop)
            }.map { _ in
                self.cancelTimers()
                self.commit()
                do {
                    try self.store.close()
                } catch {
                    self.logger.error("closing the journal failed: \(error)")
                }
                self.traffic.flush()
                self.logger.info("stopped")
                self.logFile?.flush()
            }.nonisolated()
    }
}

extension ServerCore {
    /// Dies as a killed process does, for a simulator: no more passes (so nothing more is journalled,
    /// flooded, acknowledged or answered), `tornFraction` of the pending pass written as a torn journal tail,
    /// and every connection dropped as the kernel drops a dead process's sockets.
    func crash(tornFraction: Double) {
        guard !crashed else { return }
        crashed = true
        isStopping = true
        cancelTimers()
        peers.stopDialling()
        (store as? DurableStore)?.crash(tornFraction: tornFraction)
        flushes.removeAll()
        for session in clientSessions.values { session.closeNow() }
        _ = peers.close()
        for channel in listeners + Array(acceptedChannels.values) { channel.close(mode: .all, promise: nil) }
        listeners = []
    }
}

/// Runs `body` on the loop every `interval` until cancelled.
final class LoopTimer {
    private var scheduled: Scheduled<Void>?
    private var cancelled = false
    private let interval: TimeAmount
    private let eventLoop: any EventLoop
    private let body: () -> Void

    init(every interval: TimeAmount, on eventLoop: any EventLoop, _ body: @escaping () -> Void) {
        self.interval = interval
        self.eventLoop = eventLoop
        self.body = body
        arm()
    }

    private func arm() {
        scheduled = eventLoop.assumeIsolated().scheduleTask(in: interval) {
            guard !self.cancelled else { return }
            self.body()
            self.arm()
        }
    }

    func cancel() {
        cancelled = true
        scheduled?.cancel()
    }
}

/// Something that staged output in a pass and writes it once the pass is committed.
protocol PassFlushing: AnyObject {
    func flushPass()
}

extension EventLoop {
    /// Succeeds when either future completes.
    fileprivate func any(_ first: EventLoopFuture<Void>, _ second: EventLoopFuture<Void>) -> EventLoopFuture<Void> {
        let promise = makePromise(of: Void.self)
        var done = false
        let complete: (Result<Void, any Error>) -> Void = { _ in
            guard !done else { return }
            done = true
            promise.succeed()
        }
        first.assumeIsolated().whenComplete(complete)
        second.assumeIsolated().whenComplete(complete)
        return promise.futureResult
    }
}
