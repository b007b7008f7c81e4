import Logging
import NIOCore

/// The home of a server's peer protocol: its outgoing links (one per neighbour: dial, hello, feed, re-dial
/// with backoff), its incoming ones (hello checks, one link per neighbour), and the flood gate client
/// replies wait at. Lives on the server's event loop.
///
/// Flooding and anti-entropy are one stream: each outgoing link sends the store's change feed from where
/// its neighbour's cursor stands, so a link that was down, lagged or overflowed just resumes
/// (Docs/anti-entropy.md). Incoming links carry the neighbours' updates to us, so each direction of a link
/// has its own connection.
final class PeerLinks: PeerFlooding {
    private struct Outbound {
        var handler: OutboundLinkHandler?
        var dialling = false
        var backoff: Backoff
        var redial: Scheduled<Void>?
        var reportedFailure = false
    }

    private struct Waiter {
        let mark: UInt64
        let since: NIODeadline
        let release: () -> Void
    }

    let serverName: String
    let neighbours: [String]
    let store: any LocationStore
    let settings: ServerSettings
    let logger: Logger
    let counters: ServerCounters
    private let transport: any Transport
    private let directory: PeerDirectory
    let eventLoop: any EventLoop
    let gate: FloodGate
    /// Asks the server for a pass (set by the server).
    var requestPass: () -> Void = {}
    private(set) var inbound: [String: InboundLinkHandler] = [:]
    private var outbound: [String: Outbound]
    private var waiters = CircularBuffer<Waiter>()
    private var timeoutCheck: Scheduled<Void>?
    private(set) var stopped = false

    init(
        serverName: String, neighbours: [String], store: any LocationStore, transport: any Transport,
        directory: PeerDirectory, eventLoop: any EventLoop, settings: ServerSettings, logger: Logger,
        counters: ServerCounters
    ) {
        self.counters = counters
        self.serverName = serverName
        self.neighbours = neighbours
        self.store = store
        self.transport = transport
        self.directory = directory
        self.eventLoop = eventLoop
        self.settings = settings
        self.logger = logger
        self.gate = FloodGate(eventLoop: eventLoop)
        self.outbound = Dictionary(
            uniqueKeysWithValues: neighbours.map {
                (
                    $0,
                    Outbound(
                        backoff: Backoff(
                            initial: settings.redialInitial, maximum: settings.redialMaximum,
                            randomFraction: settings.randomFraction))
                )
            })
    }

    /// Neighbours whose outgoing link is streaming.
    var connectedNeighbours: [String] {
        neighbours.filter { outbound[$0]?.handler?.link.isStreaming == true }
    }

    /// Every outgoing link as it stands now.
    var linkStates: [PeerLinkState] {
        neighbours.map { name in
            guard let link = outbound[name]?.handler?.link, link.isStreaming else {
                let held = store.cursor(for: name).map { min($0.acknowledged, store.latestSequence) } ?? 0
                return PeerLinkState(
                    neighbour: name, isUp: false, sent: held, acknowledged: held, latest: store.latestSequence,
                    isLagging: false)
            }
            return PeerLinkState(
                neighbour: name, isUp: true, sent: link.sent, acknowledged: link.acknowledged,
                latest: store.latestSequence, isLagging: link.lagging)
        }
    }

    // MARK: Flooding

    func announce(_ sequence: UInt64) {
        requestPass()
    }

    func acknowledgement(of sequence: UInt64) -> ReplyHold? {
        isOpen(at: sequence) ? nil : ReplyHold(gate: gate, mark: sequence)
    }

    /// Sends every link what is new (once per pass, after the journal write): the pass's own records to
    /// links that are caught up, the change feed to those that are behind.
    func sendPending() {
        let fresh = (store as? FloodSource)?.takeUnflooded() ?? []
        for entry in outbound.values { entry.handler?.pump(fresh: fresh) }
    }

    func isOpen(at mark: UInt64) -> Bool {
        !outbound.values.contains { $0.handler?.link.isAwaited(at: mark) == true }
    }

    func whenOpen(at mark: UInt64, _ release: @escaping () -> Void) {
        guard !isOpen(at: mark) else { return release() }
        let waiter = Waiter(mark: mark, since: eventLoop.now, release: release)
        // Nearly always the highest mark so far: insert from the back, keeping marks in order.
        var index = waiters.endIndex
        while index > waiters.startIndex, waiters[waiters.index(before: index)].mark > mark {
            index = waiters.index(before: index)
        }
        waiters.insert(waiter, at: index)
        armTimeout()
    }

