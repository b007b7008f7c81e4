import HerdKit
import NIOCore
import NIOPosix

/// Plain TCP on SwiftNIO. Listeners set `SO_REUSEADDR`, so a restarted server binds its ports again at once,
/// and accept half-closed input, so a last line followed by a half-close is still answered. Every accepted
/// connection lives on the listener's event loop, with the server that owns it.
public struct TCPTransport: Transport {
    public let eventLoopGroup: any EventLoopGroup

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.eventLoopGroup = group
    }

    public func listen(on endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup)
        -> EventLoopFuture<any Channel>
    {
        // The listener and its connections share `eventLoop`, so the reserve is only touched there.
        let reserves = NIOLoopBoundBox.makeEmptyBox(valueType: DescriptorReserve.self, eventLoop: eventLoop)
        return ServerBootstrap(group: eventLoop, childGroup: eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            // Out of descriptors, shed new connections with a spare one instead of spinning on accept.
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let reserve = DescriptorReserve()
                    try channel.pipeline.syncOperations.addHandler(AcceptFailureHandler(reserve: reserve))
                    reserves.value = reserve
                }
            }
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if reserves.value?.shed(channel) == true { return }
                    try Self.hand(channel, to: setup)
                }
            }
            .bind(host: endpoint.host, port: endpoint.port)
            .map { $0 as any Channel }
    }

    public func dial(_ endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup) -> EventLoopFuture<Void> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: endpoint.host, port: endpoint.port)
            .flatMapThrowing { channel in
                do {
                    try setup.ready(channel, ConnectionPeer(channel: channel))
                } catch {
                    channel.close(promise: nil)
                    throw error
                }
            }
    }

    /// Admits an accepted channel and hands it over, or closes it; for transports of your own on NIO
    /// bootstraps, in their child channel initializer.
    ///
    /// - Parameter peer: how the other side appears in logs (its socket address by default; a Unix socket
    ///   transport may name its path).
    public static func hand(_ channel: any Channel, to setup: ConnectionSetup, peer: ConnectionPeer? = nil) throws {
        guard setup.admit(channel) else {
            channel.close(promise: nil)
            return
        }
        try setup.ready(channel, peer ?? ConnectionPeer(channel: channel))
    }
}

extension TCPTransport {
    /// Registers `tcp` for both endpoint kinds. It takes no options.
    public static func register(in registry: inout HerdRegistry) {
        registry.registerTransport("tcp") { context, _ in
            try context.options.allowOnly([])
            return TCPTransport()
        }
    }
}
