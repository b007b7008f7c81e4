import HerdKit
import NIOCore

/// A listener on any transport that records every line it is sent and answers nothing: an impostor where
/// a neighbour should be, or a sink a test checks was never written to.
public final class LineRecorder: Sendable {
    public let endpoint: Endpoint
    /// What the transport said about each connection it handed over.
    public let peers: Recorded<ConnectionPeer>
    /// Every line received, on any connection, in order of arrival.
    public let lines: Recorded<String>
    /// Connections handed over that have since closed: everything sent on them has been recorded.
    public let closed: Recorded<ConnectionPeer>
    private let listener: any Channel

    private init(
        endpoint: Endpoint, listener: any Channel, peers: Recorded<ConnectionPeer>, lines: Recorded<String>,
        closed: Recorded<ConnectionPeer>
    ) {
        self.endpoint = endpoint
        self.listener = listener
        self.peers = peers
        self.lines = lines
        self.closed = closed
    }

    public static func listen(on transport: any Transport) async throws -> LineRecorder {
        let peers = Recorded<ConnectionPeer>()
        let lines = Recorded<String>()
        let closed = Recorded<ConnectionPeer>()
        let setup = ConnectionSetup { channel, peer in
            peers.append(peer)
            try channel.pipeline.syncOperations.addHandler(Recorder(lines: lines))
            channel.closeFuture.whenComplete { _ in closed.append(peer) }
        }
        let listener = try await transport.listen(
            on: Endpoint(host: "127.0.0.1", port: 0), eventLoop: transport.eventLoopGroup.next(), setup: setup
        ).get()
        return LineRecorder(
            endpoint: Endpoint(listener.localAddress!)!, listener: listener, peers: peers, lines: lines, closed: closed)
    }

    public func stop() async {
        try? await listener.close()
    }

    private final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let lines: Recorded<String>
        private var pending: [UInt8] = []

        init(lines: Recorded<String>) {
            self.lines = lines
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += Self.unwrapInboundIn(data).readableBytesView
            while let end = pending.firstIndex(of: 0x0A) {
                lines.append(String(decoding: pending[..<end], as: UTF8.self))
                pending.removeSubrange(...end)
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            // The other side is done sending: nothing more to record.
            if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
            context.fireUserInboundEventTriggered(event)
        }
    }
}
