import HerdKit
import NIOCore
import NIOEmbedded

/// A ``Transport`` over the ``SimulatedNetwork`` for one host: what a server's TCP transport does, with no
/// socket, so the server above it runs exactly as it would over TCP.
struct SimulatedTransport: Transport {
    let network: SimulatedNetwork
    /// The host this transport's server runs on.
    let host: String
    let kind: SimulatedNetwork.Kind

    var eventLoopGroup: any EventLoopGroup { network.loop }

    func listen(on endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup) -> EventLoopFuture<
        any Channel
    > {
        network.listen(on: endpoint, host: host, kind: kind, setup: setup)
    }

    func dial(_ endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup) -> EventLoopFuture<Void> {
        network.dial(from: host, to: endpoint, kind: kind, setup: setup)
    }
}

/// The wall clock of a simulation: a fixed start plus the loop's simulated time.
struct SimulatedClock: WallClock {
    let network: SimulatedNetwork
    let start: WallTime

    func now() -> WallTime {
        let elapsed = network.loop.now.uptimeNanoseconds
        let nanoseconds = Int64(start.nanoseconds) + Int64(elapsed % 1_000_000_000)
        return WallTime(
            seconds: start.seconds + Int64(elapsed / 1_000_000_000) + nanoseconds / 1_000_000_000,
            nanoseconds: Int32(nanoseconds % 1_000_000_000))
    }
}
