import NIOCore

/// The rest of the pipeline after a stage.
public struct Next: Sendable {
    let runner: PipelineRunner
    let index: Int

    /// Runs the rest of the pipeline on `envelope` now (on the event loop, where a stage's `handle` runs).
    public func callAsFunction(_ envelope: consuming Envelope) -> Response {
        runner.run(from: index, envelope)
    }

    /// From inside ``Response/suspending(on:_:)``: runs the rest of the pipeline on the server's event loop
    /// and waits for its reply.
    public func resume(_ envelope: Envelope) async throws -> Reply? {
        let next = self
        let eventLoop = runner.context.eventLoop
        return try await eventLoop.flatSubmit {
            switch next(envelope).storage {
            case .now(let reply): eventLoop.makeSucceededFuture(reply)
            case .later(let future): future
            }
        }.get()
    }
}

/// A pipeline bound to the context it runs in: what every ``Next`` of a server points at, so passing a line
/// from stage to stage costs one reference.
final class PipelineRunner: Sendable {
    let stages: [any MessageHandler]
    let context: NIOLoopBound<HandlerContext>

    /// Call on `context`'s event loop.
    init(stages: [any MessageHandler], context: HandlerContext) {
        self.stages = stages
        self.context = NIOLoopBound(context, eventLoop: context.eventLoop)
    }

    func run(from index: Int, _ envelope: consuming Envelope) -> Response {
        guard index < stages.count else { return .none }
        return stages[index].handle(envelope, context: context.value, next: Next(runner: self, index: index + 1))
    }
}
