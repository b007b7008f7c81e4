import NIOCore

/// One client connection: frames its lines, runs each through the pipeline on the event loop, and writes
/// its replies in order, each pass's replies in one write once the pass is committed.
///
/// Order is kept three ways: lines run one after another; a line whose reply comes later (a provider on the
/// network) holds back the lines after it until it is answered; and a reply never overtakes the one before
/// it. Output is bounded: when a client does not read and its unsent replies reach the limit, its later
/// lines wait and the session stops reading from it until it reads.
final class ClientSession: ChannelDuplexHandler, PassFlushing {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: ServerCore
    private let origin: Envelope.Origin
    private let logPrefix: [UInt8]
    private var framer: LineFramer
    private var replies = HeldReplies()
    private var context: ChannelHandlerContext?
    /// A line's reply is on its way from outside the loop; later lines wait for it.
    private var awaitingLater = false
    /// NIO asked for a read while lines were waiting: it is passed on when they can run.
    private var readHeldBack = false
    private var inputEnded = false
    /// The server is stopping: lines already read are answered, nothing more is read.
    private var stopping = false
    /// No more lines will be taken (an overlong line, end of input, stopping): close once replies are out.
    private var closeWhenFlushed = false
    private var flushRequested = false
    private var waitingOnHold = false
    private var closing = false
    /// Output is shut; input is read and dropped until the client closes (see ``closeAfter(_:)``).
    private var lingering = false
    private let closePromise: EventLoopPromise<Void>
    /// Last read or write, for the idle timeout.
    private(set) var lastActivity: NIODeadline
    /// Since when the client owes the rest of a line (the bytes held are an incomplete line and nothing else
    /// holds it back), for the line timeout; nil when no line is owed.
    private(set) var partialLineSince: NIODeadline?

    init(server: ServerCore, origin: Envelope.Origin) {
        self.server = server
        self.origin = origin
        self.logPrefix = TrafficLog.prefix(
            server: server.name, origin: origin, format: server.traffic.format)
        self.framer = LineFramer(
            maximumLineBytes: server.settings.maximumLineBytes, echoBytes: server.settings.overlongEchoBytes)
        self.closePromise = server.eventLoop.makePromise(of: Void.self)
        self.lastActivity = server.eventLoop.now
    }

