/// The stages a line runs through, in order. Built at run time from the config's `pipeline` list.
public struct Pipeline: Sendable {
    public let stages: [any MessageHandler]

    public init(_ stages: [any MessageHandler]) {
        self.stages = stages
    }

    /// Runs `envelope` through every stage; a line that falls off the end gets no reply.
    public func handle(_ envelope: Envelope, context: HandlerContext) async throws -> Reply? {
        try await run(from: 0, envelope, context)
    }

    private func run(from index: Int, _ envelope: Envelope, _ context: HandlerContext) async throws -> Reply? {
        guard index < stages.count else { return nil }
        return try await stages[index].handle(envelope, context: context) { envelope, context in
            try await run(from: index + 1, envelope, context)
        }
    }
}
