import NIOCore

/// Drives an ``InboundLink`` over an accepted peer connection: checks the hello, answers with the store's
/// epoch, runs every AT line through the pipeline, and acknowledges them once the pass that stored them is
/// committed (so the neighbour answers its client only after this server has the update on disk).
final class InboundLinkHandler: ChannelDuplexHandler, PassFlushing {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var link: InboundLink
    private let server: ServerCore
    let peer: ConnectionPeer
    private var framer: LineFramer
    private var context: ChannelHandlerContext?
    private var logPrefix: [UInt8] = []
    private var awaitingLater = false
    private var readHeldBack = false
    private var flushRequested = false
    private var inputEnded = false

    init(server: ServerCore, peer: ConnectionPeer) {
        self.server = server
        self.peer = peer
        self.framer = LineFramer(maximumLineBytes: server.settings.maximumLineBytes)
        self.link = InboundLink(serverName: server.name, keys: server.settings.peerKeys)
    }

    var neighbour: String? { link.neighbour }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(Self.unwrapInboundIn(data))
        process()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        framer.compact()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The neighbour closed its side: what it sent is processed (and acknowledged at the end of this pass);
        // the link closes after that.
        if case ChannelEvent.inputClosed = event {
            inputEnded = true
            process()
            requestFlush()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if canTakeLines { context.read() } else { readHeldBack = true }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let neighbour = link.neighbour {
            server.peers.inboundClosed(neighbour, self)
            if !server.isStopping { server.logger.info("peer link from \(neighbour) dropped") }
        }
        link.close()
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        server.logger.debug("peer connection \(peer.remoteDescription) ended: \(error)")
        context.close(promise: nil)
    }

    private var canTakeLines: Bool {
        !awaitingLater && server.journalFailure == nil && context != nil
    }

    private func process() {
        guard let context else { return }
        let receivedAt = server.now()
        var processedAny = false
        while canTakeLines, let framed = framer.next() {
            guard case .line(let line) = framed else {
                server.logger.warning(
                    "peer link from \(link.neighbour ?? peer.remoteDescription) sent an overlong line; closing")
                context.close(promise: nil)
                return
            }
            guard let neighbour = link.neighbour else {
                guard handshake(line, context: context) else { return }
                continue
            }
            server.traffic.input(line, prefix: logPrefix)
            let response = server.runner.run(
                from: 0, Envelope(line: line, origin: .peer(neighbour), receivedAt: receivedAt))
            if case .later(let future) = response.storage {
                awaitingLater = true
                future.assumeIsolated().whenComplete { result in
                    if case .failure(let error) = result {
                        self.server.logger.error("pipeline failed on a line from peer \(neighbour): \(error)")
                    }
                    self.awaitingLater = false
                    self.link.processedLine()
                    self.requestFlush()
                    self.process()
                }
                break
            }
            link.processedLine()
            server.counters.count(.at, reply: nil)
            processedAny = true
        }
        if processedAny { requestFlush() }
        if readHeldBack && canTakeLines {
            readHeldBack = false
            context.read()
        }
    }

    /// Takes a handshake line (the hello, or the proof); false if the link was refused (and is closing).
    private func handshake(_ line: ByteBuffer, context: ChannelHandlerContext) -> Bool {
        let outcome = link.receive(PeerMessage.parse(line), epoch: server.store.epoch) { name in
            server.peers.refusal(ofInbound: name, identity: peer.identity)
        }
        switch outcome {
        case .challenge(let message):
            send(message, context: context)
            return true
        case .accept(let neighbour, let reply):
            logPrefix = TrafficLog.prefix(
                server: server.name, origin: .peer(neighbour), format: server.traffic.format)
            server.peers.inboundLinked(neighbour, self)
            server.peerHandshakeCompleted(context.channel)
            server.logger.info("peer link from \(neighbour) opened (\(peer.remoteDescription))")
            send(reply, context: context)
            return true
        case .refuse(let reason):
            server.logger.warning(
                "peer link from \(peer.remoteDescription)\(link.claimed.map { " claiming \($0)" } ?? "") refused: \(reason)"
            )
            context.close(promise: nil)
            return false
        }
    }

    private func send(_ message: PeerMessage, context: ChannelHandlerContext) {
        context.writeAndFlush(
            Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: message.line)), promise: nil)
    }

    private func requestFlush() {
        guard !flushRequested else { return }
        flushRequested = true
        server.requestFlush(self)
    }

    /// The pass is committed: the updates processed so far are journalled, so acknowledge them.
    func flushPass() {
        flushRequested = false
        guard let context else { return }
        if let count = link.acknowledgementDue() {
            let ack = PeerMessage.acknowledged(lines: count).line
            context.writeAndFlush(Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: ack)), promise: nil)
        }
        if inputEnded && !awaitingLater { context.close(promise: nil) }
    }

    /// Repeats the last acknowledgement: harmless on a live link, and on a connection whose other end is
    /// gone it draws the reset that closes it.
    func probe() {
        guard let context, link.neighbour != nil else { return }
        let ack = PeerMessage.acknowledged(lines: link.lastAcknowledged).line
        context.writeAndFlush(Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: ack)), promise: nil)
    }

    /// Lines may run again (the journal can be written again).
    func resume() {
        process()
    }

    /// Closes the link; completes once it is closed.
    func close() -> EventLoopFuture<Void> {
        guard let context else { return server.eventLoop.makeSucceededVoidFuture() }
        let closed = context.channel.closeFuture
        context.close(promise: nil)
        return closed
    }
}
