import Logging

/// A server's outgoing links, one per neighbour. Each link dials, says hello, learns the neighbour's store
/// epoch, then sends the store's change feed from where the neighbour last acknowledged it, and re-dials
/// with backoff when the neighbour goes away. Flooding and anti-entropy are the same stream: a link that was
/// down, or fell behind, resumes from its cursor (Docs/anti-entropy.md). Incoming links (the neighbours' own
/// outgoing ones) carry the neighbours' updates to us, so each direction of a link has its own connection.
public final class PeerLinks: PeerFlooding {
    struct Link: Sendable {
        let neighbour: String
        let state: PeerLinkState
    }

    /// How links behave; from the config's `limits` and `peer_links`.
    struct Settings: Sendable {
        var redial: HerdConfig.Redial
        /// Most lines one write carries.
        var batchLines: Int
        /// How long a client reply waits for a neighbour's acknowledgement.
        var floodTimeout: Duration
        /// How long a neighbour may take to answer the hello.
        var handshakeTimeout: Duration = .seconds(10)
        /// How often a link checks the store for changes nobody announced.
        var pollInterval: Duration = .seconds(1)
    }

    let serverName: String
    let links: [Link]
    private let store: any LocationStore
    private let transport: any Transport
    private let directory: PeerDirectory
    private let limits: ConnectionLimits
    private let settings: Settings
    private let logger: Logger

    init(
        serverName: String, neighbours: [String], store: any LocationStore, transport: any Transport,
        directory: PeerDirectory, limits: ConnectionLimits, settings: Settings, logger: Logger
    ) {
        self.serverName = serverName
        self.links = neighbours.map { Link(neighbour: $0, state: PeerLinkState()) }
        self.store = store
        self.transport = transport
        self.directory = directory
        self.limits = limits
        self.settings = settings
        self.logger = logger
    }

    /// Neighbours whose outgoing link is up.
    public var connectedNeighbours: [String] {
        links.filter { $0.state.isConnected }.map(\.neighbour)
    }

    public func announce(_ sequence: UInt64) {
        for link in links { link.state.announce(sequence) }
    }

