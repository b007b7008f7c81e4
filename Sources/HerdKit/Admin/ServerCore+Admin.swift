import NIOCore

extension ServerCore {
    /// Why the server is not ready to serve, or nil when it is: it listens (its journal was replayed
    /// before that), it is not stopping, and it has a link to or from a neighbour if it has neighbours.
    var notReadyBecause: String? {
        if isStopping { return "stopping" }
        if startedAt == nil { return "not listening yet" }
        if !peers.neighbours.isEmpty && peers.connectedNeighbours.isEmpty && peers.inbound.isEmpty {
            return "no neighbour linked (of \(peers.neighbours.joined(separator: ", ")))"
        }
        return nil
    }

    /// The metrics in Prometheus text, with the gauges read now.
    func metricsExposition() -> [UInt8] {
        counters.refresh(
            clients: store.count, links: peers.linkStates, openConnections: openConnections,
            cache: context.provider.cacheReporting)
        return counters.metrics.exposition()
    }

    func status() -> ServerStatus {
        let uptime = startedAt.map { Double((eventLoop.now - $0).nanoseconds) / 1e9 } ?? 0
        let open = openConnections
        return ServerStatus(
            server: name, ready: notReadyBecause == nil, notReadyBecause: notReadyBecause, clients: store.count,
            updatesPerSecond: (updatesPerSecond * 10).rounded() / 10, clientConnections: open.clients,
            peerConnections: open.peers, uptimeSeconds: uptime.rounded(),
            links: peers.linkStates.map { link in
                ServerStatus.Link(
                    neighbour: link.neighbour, up: link.isUp, lag: link.lag, lagging: link.isLagging,
                    inbound: peers.inbound[link.neighbour] != nil)
            })
    }
}

extension PlaceProvider {
    /// The cache inside this provider whose hits and misses the metrics report, if any.
    var cacheReporting: (any PlaceCacheReporting)? {
        if let metered = self as? MeteredPlaceProvider { return metered.upstream.cacheReporting }
        return self as? any PlaceCacheReporting
    }
}
