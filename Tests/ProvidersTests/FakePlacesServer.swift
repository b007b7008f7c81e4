import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

/// A stand-in for Google's Places servers on 127.0.0.1 (a free port), so provider tests need no network.
///
/// It records every request (method, URI, headers, body) and answers each with the next scripted response,
/// then with `otherwise` once the script is used up. A response may come at once, after a delay, never
/// (`hang`, for timeouts), or when the test calls ``releaseHeld()``.
final class FakePlacesServer: Sendable {
    struct Header: Sendable, Hashable {
        var name: String
        var value: String
    }

    struct RecordedRequest: Sendable, Hashable {
        var method: String
        var uri: String
        var headers: [Header]
        var body: String

        /// The values of header `name` (case-insensitive), in order.
        func header(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }
    }

    struct Response: Sendable {
        enum Timing: Sendable {
            case immediately
            case after(TimeAmount)
            /// The head at once, the body after a delay (a stalled download).
            case bodyAfter(TimeAmount)
            /// Until ``FakePlacesServer/releaseHeld()``.
            case held
            /// Never: the connection stays open and silent.
            case never
        }

        var status: HTTPResponseStatus
        var body: String
        var headers: [Header]
        var timing: Timing

        static func json(_ body: String, status: HTTPResponseStatus = .ok, timing: Timing = .immediately) -> Response {
            Response(
                status: status, body: body, headers: [Header(name: "Content-Type", value: "application/json")],
                timing: timing)
        }

        static let hang = Response(status: .ok, body: "", headers: [], timing: .never)
    }

    private final class State: Sendable {
        let script: Mutex<(pending: [Response], otherwise: Response?)>
        let requests = Mutex<[RecordedRequest]>([])
        let held = Mutex<[@Sendable () -> Void]>([])
        let children = Mutex<[any Channel]>([])

        init(script: [Response], otherwise: Response?) {
            self.script = Mutex((script, otherwise))
        }

        func record(_ request: RecordedRequest) -> Response {
            requests.withLock { $0.append(request) }
            return script.withLock { script in
                if !script.pending.isEmpty { return script.pending.removeFirst() }
                return script.otherwise
                    ?? .json(#"{"error": "the fake has no scripted response left"}"#, status: .internalServerError)
            }
        }
    }

    private let state: State
    private let channel: any Channel
    let port: Int

    /// `http://127.0.0.1:PORT`, for the provider's `base_url`.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(state: State, channel: any Channel) {
        self.state = state
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    /// Starts a server answering with `script`, then with `otherwise` (or HTTP 500 when it is nil), on
    /// `port` (0 picks a free one; a given port lets a test bring a "Google" back where it was).
    static func start(
        _ script: [Response] = [], otherwise: Response? = nil, port: Int = 0
    ) async throws -> FakePlacesServer {
        let state = State(script: script, otherwise: otherwise)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                state.children.withLock { $0.append(child) }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try child.pipeline.syncOperations.addHandler(RequestHandler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        return FakePlacesServer(state: state, channel: channel)
    }

    /// Starts `body` with a server and always stops the server afterwards.
    static func with<Result>(
        _ script: [Response] = [], otherwise: Response? = nil, port: Int = 0,
        _ body: (FakePlacesServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start(script, otherwise: otherwise, port: port)
        do {
            let result = try await body(server)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    /// Every request so far, in arrival order.
    var requests: [RecordedRequest] { state.requests.withLock { $0 } }

    /// Sends every response that is being held.
    func releaseHeld() {
        let held = state.held.withLock { held in
            defer { held = [] }
            return held
        }
        for send in held { send() }
    }

    /// Closes the listening socket and every connection.
    func stop() async throws {
        try await channel.close()
        for child in state.children.withLock({ $0 }) {
            try? await child.close()
        }
    }

    private final class RequestHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let state: State
        var head: HTTPRequestHead?
        var body = ByteBuffer()

        init(state: State) {
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var chunk):
                body.writeBuffer(&chunk)
            case .end:
                guard let head else { return }
                let request = RecordedRequest(
                    method: head.method.rawValue, uri: head.uri,
                    headers: head.headers.map { Header(name: $0.name, value: $0.value) },
                    body: String(buffer: body))
                respond(with: state.record(request), context: context)
            }
        }

        private func respond(with response: Response, context: ChannelHandlerContext) {
            switch response.timing {
            case .immediately:
                write(response, context: context)
            case .after(let delay):
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: delay) {
                    bound.value.0.write(response, context: bound.value.1)
                }
            case .bodyAfter(let delay):
                writeHead(response, context: context)
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: delay) {
                    bound.value.0.writeBody(response, context: bound.value.1)
                }
            case .held:
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let eventLoop = context.eventLoop
                state.held.withLock { held in
                    held.append {
                        eventLoop.execute { bound.value.0.write(response, context: bound.value.1) }
                    }
                }
            case .never:
                break
            }
        }

        private func write(_ response: Response, context: ChannelHandlerContext) {
            writeHead(response, context: context)
            writeBody(response, context: context)
        }

        private func writeHead(_ response: Response, context: ChannelHandlerContext) {
            guard context.channel.isActive else { return }
            var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
            headers.add(name: "Content-Length", value: "\(response.body.utf8.count)")
            context.writeAndFlush(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))),
                promise: nil)
        }

        private func writeBody(_ response: Response, context: ChannelHandlerContext) {
            guard context.channel.isActive else { return }
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