    /// Releases every waiter whose mark the gate is open at (marks are in order, and open at a mark means
    /// open at every lower one).
    private func releaseOpenWaiters() {
        while let first = waiters.first, isOpen(at: first.mark) {
            waiters.removeFirst()
            first.release()
        }
        if waiters.isEmpty {
            timeoutCheck?.cancel()
            timeoutCheck = nil
        }
    }

    private func armTimeout() {
        guard timeoutCheck == nil, let first = waiters.first else { return }
        let due = first.since + settings.floodTimeout.timeAmount
        timeoutCheck = eventLoop.assumeIsolated().scheduleTask(deadline: due) {
            self.timeoutCheck = nil
            self.expireWaiters()
        }
    }

    /// The oldest waiters have waited the flood timeout: the neighbours they wait for lag, and are not
    /// waited for until they catch up.
    private func expireWaiters() {
        let now = eventLoop.now
        while let first = waiters.first, first.since + settings.floodTimeout.timeAmount <= now {
            for entry in outbound.values {
                guard let handler = entry.handler, handler.link.isAwaited(at: first.mark), handler.markLagging()
                else { continue }
                logger.warning(
                    "peer \(handler.neighbour) has not acknowledged an update within \(settings.floodTimeout); replies no longer wait for it until it catches up"
                )
            }
            releaseOpenWaiters()
        }
        armTimeout()
    }

    // MARK: Outgoing links

    /// Starts dialling every neighbour.
    func start(boundPeerEndpoint: Endpoint) {
        gate.links.value = self
        directory.record(boundPeerEndpoint, for: serverName)
        for neighbour in neighbours { dial(neighbour) }
    }

    private func dial(_ neighbour: String) {
        guard !stopped, var entry = outbound[neighbour], entry.handler == nil, !entry.dialling else { return }
        entry.redial?.cancel()
        entry.redial = nil
        guard let endpoint = directory.endpoint(of: neighbour) else {
            outbound[neighbour] = entry
            scheduleRedial(neighbour)
            return
        }
        entry.dialling = true
        outbound[neighbour] = entry
        let box = NIOLoopBound(self, eventLoop: eventLoop)
        let setup = ConnectionSetup { channel, peer in
            let links = box.value
            // A dial that completes after the links were closed (a stop, or a crash in the simulator) would
            // open a link nobody owns, which the neighbour then holds against the next one.
            guard !links.stopped else { throw PeerLinkError.stopped }
            if let identity = peer.identity, !identity.names.contains(neighbour) {
                throw PeerLinkError.wrongIdentity(expected: neighbour, found: identity.names)
            }
            PeerKeepalive.enable(on: channel)
            let handler = OutboundLinkHandler(neighbour: neighbour, remote: peer.remoteDescription, links: links)
            try channel.pipeline.syncOperations.addHandler(handler)
            links.outbound[neighbour]?.handler = handler
            links.armHandshakeTimeout(handler, channel: channel)
        }
        transport.dial(endpoint, eventLoop: eventLoop, setup: setup).assumeIsolated().whenComplete { result in
            self.outbound[neighbour]?.dialling = false
            if case .failure(let error) = result {
                if self.outbound[neighbour]?.reportedFailure == false && !self.stopped {
                    self.logger.info(
                        "peer link to \(neighbour) at \(endpoint) failed: \(error); re-dialling with backoff")
                    self.outbound[neighbour]?.reportedFailure = true
                }
                self.scheduleRedial(neighbour)
            }
        }
    }

    private func armHandshakeTimeout(_ handler: OutboundLinkHandler, channel: any Channel) {
        let neighbour = handler.neighbour
        let timeout = settings.handshakeTimeout
        eventLoop.assumeIsolated().scheduleTask(in: timeout.timeAmount) {
            guard handler.link.isHandshaking else { return }
            self.logger.warning("peer link to \(neighbour): no answer to the hello within \(timeout); closing")
            channel.close(promise: nil)
        }
    }

    private func scheduleRedial(_ neighbour: String) {
        guard !stopped, var entry = outbound[neighbour], entry.redial == nil else { return }
        let delay = entry.backoff.nextDelay()
        counters.redialled(neighbour)
        entry.redial = eventLoop.assumeIsolated().scheduleTask(in: delay.timeAmount) {
            self.outbound[neighbour]?.redial = nil
            self.dial(neighbour)
        }
        outbound[neighbour] = entry
    }

