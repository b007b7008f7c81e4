import NIOCore

/// Drives one connection: keeps `window` commands in flight, sends the next as each reply arrives, and
/// times every command from its write to the end of its reply. Runs entirely on the channel's event loop.
final class PipelinedLoadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How a reply ends: IAMAT replies are one line; WHATSAT replies end with an empty line.
    enum ReplyEnd {
        case line
        case emptyLine
    }

    private let total: Int
    private let window: Int
    private let command: (Int) -> String
    private let replyEnd: ReplyEnd
    private let done: EventLoopPromise<LatencyStats>
    private var stats = LatencyStats()
    private var sendTimes: [UInt64]
    private var sent = 0
    private var received = 0
    private var previousWasLineFeed = false

    init(
        total: Int, window: Int, replyEnd: ReplyEnd, done: EventLoopPromise<LatencyStats>,
        command: @escaping (Int) -> String
    ) {
        self.total = total
        self.window = max(1, window)
        self.replyEnd = replyEnd
        self.done = done
        self.command = command
        self.sendTimes = Array(repeating: 0, count: total)
    }

    func channelActive(context: ChannelHandlerContext) {
        sendMore(context: context)
        context.fireChannelActive()
    }

    private func sendMore(context: ChannelHandlerContext) {
        guard sent < total, sent - received < window else { return }
        var buffer = context.channel.allocator.buffer(capacity: 96 * (window - (sent - received)))
        let now = MonotonicClock.nanoseconds()
        while sent < total, sent - received < window {
            buffer.writeString(command(sent))
            buffer.writeInteger(UInt8(ascii: "\n"))
            sendTimes[sent] = now
            sent += 1
        }
        context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        let now = MonotonicClock.nanoseconds()
        buffer.withUnsafeReadableBytes { bytes in
            for byte in bytes {
                let isLineFeed = byte == 0x0A
                defer { previousWasLineFeed = isLineFeed }
                guard isLineFeed else { continue }
                if replyEnd == .line || previousWasLineFeed {
                    stats.record(nanoseconds: now &- sendTimes[received])
                    received += 1
                }
            }
        }
        if received >= total {
            done.succeed(stats)
            context.close(promise: nil)
        } else {
            sendMore(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(BenchError("connection closed after \(received) of \(total) replies"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.close(promise: nil)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
