import HerdKit
import NIOCore

/// Splits the byte stream into lines (LF, CRLF, or end of input) and passes each read's complete lines on
/// as one batch, so the server can answer a pipelined burst with one flush.
///
/// A line longer than the limit ends the connection's input: the handler passes on an
/// ``InboundEvent/overlongLine(prefix:)`` and ignores everything after it.
final class LineFramingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = InboundEvent

    private let maximumLineBytes: Int
    private let echoBytes: Int
    private var partial: [UInt8] = []
    private var overflowed = false

    init(maximumLineBytes: Int, echoBytes: Int) {
        self.maximumLineBytes = maximumLineBytes
        self.echoBytes = echoBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !overflowed else { return }
        let buffer = Self.unwrapInboundIn(data)
        var lines: [[UInt8]] = []
        buffer.withUnsafeReadableBytes { bytes in
            var start = 0
            while let newline = bytes[start...].firstIndex(of: 0x0A) {
                if partial.isEmpty {
                    lines.append(Array(bytes[start..<newline]))
                } else {
                    partial.append(contentsOf: bytes[start..<newline])
                    lines.append(partial)
                    partial = []
                }
                start = newline + 1
                if lines[lines.count - 1].count > maximumLineBytes {
                    overflowed = true
                    return
                }
            }
            partial.append(contentsOf: bytes[start...])
            if partial.count > maximumLineBytes { overflowed = true }
        }
        if overflowed {
            let overlong = lines.last.map { $0.count > maximumLineBytes } == true ? lines.removeLast() : partial
            partial = []
            if !lines.isEmpty { context.fireChannelRead(Self.wrapInboundOut(.lines(lines))) }
            context.fireChannelRead(Self.wrapInboundOut(.overlongLine(prefix: Array(overlong.prefix(echoBytes)))))
            return
        }
        if !lines.isEmpty {
            context.fireChannelRead(Self.wrapInboundOut(.lines(lines)))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, !overflowed, !partial.isEmpty {
            // PROTOCOL.md section 1: a last line without a terminator is complete at end of input.
            let last = partial
            partial = []
            context.fireChannelRead(Self.wrapInboundOut(.lines([last])))
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Closes a connection that has been idle (no reads and no writes) for the configured time.
final class CloseWhenIdleHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
