import NIOCore

/// A server driven from its own loop's thread, for a simulator that runs many servers on one
/// `EmbeddedEventLoop` in simulated time (HerdSimulator): the start and stop ``run()`` uses, with no task
/// waiting on the loop, the store, and a crash that a real process can only suffer.
extension HerdServer {
    /// Binds the endpoints and starts the links; call it on the loop.
    package func startOnLoop() -> EventLoopFuture<BoundEndpoints> {
        let admin = adminTransport.flatMap { transport in config.adminEndpoint(of: server).map { (transport, $0) } }
        return core.value.start(
            clients: (clientTransport, server.clientBindEndpoint), peers: (peerTransport, server.peerBindEndpoint),
            advertisedHost: server.host, admin: admin, box: core)
    }

    /// Stops gracefully, as ``run()`` does when cancelled; call it on the loop.
    package func stopOnLoop() -> EventLoopFuture<Void> {
        core.value.stop()
    }

    /// Dies as a killed process does: nothing more is written, journalled or sent, and every connection is
    /// dropped. `tornFraction` of the pass being committed reaches the journal first (a crash mid-write
    /// leaves a torn tail).
    package func crashOnLoop(tornFraction: Double) {
        core.value.crash(tornFraction: tornFraction)
    }

    /// The store, read on the loop.
    package var storeOnLoop: any LocationStore { core.value.store }
}