    /// Completes once the connection has closed.
    var closeFuture: EventLoopFuture<Void> { closePromise.futureResult }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        server.register(self)
        context.channel.closeFuture.assumeIsolated().whenComplete { _ in self.closed() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if lingering { return }
        lastActivity = server.eventLoop.now
        framer.append(Self.unwrapInboundIn(data))
        process()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        framer.compact()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, lingering {
            context.close(promise: nil)
            return
        }
        if case ChannelEvent.inputClosed = event {
            inputEnded = true
            process()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { process() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        server.logger.debug("\(origin) closed: \(error)")
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if lingering || (canTakeLines && !stopping) {
            context.read()
        } else {
            readHeldBack = true
        }
    }

    private func closed() {
        closing = true
        replies.removeAll()
        server.unregister(self)
        context = nil
        closePromise.succeed()
    }

    // MARK: Lines

    /// Whether the next line may run now: nothing outstanding from outside, output within its limit, the
    /// journal writable.
    private var canTakeLines: Bool {
        guard !awaitingLater, !closing, !closeWhenFlushed, server.journalFailure == nil, let context else {
            return false
        }
        return context.channel.isWritable && replies.byteCount < server.settings.maximumUnsentBytes
    }

    /// Runs every complete line that may run now.
    private func process() {
        let receivedAt = server.now()
        var exhausted = false
        var framedAny = false
        while canTakeLines {
            guard let framed = framer.next() ?? (inputEnded && !stopping ? framer.finish() : nil) else {
                exhausted = true
                break
            }
            framedAny = true
            switch framed {
            case .line(let line):
                server.traffic.input(line, prefix: logPrefix)
                let kind = LineKind.of(line.readableBytesView)
                let response = server.runner.run(
                    from: 0, Envelope(line: line, origin: origin, receivedAt: receivedAt))
                switch response.storage {
                case .now(let reply):
                    server.counters.count(kind, reply: reply)
                    if let reply { stage(reply) }
                case .later(let future):
                    awaitingLater = true
                    future.assumeIsolated().whenComplete { result in
                        self.awaitingLater = false
                        switch result {
                        case .success(let reply):
                            self.server.counters.count(kind, reply: reply)
                            if let reply { self.stage(reply) }
                        case .failure(let error):
                            self.server.logger.error("pipeline failed on a line from \(self.origin): \(error)")
                            let reply = Reply.invalid(line.readableBytesView)
                            self.server.counters.count(kind, reply: reply)
                            self.stage(reply)
                        }
                        self.process()
                    }
                }
            case .overlong(let prefix):
                server.logger.notice(
                    "\(origin) sent a line over \(server.settings.maximumLineBytes) bytes; closing")
                let reply = Reply.invalid(prefix.readableBytesView)
                server.counters.count(.invalid, reply: reply)
                stage(reply)
                closeWhenFlushed = true
            }
        }
        if exhausted && framer.bufferedBytes > 0 && !inputEnded {
            // Only an incomplete line is left: the client owes its rest, counted from when the line before
            // it completed (or from now, if this is the first that is owed).
            if partialLineSince == nil || framedAny { partialLineSince = server.eventLoop.now }
        } else {
            partialLineSince = nil
        }
        if exhausted && !awaitingLater && (stopping || inputEnded) && !closeWhenFlushed {
            closeWhenFlushed = true
            requestFlush()
        }
        if readHeldBack && canTakeLines && !stopping, let context {
            readHeldBack = false
            context.read()
        }
    }

    /// Queues a reply behind the earlier ones; it goes out after this pass is committed.
    private func stage(_ reply: Reply) {
        server.traffic.output(reply, prefix: logPrefix)
        replies.append(
            reply, pass: server.pass, at: server.eventLoop.now,
            allocator: context?.channel.allocator ?? ByteBufferAllocator())
        requestFlush()
    }

    private func requestFlush() {
        guard !flushRequested else { return }
        flushRequested = true
        server.requestFlush(self)
    }

    // MARK: Replies

    /// The pass is committed: writes what may go, in one write.
    func flushPass() {
        flushRequested = false
        flush()
    }

    private func flush() {
        guard let context, !closing else { return }
        if let (ready, since) = replies.takeReady(committedPass: server.committedPass) {
            let now = server.eventLoop.now
            lastActivity = now
            // One observation per write: how long its oldest reply waited since its line was handled.
            server.counters.replyLatency.recordNanoseconds((now - since).nanoseconds)
            if closeWhenFlushed && replies.isEmpty && !awaitingLater {
                closeAfter(context.writeAndFlush(Self.wrapOutboundOut(ready)))
                return
            }
            context.writeAndFlush(Self.wrapOutboundOut(ready), promise: nil)
        } else if closeWhenFlushed && replies.isEmpty && !awaitingLater {
            closeAfter(context.eventLoop.makeSucceededVoidFuture())
            return
        }
        if !waitingOnHold, let hold = replies.blockingHold(committedPass: server.committedPass) {
            waitingOnHold = true
            hold.gate.whenOpen(at: hold.mark) {
                self.waitingOnHold = false
                self.flush()
            }
        }
        // Output went down: lines that waited for it may run.
        process()
    }

    /// Closes once `written` is out. A client may still be sending (pipelined lines after an overlong one,
    /// or lines a stop did not read): closing a socket with unread input makes the kernel reset the
    /// connection, and a reset throws away replies the client has not read yet. So the output is shut first
    /// (the client reads everything, then end of input), what still arrives is read and dropped, and the
    /// socket closes when the client closes its side or after ``lingerTimeout``.
    private func closeAfter(_ written: EventLoopFuture<Void>) {
        closing = true
        written.assumeIsolated().whenComplete { _ in
            guard let context = self.context else { return }
            // Everything the client sent is read already: nothing is left to cause a reset.
            if self.inputEnded {
                context.close(promise: nil)
                return
            }
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.close(mode: .output, promise: promise)
            promise.futureResult.assumeIsolated().whenComplete { result in
                guard case .success = result, self.context != nil else {
                    self.context?.close(promise: nil)
                    return
                }
                self.lingering = true
                context.read()
                context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerTimeout) {
                    self.context?.close(promise: nil)
                }
            }
        }
    }

    /// Longest a closing connection keeps reading (and dropping) what the client still sends.
    static let lingerTimeout = TimeAmount.seconds(2)

    // MARK: Server control

    /// Lines may run again (the journal can be written again).
    func resume() {
        process()
    }

    /// Idle for longer than the limit.
    func closeIdle() {
        server.logger.info("\(origin) idle for \(server.settings.idleTimeout.map { "\($0)" } ?? "ever"); closing")
        context?.close(promise: nil)
    }

    /// The client started a line and did not finish it within the limit (one byte now and then keeps the
    /// idle timer going, so this is what stops a slowloris).
    func closeIncompleteLine() {
        let limit = server.settings.lineTimeout.map { "\($0)" } ?? "ever"
        server.logger.notice("\(origin) sent no complete line within \(limit); closing")
        context?.close(promise: nil)
    }

    /// A graceful stop: take no more lines, answer those already read, then close.
    func finish() {
        stopping = true
        process()
    }

    func closeNow() {
        context?.close(promise: nil)
    }
}
