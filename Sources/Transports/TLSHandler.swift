import COpenSSL
import HerdKit
import NIOCore

/// Drives one OpenSSL `SSL` through two memory BIOs: ciphertext from the channel goes into the read BIO and
/// plaintext comes out of `SSL_read`; plaintext writes go into `SSL_write` and the ciphertext OpenSSL leaves in
/// the write BIO goes to the channel. It sits right above the socket, below ``LineFramingHandler``, so TCP and
/// TLS connections differ only in this handler.
///
/// States: idle (no bytes yet) → handshaking → active → closing (close_notify sent, waiting for it to be
/// written) → closed. Writes made before the handshake finishes are held and sent right after it. The
/// handshake's outcome (the other side's verified names, or why it failed) completes ``handshakeFuture``.
///
/// Half-closure both ways: closing the output sends close_notify and then shuts the socket's output; a
/// close_notify from the other side is passed on as `ChannelEvent.inputClosed`, as TCP's end of input is.
final class TLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        case idle
        case handshaking
        case active
        case closing
        case closed
    }

    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private let role: TLSContext.Role
    private let handshakeTimeout: Duration
    private let minimumVersion: TLSConfiguration.Version
    private let handshakePromise: EventLoopPromise<PeerIdentity?>
    private(set) var state: State = .idle
    /// Plaintext written before the handshake finished, in order.
    private var heldWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    /// Promises of writes already encrypted into the write BIO, completed when their ciphertext is written.
    private var unflushedPromises: [EventLoopPromise<Void>] = []
    private var timeout: Scheduled<Void>?
    private var receivedCloseNotify = false
    private var sentCloseNotify = false
    private var sawFirstBytes = false
    /// Half-closes asked for during the handshake, done once it completes.
    private var pendingOutputClose: [EventLoopPromise<Void>?]?
    /// Why the connection failed, for writes that come after (they fail with the reason, not just "closed").
    private var failure: TLSError?
    /// After a refusal: the output is shut and input is dropped until the other side closes.
    private var lingering = false

    /// Completes when the handshake has finished (with the other side's verified names, if it showed a
    /// certificate that verified) or has failed (with a ``TLSError``).
    var handshakeFuture: EventLoopFuture<PeerIdentity?> { handshakePromise.futureResult }

    /// Takes ownership of `ssl` (it is freed with the handler).
    init(
        ssl: OpaquePointer, role: TLSContext.Role, handshakeTimeout: Duration,
        minimumVersion: TLSConfiguration.Version, eventLoop: any EventLoop
    ) {
        self.ssl = ssl
        self.role = role
        self.handshakeTimeout = handshakeTimeout
        self.minimumVersion = minimumVersion
        self.handshakePromise = eventLoop.makePromise(of: PeerIdentity?.self)
        // Two memory BIOs; SSL_set_bio hands them to the SSL, which frees them with itself.
        let readBIO = BIO_new(BIO_s_mem())!
        let writeBIO = BIO_new(BIO_s_mem())!
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        SSL_set_bio(ssl, readBIO, writeBIO)
        if role == .server { SSL_set_accept_state(ssl) } else { SSL_set_connect_state(ssl) }
    }

    deinit {
        SSL_free(ssl)
    }

    // MARK: Life cycle

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startHandshake(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
        handshakePromise.fail(TLSError.closedDuringHandshake)
        failHeldWrites(with: TLSError.closedDuringHandshake)
    }

    func channelActive(context: ChannelHandlerContext) {
        startHandshake(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if state == .idle || state == .handshaking {
            failHandshake(context: context, error: .closedDuringHandshake, sendAlert: false, close: false)
        } else if state == .active && !receivedCloseNotify {
            // The connection went (reset, or closed) without a close_notify: whatever was read may have been
            // cut short, so the side reading it gets an error rather than what looks like a clean end.
            context.fireErrorCaught(TLSError.uncleanShutdown)
        }
        state = .closed
        timeout?.cancel()
        for promise in unflushedPromises { promise.fail(ChannelError.ioOnClosedChannel) }
        unflushedPromises = []
        context.fireChannelInactive()
    }

    private func startHandshake(context: ChannelHandlerContext) {
        guard state == .idle else { return }
        state = .handshaking
        let nanoseconds =
            handshakeTimeout.components.seconds * 1_000_000_000 + handshakeTimeout.components.attoseconds
            / 1_000_000_000
        let limit = handshakeTimeout
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) {
            self.failHandshake(context: context, error: .handshakeTimedOut(limit), sendAlert: false)
        }
        // The client speaks first (ClientHello); the server waits for it.
        if role == .client { advanceHandshake(context: context) }
    }

    // MARK: Inbound: ciphertext in, plaintext out

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        if !sawFirstBytes, buffer.readableBytes > 0 {
            sawFirstBytes = true
            // Every TLS connection starts with a handshake record (content type 22). Anything else is not
            // TLS at all: refuse it without writing a byte back, since the other side could not read an alert.
            if role == .server, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), first != 22 {
                failHandshake(context: context, error: .notTLS(firstBytes: Self.preview(buffer)), sendAlert: false)
                return
            }
        }
        switch state {
        case .idle, .handshaking:
            feed(buffer)
            state = .handshaking
            advanceHandshake(context: context)
        case .active, .closing:
            // After close_notify nothing the other side sends can be authenticated: it is dropped.
            guard !receivedCloseNotify else { return }
            feed(buffer)
            readPlaintext(context: context)
        case .closed:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch state {
        case .idle, .handshaking:
            failHandshake(context: context, error: .closedDuringHandshake, sendAlert: false)
        case .active, .closing:
            // TCP's end of input. After a close_notify it changes nothing (inputClosed was passed on then);
            // without one the input may have been cut short by an attacker, so it is an error, not an end.
            if !receivedCloseNotify {
                context.fireErrorCaught(TLSError.uncleanShutdown)
                context.close(promise: nil)
            }
        case .closed:
            // The other side has read the alert and closed: nothing is left unread.
            if lingering { context.close(promise: nil) }
        }
    }

    private func feed(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                // A memory BIO takes everything it is given; the loop only guards the Int32 length.
                let chunk = min(bytes.count - offset, Int(Int32.max))
                let written = BIO_write(readBIO, bytes.baseAddress! + offset, Int32(chunk))
                if written <= 0 { break }
                offset += Int(written)
            }
        }
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            completeHandshake(context: context)
            return
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE {
            writeCiphertext(context: context)
            return
        }
        failHandshake(context: context, error: .handshakeFailed(failureReason(error)), sendAlert: true)
    }

    private func completeHandshake(context: ChannelHandlerContext) {
        timeout?.cancel()
        timeout = nil
        state = .active
        handshakePromise.succeed(TLSCertificateNames.verifiedIdentity(of: ssl))
        let held = heldWrites
        heldWrites = []
        for (buffer, promise) in held { encrypt(buffer, promise: promise, context: context) }
        writeCiphertext(context: context)
        if let promises = pendingOutputClose {
            pendingOutputClose = nil
            sendCloseNotify(context: context) {
                let closed = context.eventLoop.makePromise(of: Void.self)
                closed.futureResult.assumeIsolated().whenComplete { result in
                    for promise in promises { promise?.completeWith(result) }
                }
                context.close(mode: .output, promise: closed)
            }
        }
        // The records that finished the handshake may have carried application data too.
        readPlaintext(context: context)
    }

    /// Runs `SSL_read` until OpenSSL wants more ciphertext and passes the plaintext on as one buffer, so the
    /// lines of one read stay one batch.
    private func readPlaintext(context: ChannelHandlerContext) {
        var plaintext = context.channel.allocator.buffer(capacity: 0)
        var failure: TLSError?
        reading: while true {
            ERR_clear_error()
            var result: Int32 = 0
            plaintext.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { space in
                result = SSL_read(ssl, space.baseAddress, Int32(min(space.count, Int(Int32.max))))
                return max(0, Int(result))
            }
            if result > 0 { continue }
            let error = SSL_get_error(ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                break reading
            case SSL_ERROR_ZERO_RETURN:
                receivedCloseNotify = true
                break reading
            default:
                failure = .connectionFailed(failureReason(error))
                break reading
            }
        }
        // Reading can produce output too (alerts, key-update replies).
        writeCiphertext(context: context)
        if plaintext.readableBytes > 0 { context.fireChannelRead(Self.wrapInboundOut(plaintext)) }
        if let failure {
            state = .closed
            self.failure = failure
            context.fireErrorCaught(failure)
            context.close(promise: nil)
        } else if receivedCloseNotify {
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
    }

    // MARK: Outbound: plaintext in, ciphertext out

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = Self.unwrapOutboundIn(data)
        switch state {
        case .idle, .handshaking:
            heldWrites.append((buffer, promise))
        case .active where !sentCloseNotify:
            encrypt(buffer, promise: promise, context: context)
        case .active, .closing, .closed:
            promise?.fail(failure ?? TLSError.writeAfterClose)
        }
    }

    func flush(context: ChannelHandlerContext) {
        // Before the handshake finishes, held writes are flushed when it does.
        if state == .active || state == .closing { writeCiphertext(context: context) }
    }

    private func encrypt(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        if buffer.readableBytes > 0 {
            ERR_clear_error()
            let result = buffer.withUnsafeReadableBytes { bytes in
                SSL_write(ssl, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max))))
            }
            if result <= 0 {
                let failure = TLSError.connectionFailed(failureReason(SSL_get_error(ssl, result)))
                promise?.fail(failure)
                state = .closed
                self.failure = failure
                context.fireErrorCaught(failure)
                context.close(promise: nil)
                return
            }
        }
        if let promise { unflushedPromises.append(promise) }
    }

    /// Writes and flushes whatever OpenSSL has put in the write BIO as one buffer, completing the promises of
    /// the writes it carries; `then` runs once it has been written (or failed).
    private func writeCiphertext(context: ChannelHandlerContext, then: (() -> Void)? = nil) {
        let promises = unflushedPromises
        unflushedPromises = []
        let pending = Int(herd_BIO_pending(writeBIO))
        guard pending > 0 else {
            for promise in promises { promise.succeed() }
            then?()
            return
        }
        var ciphertext = context.channel.allocator.buffer(capacity: pending)
        ciphertext.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { space in
            Int(max(0, BIO_read(writeBIO, space.baseAddress, Int32(pending))))
        }
        if promises.isEmpty && then == nil {
            context.writeAndFlush(Self.wrapOutboundOut(ciphertext), promise: nil)
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { result in
            for promise in promises { promise.completeWith(result) }
            then?()
        }
        context.writeAndFlush(Self.wrapOutboundOut(ciphertext), promise: written)
    }

    // MARK: Closing

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch (mode, state) {
        case (.input, _):
            context.close(mode: .input, promise: promise)
        case (.output, .active) where !sentCloseNotify:
            // "No more commands": close_notify, then TCP's half-close once it is out. Reading goes on.
            sendCloseNotify(context: context) {
                context.close(mode: .output, promise: promise)
            }
        case (.all, .active):
            state = .closing
            sendCloseNotify(context: context) {
                self.state = .closed
                context.close(mode: .all, promise: promise)
            }
        case (.all, .closing):
            // Already sending close_notify; this close completes when that one does.
            if let promise { context.channel.closeFuture.cascade(to: promise) }
        case (.output, .idle), (.output, .handshaking):
            // Half-closing before the handshake is done would cut it short: do it right after instead.
            pendingOutputClose = (pendingOutputClose ?? []) + [promise]
        case (.all, .idle), (.all, .handshaking):
            failHandshake(context: context, error: .closedDuringHandshake, sendAlert: false, close: false)
            context.close(mode: .all, promise: promise)
        default:
            if mode == .all { state = .closed }
            context.close(mode: mode, promise: promise)
        }
    }

    private func sendCloseNotify(context: ChannelHandlerContext, then: @escaping () -> Void) {
        if !sentCloseNotify {
            sentCloseNotify = true
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }
        writeCiphertext(context: context, then: then)
    }

    // MARK: Failures

    private func failHandshake(
        context: ChannelHandlerContext, error: TLSError, sendAlert: Bool, close: Bool = true
    ) {
        guard state == .idle || state == .handshaking else { return }
        state = .closed
        failure = error
        timeout?.cancel()
        timeout = nil
        failHeldWrites(with: error)
        for promise in pendingOutputClose ?? [] { promise?.fail(error) }
        pendingOutputClose = nil
        guard close, sendAlert else {
            handshakePromise.fail(error)
            if close { context.close(promise: nil) }
            return
        }
        // Let the other side learn why (a protocol_version or bad_certificate alert), and only then report the
        // failure: a dialler told of it may exit at once (`herd send` does), taking the socket and the unsent
        // alert with it.
        writeCiphertext(context: context) {
            self.handshakePromise.fail(error)
            self.closeAfterAlert(context: context)
        }
    }

    /// Closes once the alert is out without losing it. The other side may still be sending (the rest of its
    /// flight, or data after a TLS 1.3 handshake it thinks done), and closing a socket with unread input makes
    /// the kernel reset the connection, which can discard the alert before it is read. So the output is shut
    /// first (the alert, then end of input), what still arrives is read and dropped, and the socket closes when
    /// the other side closes its own or after ``alertLinger``.
    private func closeAfterAlert(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        // Set first: an end of input that arrives while the output is being shut closes at once too.
        lingering = true
        let shut = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .output, promise: shut)
        shut.futureResult.assumeIsolated().whenComplete { result in
            guard case .success = result, context.channel.isActive else {
                context.close(promise: nil)
                return
            }
            context.read()
            self.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: Self.alertLinger) {
                context.close(promise: nil)
            }
        }
    }

    /// Longest a refused connection keeps reading (and dropping) what the other side still sends.
    static let alertLinger = TimeAmount.seconds(2)

    private func failHeldWrites(with error: TLSError) {
        let held = heldWrites
        heldWrites = []
        for (_, promise) in held { promise?.fail(error) }
    }

    /// OpenSSL's reason for the failed call, with the certificate verification result when that is what failed.
    private func failureReason(_ error: Int32) -> String {
        switch error {
        case SSL_ERROR_SSL:
            var reason = TLSError.drainErrorQueue()
            let verification = SSL_get_verify_result(ssl)
            if verification != X509_V_OK, reason.contains("certificate verify failed") {
                reason += " (\(String(cString: X509_verify_cert_error_string(verification))))"
            }
            if reason.contains("unsupported protocol") {
                reason += " (the other side offers only TLS versions below TLS \(minimumVersion.rawValue))"
            }
            return reason
        case SSL_ERROR_SYSCALL:
            let reason = TLSError.drainErrorQueue()
            return reason == "unknown OpenSSL error" ? "unexpected end of the connection" : reason
        default:
            return "OpenSSL error \(error): \(TLSError.drainErrorQueue())"
        }
    }

    /// The first bytes of a buffer for a log: printable ASCII as is, the rest as `\xNN`.
    static func preview(_ buffer: ByteBuffer) -> String {
        let bytes = buffer.getBytes(at: buffer.readerIndex, length: min(buffer.readableBytes, 24)) ?? []
        var text = ""
        for byte in bytes {
            if (0x20..<0x7F).contains(byte) && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "\\") {
                text.append(Character(Unicode.Scalar(byte)))
            } else {
                text += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return "'\(text)'" + (buffer.readableBytes > bytes.count ? "..." : "")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
