import HerdKit
import NIOCore

/// A ``Connection`` over any NIO channel whose pipeline ends in ``LineFramingHandler``: TCP, TLS, or a
/// transport of your own on another NIO bootstrap (Unix domain sockets, say; see `Examples/CustomTransport`).
public struct NIOLineConnection: Connection {
    let channel: NIOAsyncChannel<InboundEvent, ByteBuffer>
    public let remoteDescription: String
    public let peerIdentity: PeerIdentity?

    /// Wraps a channel made by ``makeLineChannel(_:limits:)``; public so that custom NIO transports hand
    /// back the same connections as TCP and TLS.
    public init(channel: NIOAsyncChannel<InboundEvent, ByteBuffer>, peerIdentity: PeerIdentity? = nil) {
        self.channel = channel
        self.remoteDescription = channel.channel.remoteAddress.map(Self.describe) ?? "unknown"
        self.peerIdentity = peerIdentity
    }

    public func run<Result: Sendable>(
        _ body: @Sendable (_ inbound: InboundLines, _ outbound: any LineWriter) async throws -> Result
    ) async throws -> Result {
        let allocator = channel.channel.allocator
        return try await channel.executeThenClose { inbound, outbound in
            try await body(InboundLines(inbound), Writer(outbound: outbound, allocator: allocator))
        }
    }

    struct Writer: LineWriter {
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        let allocator: ByteBufferAllocator

        /// One buffer for the whole batch: one allocation, one write, one flush.
        func write(_ replies: [[UInt8]]) async throws {
            if replies.count == 1 {
                try await outbound.write(allocator.buffer(bytes: replies[0]))
            } else {
                var buffer = allocator.buffer(capacity: replies.reduce(0) { $0 + $1.count })
                for reply in replies { buffer.writeBytes(reply) }
                try await outbound.write(buffer)
            }
        }

        func finish() {
            outbound.finish()
        }
    }

    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return Endpoint(host: ip, port: port).description
    }

    /// Adds herd's idle timeout and line framing to a fresh channel and wraps it for async use. Call it in a
    /// bootstrap's channel initializer (on the channel's event loop); public so that a custom NIO transport
    /// frames lines and applies ``ConnectionLimits`` exactly as TCP does.
    public static func makeLineChannel(
        _ channel: any Channel, limits: ConnectionLimits
    ) throws -> NIOAsyncChannel<InboundEvent, ByteBuffer> {
        try addLineHandlers(to: channel, limits: limits)
        return try wrap(channel)
    }

    /// Adds the handlers every line connection needs, in order: idle timeout, then framing.
    static func addLineHandlers(to channel: any Channel, limits: ConnectionLimits) throws {
        let sync = channel.pipeline.syncOperations
        if let idle = limits.idleTimeout {
            let nanoseconds = idle.components.seconds * 1_000_000_000 + idle.components.attoseconds / 1_000_000_000
            try sync.addHandler(IdleStateHandler(allTimeout: .nanoseconds(nanoseconds)))
            try sync.addHandler(CloseWhenIdleHandler())
        }
        try sync.addHandler(
            LineFramingHandler(maximumLineBytes: limits.maximumLineBytes, echoBytes: limits.overlongEchoBytes))
    }

    static func wrap(_ channel: any Channel) throws -> NIOAsyncChannel<InboundEvent, ByteBuffer> {
        try NIOAsyncChannel(
            wrappingChannelSynchronously: channel,
            configuration: .init(
                isOutboundHalfClosureEnabled: true, inboundType: InboundEvent.self, outboundType: ByteBuffer.self))
    }
}
