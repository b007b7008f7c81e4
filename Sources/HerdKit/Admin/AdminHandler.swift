import Foundation
import NIOCore
import NIOHTTP1

/// The admin endpoint's HTTP/1.1 requests: `GET /metrics` (Prometheus text), `/healthz` (the process is
/// up), `/readyz` (it serves: 200, or 503 with the reason), `/status` (``ServerStatus`` as JSON). Runs on the
/// server's event loop, so it reads the server's state directly, as the server's own handlers do.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: ServerCore
    private var request: HTTPRequestHead?

    init(server: ServerCore) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let answer: (HTTPResponseStatus, String, [UInt8])
        if head.method != .GET && head.method != .HEAD {
            answer = (.methodNotAllowed, "text/plain", Array("only GET\n".utf8))
        } else {
            switch path {
            case "/metrics":
                answer = (.ok, "text/plain; version=0.0.4", server.metricsExposition())
            case "/healthz":
                answer = (.ok, "text/plain", Array("ok\n".utf8))
            case "/readyz":
                if let reason = server.notReadyBecause {
                    answer = (.serviceUnavailable, "text/plain", Array("not ready: \(reason)\n".utf8))
                } else {
                    answer = (.ok, "text/plain", Array("ready\n".utf8))
                }
            case "/status":
                let encoder = JSONEncoder()
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.outputFormatting = [.sortedKeys]
                let body = (try? encoder.encode(server.status())).map { Array($0) + [ASCII.lineFeed] } ?? []
                answer = (.ok, "application/json", body)
            default:
                answer = (
                    .notFound, "text/plain", Array("no such path; try /metrics, /healthz, /readyz, /status\n".utf8)
                )
            }
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: answer.1)
        headers.add(name: "Content-Length", value: String(answer.2.count))
        let keepAlive = head.isKeepAlive
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let response = HTTPResponseHead(version: head.version, status: answer.0, headers: headers)
        context.write(Self.wrapOutboundOut(.head(response)), promise: nil)
        if head.method != .HEAD {
            context.write(
                Self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.2)))),
                promise: nil)
        }
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !keepAlive { written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
