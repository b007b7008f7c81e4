import HerdKit
import NIOCore
import NIOPosix

/// Plain TCP on SwiftNIO. Listeners set `SO_REUSEADDR`, so a restarted server binds its ports again at once,
/// and accept half-closed input, so a last line followed by a half-close is still answered.
public struct TCPTransport: Transport {
    let group: any EventLoopGroup

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    public func listen(on endpoint: Endpoint, limits: ConnectionLimits) async throws -> any Listener {
        let accepted = AcceptedChannels()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: endpoint.host, port: endpoint.port) { child in
                child.eventLoop.makeCompletedFuture {
                    accepted.track(try NIOLineConnection.makeLineChannel(child, limits: limits))
                }
            }
        let port = channel.channel.localAddress?.port ?? endpoint.port
        return NIOLineListener(
            channel: channel, localEndpoint: Endpoint(host: endpoint.host, port: port), accepted: accepted)
    }

    public func dial(_ endpoint: Endpoint, limits: ConnectionLimits) async throws -> any Connection {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOLineConnection.makeLineChannel(channel, limits: limits) }
            }
        return NIOLineConnection(channel: channel)
    }
}

/// A listening NIO channel whose children are line channels; shared by TCP, TLS and custom NIO transports.
///
/// Public so that a transport of your own on another NIO bootstrap gets the same careful shutdown: when the
/// task running it is cancelled, it closes the listening socket and every connection it accepted.
public struct NIOLineListener<Child: Sendable>: Listener {
    let channel: NIOAsyncChannel<Child, Never>
    public let localEndpoint: Endpoint
    let accepted: AcceptedChannels?
    let makeConnection: @Sendable (Child) async -> (any Connection)?

    /// A listener whose children need more than wrapping (TLS waits for the handshake); `makeConnection`
    /// returns nil for a child to drop.
    ///
    /// - Parameter accepted: where the child initializer tracked the channels it wrapped (see
    ///   ``AcceptedChannels``); `makeConnection` hands each over.
    public init(
        channel: NIOAsyncChannel<Child, Never>, localEndpoint: Endpoint, accepted: AcceptedChannels? = nil,
        makeConnection: @escaping @Sendable (Child) async -> (any Connection)?
    ) {
        self.channel = channel
        self.localEndpoint = localEndpoint
        self.accepted = accepted
        self.makeConnection = makeConnection
    }

    public func run(_ handler: @escaping @Sendable (any Connection) async -> Void) async throws {
        // Cancelling the task must not just stop reading: connections already accepted but not yet read
        // would be dropped unclosed (NIO traps on that). So on cancellation close the listening socket,
        // drain what it accepted in a task that is not itself cancelled, and cancel the connections' tasks,
        // which then close each connection properly.
        let channel = self.channel
        let makeConnection = self.makeConnection
        let accepted = self.accepted
        let accepting = Task {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await child in inbound {
                        group.addTask {
                            if let connection = await makeConnection(child) { await handler(connection) }
                        }
                    }
                }
                await accepted?.closeRemaining()
                group.cancelAll()
            }
        }
        try await withTaskCancellationHandler {
            try await accepting.value
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }

    public func close() async {
        try? await channel.channel.close()
    }
}

extension NIOLineListener where Child == NIOAsyncChannel<InboundEvent, ByteBuffer> {
    /// A listener whose children were made by ``NIOLineConnection/makeLineChannel(_:limits:)``.
    public init(channel: NIOAsyncChannel<Child, Never>, localEndpoint: Endpoint, accepted: AcceptedChannels? = nil) {
        self.init(channel: channel, localEndpoint: localEndpoint, accepted: accepted) { child in
            accepted?.handOver(child)
            return NIOLineConnection(channel: child)
        }
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