    /// Where the neighbour's copy of our feed stands: its cursor if it still has the same store, else the
    /// start (it is new, or lost its data).
    func resumePoint(for neighbour: String, epoch: UInt64) -> UInt64 {
        guard let cursor = store.cursor(for: neighbour), cursor.neighbourEpoch == epoch else { return 0 }
        return min(cursor.acknowledged, store.latestSequence)
    }

    /// The neighbour answered the hello: the link is up. Only now is the backoff reset, so a neighbour that
    /// accepts connections and then refuses the link is not re-dialled in a tight loop.
    func linkEstablished(_ handler: OutboundLinkHandler, from start: UInt64) {
        outbound[handler.neighbour]?.backoff.reset()
        outbound[handler.neighbour]?.reportedFailure = false
        logger.info(
            "peer link to \(handler.neighbour) opened (\(handler.remote)); sending changes after \(start) of \(store.latestSequence)"
        )
    }

    func acknowledged(_ handler: OutboundLinkHandler, through sequence: UInt64) {
        if let epoch = handler.link.neighbourEpoch {
            store.setCursor(PeerCursor(neighbourEpoch: epoch, acknowledged: sequence), for: handler.neighbour)
        }
        releaseOpenWaiters()
    }

    func linkClosed(_ handler: OutboundLinkHandler) {
        guard outbound[handler.neighbour]?.handler === handler else { return }
        outbound[handler.neighbour]?.handler = nil
        if !stopped { logger.info("peer link to \(handler.neighbour) dropped") }
        releaseOpenWaiters()
        scheduleRedial(handler.neighbour)
    }

    // MARK: Incoming links

    /// Why a hello naming `name` is refused, or nil to accept it.
    func refusal(ofInbound name: String, identity: PeerIdentity?) -> String? {
        guard neighbours.contains(name) else { return "not a configured neighbour" }
        if let identity, !identity.names.contains(name) {
            return "its certificate names \(identity.names.joined(separator: ", "))"
        }
        if let existing = inbound[name] {
            // The neighbour dials again: either a second link (refused), or its end of the one we hold is
            // gone (it was reset, or the neighbour restarted) and ours does not know, since a listener only
            // writes acknowledgements. A probe on it makes the neighbour's host answer with a reset if so,
            // which closes it, and the neighbour's next dial is accepted.
            existing.probe()
            return "\(name) is linked already"
        }
        return nil
    }

    /// A neighbour's link to us opened: it is up, so ours to it can be opened now rather than at the end of
    /// its backoff.
    func inboundLinked(_ name: String, _ handler: InboundLinkHandler) {
        inbound[name] = handler
        if var entry = outbound[name], entry.handler == nil, !entry.dialling {
            entry.redial?.cancel()
            entry.redial = nil
            outbound[name] = entry
            dial(name)
        }
    }

    func inboundClosed(_ name: String, _ handler: InboundLinkHandler) {
        if inbound[name] === handler { inbound[name] = nil }
    }

    func resumeInbound() {
        for handler in inbound.values { handler.resume() }
    }

    // MARK: Stopping

    /// No more dialling (a graceful stop; the links stay up while the last replies wait for them).
    func stopDialling() {
        stopped = true
        for name in neighbours {
            outbound[name]?.redial?.cancel()
            outbound[name]?.redial = nil
        }
    }

    /// Closes every link and releases every held reply.
    func close() -> EventLoopFuture<Void> {
        stopDialling()
        var closing: [EventLoopFuture<Void>] = []
        for entry in outbound.values { if let handler = entry.handler { closing.append(handler.close()) } }
        for handler in inbound.values { closing.append(handler.close()) }
        let pending = waiters
        waiters.removeAll()
        timeoutCheck?.cancel()
        timeoutCheck = nil
        for waiter in pending { waiter.release() }
        // The gate held these links (and they hold the gate): let go, so a stopped server is freed. A reply
        // still asking the gate finds it open.
        gate.links.value = nil
        return EventLoopFuture.andAllComplete(closing, on: eventLoop)
    }
}

/// Why a peer link could not be used.
public enum PeerLinkError: Error, Sendable, CustomStringConvertible {
    case wrongIdentity(expected: String, found: [String])
    case stopped

    public var description: String {
        switch self {
        case .wrongIdentity(let expected, let found):
            "expected \(expected), the other side identifies as \(found.joined(separator: ", "))"
        case .stopped:
            "the server stopped while the connection was being made"
        }
    }
}
