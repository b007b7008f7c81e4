import HerdKit
import NIOCore
import NIOPosix

/// A TCP forwarder that delays every byte by a fixed time each way, keeping order: it gives real processes on
/// one machine the link latency a simulated herd has, so the two can be compared (`herd simulate validate`).
/// The kernel has no netem here; this is the fault-proxy way of adding delay.
final class DelayProxy: Sendable {
    private let listener: any Channel

    /// Listens on `listen` and forwards each connection to `target`, `delay` later each way.
    init(listen: Endpoint, target: Endpoint, delay: TimeAmount, group: any EventLoopGroup) async throws {
        listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { inbound in
                inbound.eventLoop.makeCompletedFuture {
                    let toTarget = DelayedForwarder(delay: delay)
                    let toClient = DelayedForwarder(delay: delay)
                    try inbound.pipeline.syncOperations.addHandler(toTarget)
                    // The outgoing connection lives on the incoming one's loop, so both halves share it.
                    let toClientBox = NIOLoopBound(toClient, eventLoop: inbound.eventLoop)
                    ClientBootstrap(group: inbound.eventLoop)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .channelInitializer { outbound in
                            outbound.eventLoop.makeCompletedFuture {
                                try outbound.pipeline.syncOperations.addHandler(toClientBox.value)
                            }
                        }
                        .connect(host: target.host, port: target.port)
                        .assumeIsolated()
                        .whenComplete { result in
                            switch result {
                            case .success(let outbound):
                                toTarget.connected(to: outbound)
                                toClient.connected(to: inbound)
                            case .failure:
                                inbound.close(promise: nil)
                            }
                        }
                }
            }
            .bind(host: listen.host, port: listen.port).get()
    }

    func close() async {
        try? await listener.close()
    }
}

/// One direction of a proxied connection: what it reads goes out on the other connection `delay` later, in
/// order; its close follows the data.
private final class DelayedForwarder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let delay: TimeAmount
    private var other: (any Channel)?
    private var waiting: [ByteBuffer] = []
    private var closeWaiting = false
    private var last = NIODeadline.uptimeNanoseconds(0)

    init(delay: TimeAmount) {
        self.delay = delay
    }

    func connected(to channel: any Channel) {
        other = channel
        for bytes in waiting { channel.write(bytes, promise: nil) }
        channel.flush()
        waiting = []
        if closeWaiting { channel.close(promise: nil) }
    }

    private func later(_ context: ChannelHandlerContext, _ body: @escaping () -> Void) {
        let at = max(NIODeadline.now() + delay, last)
        last = at
        context.eventLoop.assumeIsolated().scheduleTask(deadline: at, body)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        later(context) {
            if let other = self.other { other.writeAndFlush(bytes, promise: nil) } else { self.waiting.append(bytes) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        later(context) {
            if let other = self.other { other.close(promise: nil) } else { self.closeWaiting = true }
        }
        context.fireChannelInactive()
    }
}
