import NIOCore

/// What a stage gives back for a line: a reply now (nearly always), or a reply that comes later, when the
/// stage had to wait for something (a place provider on the network, a user's stage that suspends).
///
/// Answering now costs no suspension and no allocation. A later answer keeps the connection's order: its
/// later lines wait until this one is answered.
public struct Response: Sendable {
    enum Storage: Sendable {
        case now(Reply?)
        case later(EventLoopFuture<Reply?>)
    }

    let storage: Storage

    /// `reply` now; nil for no reply (peer updates, blank lines).
    public static func reply(_ reply: Reply?) -> Response { Response(storage: .now(reply)) }

    /// No reply.
    public static var none: Response { Response(storage: .now(nil)) }

    /// The reply `future` will give. It must complete on the server's event loop.
    public static func later(_ future: EventLoopFuture<Reply?>) -> Response { Response(storage: .later(future)) }

    /// Runs `body` in a task and answers with what it returns: how a stage waits for something. To go on
    /// with the pipeline from inside `body`, call ``Next/resume(_:)``.
    public static func suspending(
        on eventLoop: any EventLoop, _ body: @escaping @Sendable () async throws -> Reply?
    ) -> Response {
        let promise = eventLoop.makePromise(of: Reply?.self)
        promise.completeWithTask(body)
        return .later(promise.futureResult)
    }

    /// The reply, if it is here already (nil when it comes later).
    public var immediate: Reply?? {
        if case .now(let reply) = storage { return .some(reply) }
        return nil
    }

    /// Waits for the reply (tests, tools; the server itself never waits).
    public func get() async throws -> Reply? {
        switch storage {
        case .now(let reply): reply
        case .later(let future): try await future.get()
        }
    }

    /// The same response, with its reply also held by `hold`.
    public func holding(until hold: ReplyHold?) -> Response {
        guard let hold else { return self }
        switch storage {
        case .now(let reply): return .reply(reply?.holding(until: hold))
        case .later(let future): return .later(future.map { $0?.holding(until: hold) })
        }
    }

    /// The response with its reply changed by `transform`, which runs on the event loop (now, or when the
    /// later reply arrives). Call it on the event loop.
    public func map(_ transform: @escaping (Reply?) -> Reply?) -> Response {
        switch storage {
        case .now(let reply): return .reply(transform(reply))
        case .later(let future): return .later(future.assumeIsolated().map(transform).nonisolated())
        }
    }
}
