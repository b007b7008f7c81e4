import HerdKit
import HerdTesting
import NIOCore
import NIOPosix
import Transports

/// An upper-casing line echo server on any transport, for the transports' own tests: each line read is
/// written back upper-cased; at end of input the connection closes once the answers are out. It records
/// what the transport said about each connection it handed over.
final class EchoServer: Sendable {
    let endpoint: Endpoint
    /// What the transport said about each connection it handed over, in order.
    let peers: Recorded<ConnectionPeer>
    private let listener: any Channel

    static func start(on transport: any Transport) async throws -> EchoServer {
        let peers = Recorded<ConnectionPeer>()
        let setup = ConnectionSetup { channel, peer in
            peers.append(peer)
            try channel.pipeline.syncOperations.addHandler(UpperCaseEcho())
        }
        let listener = try await transport.listen(
            on: Endpoint(host: "127.0.0.1", port: 0), eventLoop: transport.eventLoopGroup.next(), setup: setup
        ).get()
        return EchoServer(endpoint: Endpoint(listener.localAddress!)!, listener: listener, peers: peers)
    }

    /// Runs `body` with a server on `transport`, and stops the server after it, whether it throws or not.
    static func with(_ transport: any Transport, _ body: (EchoServer) async throws -> Void) async throws {
        let server = try await start(on: transport)
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private init(endpoint: Endpoint, listener: any Channel, peers: Recorded<ConnectionPeer>) {
        self.endpoint = endpoint
        self.listener = listener
        self.peers = peers
    }

    func stop() async {
        try? await listener.close()
    }
}

/// Answers each line with itself upper-cased; closes after end of input.
private final class UpperCaseEcho: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var pending: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending += Self.unwrapInboundIn(data).readableBytesView
        var out: [UInt8] = []
        while let end = pending.firstIndex(of: 0x0A) {
            out += String(decoding: pending[..<end], as: UTF8.self).uppercased().utf8
            out.append(0x0A)
            pending.removeSubrange(...end)
        }
        if !out.isEmpty { context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(bytes: out)), promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            let last = pending.isEmpty ? [] : Array(String(decoding: pending, as: UTF8.self).uppercased().utf8) + [0x0A]
            pending = []
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(bytes: last))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }
}

extension Transport {
    /// Dials `endpoint` and returns what the transport learnt of the other side, then closes.
    func dialledPeer(_ endpoint: Endpoint) async throws -> ConnectionPeer {
        let eventLoop = eventLoopGroup.next()
        let seen = eventLoop.makePromise(of: ConnectionPeer.self)
        let setup = ConnectionSetup { channel, peer in
            seen.succeed(peer)
            channel.close(promise: nil)
        }
        dial(endpoint, eventLoop: eventLoop, setup: setup).whenFailure { seen.fail($0) }
        return try await seen.futureResult.get()
    }
}
