import Logging

/// A server's outgoing links, one per neighbour: each dials, says hello, carries floods, and re-dials with
/// backoff when the neighbour goes away. Incoming links (the neighbours' own outgoing ones) carry the
/// neighbours' updates to us, so each direction of a link has its own connection.
public final class PeerLinks: PeerFlooding {
    struct Link: Sendable {
        let neighbour: String
        let outbox: PeerOutbox
    }

    let serverName: String
    let links: [Link]
    private let transport: any Transport
    private let directory: PeerDirectory
    private let limits: ConnectionLimits
    private let redial: HerdConfig.Redial
    private let logger: Logger

    init(
        serverName: String, neighbours: [String], transport: any Transport, directory: PeerDirectory,
        limits: ConnectionLimits, queueLength: Int, redial: HerdConfig.Redial, logger: Logger
    ) {
        self.serverName = serverName
        self.links = neighbours.map { Link(neighbour: $0, outbox: PeerOutbox(capacity: queueLength)) }
        self.transport = transport
        self.directory = directory
        self.limits = limits
        self.redial = redial
        self.logger = logger
    }

    /// Neighbours whose outgoing link is up.
    public var connectedNeighbours: [String] {
        links.filter { $0.outbox.isConnected }.map(\.neighbour)
    }

    @discardableResult
    public func flood(_ line: [UInt8], except excluded: String?) async -> [String] {
        var sent: [(Link, UInt64)] = []
        var framed = line
        framed.append(ASCII.lineFeed)
        for link in links where link.neighbour != excluded {
            if let ticket = link.outbox.enqueue(framed) {
                sent.append((link, ticket))
            } else {
                logger.debug("flood to \(link.neighbour) dropped: link down or queue full")
            }
        }
        // PROTOCOL.md section 5: flood before answering the client.
        for (link, ticket) in sent { await link.outbox.waitUntilWritten(ticket) }
        return sent.map(\.0.neighbour)
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
            initial: .milliseconds(redial.initialMilliseconds), maximum: .milliseconds(redial.maximumMilliseconds))
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
        let outbox = link.outbox
        let hello = PeerHello.line(from: serverName)
        try await connection.run { inbound, outbound in
            try await outbound.write([hello])
            outbox.connect()
            self.logger.info("peer link to \(link.neighbour) opened (\(connection.remoteDescription))")
            defer { outbox.disconnect() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while let batch = await outbox.next() {
                        // Coalesce whatever queued up into one buffer: one write for the burst.
                        try await outbound.write(batch.count == 1 ? batch : [Array(batch.joined())])
                        let dropped = outbox.takeDroppedCount()
                        if dropped > 0 {
                            self.logger.warning(
                                "flood queue to \(link.neighbour) overflowed; \(dropped) updates dropped")
                        }
                    }
                }
                // The neighbour writes only `ACK n` lines (it has stored the first n updates); end of input
                // means it went away.
                for try await event in inbound {
                    guard case .lines(let lines) = event else { continue }
                    for line in lines {
                        if let count = PeerHello.acknowledgedCount(in: line) { outbox.acknowledge(count) }
                    }
                }
                group.cancelAll()
            }
        }
        if !Task.isCancelled {
            logger.info("peer link to \(link.neighbour) dropped")
        }
    }
}

/// Why a peer link could not be used.
public enum PeerLinkError: Error, Sendable, CustomStringConvertible {
    case wrongIdentity(expected: String, found: [String])

    public var description: String {
        switch self {
        case .wrongIdentity(let expected, let found):
            "expected \(expected), the other side identifies as \(found.joined(separator: ", "))"
        }
    }
}
