import CoreMetrics
import NIOCore

/// The metrics a server keeps on its event loop, counted per pass rather than per line: lines and replies
/// are tallied in plain integers while a pass runs and added to the counters when it is committed, so the
/// hot path pays an array increment, not an atomic one. Gauges (clients, links, connections) are read when
/// `/metrics` is scraped.
final class ServerCounters {
    let metrics: ServerMetrics
    private let lines: [Counter]
    /// By line kind; peers' AT lines get no reply.
    private let replies: [Counter?]
    private var pendingLines = [Int](repeating: 0, count: LineKind.allCases.count)
    private var pendingReplies = [Int](repeating: 0, count: LineKind.allCases.count)
    private var anyPending = false
    private let journalBytes: Counter
    private var journalBytesSeen: UInt64 = 0
    let replyLatency: CoreMetrics.Timer
    let fsyncLatency: CoreMetrics.Timer
    private let clients: Gauge
    private var connectionsOpen: [String: Gauge] = [:]
    private var connectionsRefused: [String: Counter] = [:]
    private var neighbours: [String: NeighbourMetrics] = [:]
    private var cacheSeen = (hits: 0, misses: 0)
    private let cacheHits: Counter
    private let cacheMisses: Counter

    struct NeighbourMetrics {
        let up: Gauge
        let sent: Counter
        let acknowledged: Counter
        let lag: Gauge
        let redials: Counter
    }

    init(metrics: ServerMetrics, neighbours names: [String]) {
        self.metrics = metrics
        lines = LineKind.allCases.map { metrics.counter("herd_lines_total", [("kind", $0.label)]) }
        replies = LineKind.allCases.map { kind in
            kind == .at ? nil : metrics.counter("herd_replies_total", [("kind", kind.label)])
        }
        journalBytes = metrics.counter("herd_journal_bytes_total")
        replyLatency = metrics.timer("herd_reply_latency_seconds")
        fsyncLatency = metrics.timer("herd_journal_fsync_seconds")
        clients = metrics.gauge("herd_clients")
        cacheHits = metrics.counter("herd_provider_cache_hits_total")
        cacheMisses = metrics.counter("herd_provider_cache_misses_total")
        for endpoint in ["clients", "peers"] {
            connectionsOpen[endpoint] = metrics.gauge("herd_connections_open", [("endpoint", endpoint)])
            connectionsRefused[endpoint] = metrics.counter("herd_connections_refused_total", [("endpoint", endpoint)])
        }
        for name in names {
            let label = [("neighbour", name)]
            neighbours[name] = NeighbourMetrics(
                up: metrics.gauge("herd_peer_link_up", label),
                sent: metrics.counter("herd_peer_updates_sent_total", label),
                acknowledged: metrics.counter("herd_peer_updates_acknowledged_total", label),
                lag: metrics.gauge("herd_peer_lag_updates", label),
                redials: metrics.counter("herd_peer_redials_total", label))
        }
    }

    // MARK: Per pass

    /// A line was handled; `reply` is what it was answered (a `? ` makes it invalid).
    func count(_ kind: LineKind, reply: Reply?) {
        let counted = reply?.isInvalid == true ? LineKind.invalid : kind
        pendingLines[counted.rawValue] += 1
        if reply != nil { pendingReplies[counted.rawValue] += 1 }
        anyPending = true
    }

    /// The pass is committed: adds its tallies, and the journal's growth, to the counters.
    func passCommitted(journalBytesWritten: UInt64) {
        if journalBytesWritten > journalBytesSeen {
            journalBytes.increment(by: Int64(journalBytesWritten - journalBytesSeen))
            journalBytesSeen = journalBytesWritten
        }
        guard anyPending else { return }
        anyPending = false
        for index in pendingLines.indices {
            if pendingLines[index] > 0 {
                lines[index].increment(by: Int64(pendingLines[index]))
                pendingLines[index] = 0
            }
            if pendingReplies[index] > 0 {
                replies[index]?.increment(by: Int64(pendingReplies[index]))
                pendingReplies[index] = 0
            }
        }
    }

    // MARK: Events

    func refused(_ endpoint: String) {
        connectionsRefused[endpoint]?.increment()
    }

    func sent(_ lines: UInt64, to neighbour: String) {
        neighbours[neighbour]?.sent.increment(by: Int64(lines))
    }

    func acknowledged(_ lines: UInt64, by neighbour: String) {
        neighbours[neighbour]?.acknowledged.increment(by: Int64(lines))
    }

    func redialled(_ neighbour: String) {
        neighbours[neighbour]?.redials.increment()
    }

    // MARK: At a scrape

    /// Sets the gauges from the server's state now.
    func refresh(
        clients count: Int, links: [PeerLinkState], openConnections: (clients: Int, peers: Int),
        cache: (any PlaceCacheReporting)?
    ) {
        clients.record(count)
        connectionsOpen["clients"]?.record(openConnections.clients)
        connectionsOpen["peers"]?.record(openConnections.peers)
        for link in links {
            neighbours[link.neighbour]?.up.record(link.isUp ? 1 : 0)
            neighbours[link.neighbour]?.lag.record(Double(link.lag))
        }
        if let cache {
            let now = cache.cacheCounts
            if now.hits > cacheSeen.hits { cacheHits.increment(by: Int64(now.hits - cacheSeen.hits)) }
            if now.misses > cacheSeen.misses { cacheMisses.increment(by: Int64(now.misses - cacheSeen.misses)) }
            cacheSeen = now
        }
    }
}
