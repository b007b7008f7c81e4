import NIOCore

/// Drives an ``OutboundLink`` over a dialled connection: says hello, resumes the feed where the neighbour's
/// cursor stands, sends new changes whenever the server's pass asks (one write per batch, recorded before
/// it is written), and hands acknowledgements to ``PeerLinks``.
final class OutboundLinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private(set) var link: OutboundLink
    let remote: String
    private let links: PeerLinks
    private var framer = LineFramer(maximumLineBytes: 4096)
    private var context: ChannelHandlerContext?
    private var saidHello = false
    /// Acknowledged lines already added to the metrics.
    private var countedAcknowledged: UInt64 = 0

    init(neighbour: String, remote: String, links: PeerLinks) {
        self.link = OutboundLink(neighbour: neighbour, serverName: links.serverName, keys: links.settings.peerKeys)
        self.remote = remote
        self.links = links
    }

    var neighbour: String { link.neighbour }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { sayHello(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sayHello(context: context)
        context.fireChannelActive()
    }

    private func sayHello(context: ChannelHandlerContext) {
        guard !saidHello else { return }
        saidHello = true
        send(link.hello(), context: context)
    }

    private func send(_ message: PeerMessage, context: ChannelHandlerContext) {
        context.writeAndFlush(
            Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: message.line)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(Self.unwrapInboundIn(data))
        while let framed = framer.next() {
            guard case .line(let line) = framed else {
                fail("\(neighbour) sent an overlong line", context: context)
                return
            }
            switch link.receive(PeerMessage.parse(line)) {
            case .none:
                break
            case .send(let message):
                send(message, context: context)
            case .resume(let epoch):
                let start = links.resumePoint(for: neighbour, epoch: epoch)
                link.start(at: start)
                countedAcknowledged = 0
                links.linkEstablished(self, from: start)
                pump()
            case .acknowledged(let through):
                let before = countedAcknowledged
                countedAcknowledged = link.acknowledgedLines
                links.counters.acknowledged(countedAcknowledged - before, by: neighbour)
                links.acknowledged(self, through: through)
            case .fail(let reason):
                fail(reason, context: context)
                return
            }
        }
        framer.compact()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The neighbour closed its side (it stopped): the link is down.
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pump() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        link.close()
        self.context = nil
        links.linkClosed(self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("\(error)", context: context)
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) {
        links.logger.warning("peer link to \(neighbour) (\(remote)) failed: \(reason); closing")
        context.close(promise: nil)
    }

    /// The id the store's records carry when they came from this neighbour (their floods skip it).
    private lazy var neighbourOrigin = (links.store as? FloodSource)?.originID(for: neighbour)

    /// Sends what the store holds beyond what was sent, a batch at a time, while the neighbour reads; a
    /// neighbour that stops reading costs one batch, since the store is the queue.
    ///
    /// - Parameter fresh: the records stored in this pass, in order; when the link is caught up they are
    ///   exactly what comes next, and are sent without reading the store.
    func pump(fresh: [StoredRecord] = []) {
        guard let context, link.isStreaming, context.channel.isWritable else { return }
        let store = links.store
        var wrote = false
        if let first = fresh.first, first.sequence == link.sent + 1 {
            var start = 0
            while start < fresh.count, context.channel.isWritable {
                let end = min(fresh.count, start + links.settings.peerBatchLines)
                var buffer = context.channel.allocator.buffer(capacity: (end - start) * 100)
                var lines: UInt64 = 0
                for record in fresh[start..<end] where record.origin != neighbourOrigin {
                    buffer.writeBytes(record.line)
                    buffer.writeInteger(ASCII.lineFeed)
                    lines += 1
                }
                if let through = link.willWrite(lines: lines, through: fresh[end - 1].sequence) {
                    links.acknowledged(self, through: through)
                }
                if lines > 0 {
                    context.write(Self.wrapOutboundOut(buffer), promise: nil)
                    links.counters.sent(lines, to: neighbour)
                    wrote = true
                }
                start = end
            }
        }
        while link.sent < store.latestSequence, context.channel.isWritable {
            let changes = store.changes(after: link.sent, limit: links.settings.peerBatchLines)
            guard let last = changes.last else { break }
            var buffer = context.channel.allocator.buffer(capacity: changes.count * 100)
            var lines: UInt64 = 0
            for change in changes where change.origin != neighbour {
                buffer.writeBytes(change.line)
                buffer.writeInteger(ASCII.lineFeed)
                lines += 1
            }
            if let through = link.willWrite(lines: lines, through: last.sequence) {
                links.acknowledged(self, through: through)
            }
            if lines > 0 {
                context.write(Self.wrapOutboundOut(buffer), promise: nil)
                links.counters.sent(lines, to: neighbour)
                wrote = true
            }
        }
        if wrote { context.flush() }
    }

    /// Stops replies waiting for this neighbour until it catches up; true if it was not lagging already.
    func markLagging() -> Bool { link.markLagging() }

    /// Closes the link; completes once it is closed.
    func close() -> EventLoopFuture<Void> {
        guard let context else { return links.eventLoop.makeSucceededVoidFuture() }
        let closed = context.channel.closeFuture
        context.close(promise: nil)
        return closed
    }
}