    public func waitUntilAcknowledged(_ sequence: UInt64) async {
        let waitedFor = links.filter { $0.state.isAwaited(for: sequence) }
        guard !waitedFor.isEmpty else { return }
        let timeout = settings.floodTimeout
        let allAcknowledged = await withTaskGroup(of: Bool.self) { group in
            for link in waitedFor {
                group.addTask {
                    await link.state.waitUntilAcknowledged(sequence)
                    return true
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            var remaining = waitedFor.count
            while let acknowledged = await group.next() {
                guard acknowledged else { break }
                remaining -= 1
                if remaining == 0 { break }
            }
            group.cancelAll()
            return remaining == 0
        }
        guard !allAcknowledged else { return }
        for link in waitedFor where link.state.markLagging(behind: sequence) {
            logger.warning(
                "peer \(link.neighbour) has not acknowledged an update within \(timeout); replies no longer wait for it until it catches up"
            )
        }
    }

    /// Keeps every link up until the task is cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            for link in links {
                group.addTask { await self.maintain(link) }
            }
        }
    }

    private func maintain(_ link: Link) async {
        var backoff = Backoff(
            initial: .milliseconds(settings.redial.initialMilliseconds),
            maximum: .milliseconds(settings.redial.maximumMilliseconds))
        var reportedFailure = false
        while !Task.isCancelled {
            if let endpoint = directory.endpoint(of: link.neighbour) {
                do {
                    let connection = try await transport.dial(endpoint, limits: limits)
                    reportedFailure = false
                    backoff.reset()
                    try await carry(link, over: connection, endpoint: endpoint)
                } catch {
                    if !reportedFailure && !Task.isCancelled {
                        logger.info(
                            "peer link to \(link.neighbour) at \(endpoint) failed: \(error); re-dialling with backoff")
                        reportedFailure = true
                    }
                }
            }
            try? await Task.sleep(for: backoff.nextDelay())
        }
    }

    private func carry(_ link: Link, over connection: any Connection, endpoint: Endpoint) async throws {
        if let identity = connection.peerIdentity, !identity.names.contains(link.neighbour) {
            logger.warning(
                "peer link to \(link.neighbour) at \(endpoint) refused: it identifies as \(identity.names.joined(separator: ", "))"
            )
            try await connection.run { _, _ in }
            throw PeerLinkError.wrongIdentity(expected: link.neighbour, found: identity.names)
        }
        let hello = PeerHello.line(from: serverName)
        try await connection.run { inbound, outbound in
            try await outbound.write([hello])
            defer { link.state.disconnect() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Task.sleep(for: self.settings.handshakeTimeout)
                    if !link.state.isConnected { throw PeerLinkError.noEpoch(link.neighbour) }
                }
                var neighbourEpoch: UInt64?
                // The neighbour writes `EPOCH n` once, then `ACK n` lines; end of input means it went away.
                for try await event in inbound {
                    guard case .lines(let lines) = event else { continue }
                    for line in lines {
                        if let epoch = neighbourEpoch {
                            guard let count = PeerHello.acknowledgedCount(in: line) else { continue }
                            let sequence = link.state.acknowledgeLines(count)
                            self.store.setCursor(
                                PeerCursor(neighbourEpoch: epoch, acknowledged: sequence), for: link.neighbour)
                        } else {
                            guard let epoch = PeerHello.epoch(in: line) else {
                                throw PeerLinkError.noEpoch(link.neighbour)
                            }
                            neighbourEpoch = epoch
                            let start = self.resumePoint(for: link.neighbour, epoch: epoch)
                            link.state.connect(acknowledged: start)
                            self.logger.info(
                                "peer link to \(link.neighbour) opened (\(connection.remoteDescription)); sending changes after \(start) of \(self.store.latestSequence)"
                            )
                            group.addTask { try await self.send(link, from: start, over: outbound) }
                            group.addTask { await self.poll(link) }
                        }
                    }
                }
                group.cancelAll()
            }
        }
        if !Task.isCancelled {
            logger.info("peer link to \(link.neighbour) dropped")
        }
    }

    /// Where the neighbour's copy of our feed stands: its cursor if it still has the same store, else the
    /// start (it is new, or lost its data).
    private func resumePoint(for neighbour: String, epoch: UInt64) -> UInt64 {
        guard let cursor = store.cursor(for: neighbour), cursor.neighbourEpoch == epoch else { return 0 }
        return min(cursor.acknowledged, store.latestSequence)
    }

    /// Writes the change feed to the neighbour from `start`, a batch at a time, skipping updates that came
    /// from this neighbour. Writes wait while the neighbour is not reading, so a slow peer holds no memory
    /// beyond one batch: the store is the queue.
    private func send(_ link: Link, from start: UInt64, over outbound: any LineWriter) async throws {
        var sent = start
        link.state.announce(store.latestSequence)
        while await link.state.waitForChanges(after: sent) {
            var progressed = false
            while true {
                let changes = store.changes(after: sent, limit: settings.batchLines)
                guard let last = changes.last else { break }
                progressed = true
                var buffer: [UInt8] = []
                var lines: UInt64 = 0
                for change in changes where change.origin != link.neighbour {
                    buffer.append(contentsOf: change.line)
                    buffer.append(ASCII.lineFeed)
                    lines += 1
                }
                if lines > 0 { try await outbound.write([buffer]) }
                link.state.wrote(lines: lines, through: last.sequence)
                sent = last.sequence
            }
            // Announced but not yet visible in the feed (a store still finishing): look again shortly.
            if !progressed { try await Task.sleep(for: .milliseconds(1)) }
        }
    }

    /// Announces whatever the store holds, now and then, for updates stored by a pipeline without the
    /// flood stage.
    private func poll(_ link: Link) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.pollInterval)
            link.state.announce(store.latestSequence)
        }
    }
}

/// Why a peer link could not be used.
public enum PeerLinkError: Error, Sendable, CustomStringConvertible {
    case wrongIdentity(expected: String, found: [String])
    case noEpoch(String)

    public var description: String {
        switch self {
        case .wrongIdentity(let expected, let found):
            "expected \(expected), the other side identifies as \(found.joined(separator: ", "))"
        case .noEpoch(let neighbour):
            "\(neighbour) did not answer the hello with its store epoch"
        }
    }
}
