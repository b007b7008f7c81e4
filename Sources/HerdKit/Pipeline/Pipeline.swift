/// The stages a line runs through, in order. Built at run time from the config's `pipeline` list.
public struct Pipeline: Sendable {
    public let stages: [any MessageHandler]

    public init(_ stages: [any MessageHandler]) {
        self.stages = stages
    }

    /// Runs `envelope` through every stage, on `context`'s event loop; a line that falls off the end gets no
    /// reply.
    public func handle(_ envelope: Envelope, context: HandlerContext) -> Response {
        PipelineRunner(stages: stages, context: context).run(from: 0, envelope)
    }
}
