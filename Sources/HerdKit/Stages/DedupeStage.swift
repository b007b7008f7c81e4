/// Marks an update that is not newer than the stored record. A stale client report is still answered;
/// a stale peer update stops here, which is what ends a flood on a cyclic topology.
public struct DedupeStage: MessageHandler {
    public init() {}

    public func handle(
        _ envelope: Envelope, context: HandlerContext, next: (Envelope, HandlerContext) async throws -> Reply?
    ) async throws -> Reply? {
        guard let update = envelope.update else { return try await next(envelope, context) }
        var envelope = envelope
        if let current = context.store.storedTime(for: update.clientID), !(current < update.time) {
            envelope.freshness = .stale
            if case .peer = envelope.origin { return nil }
        } else {
            envelope.freshness = .newer
        }
        return try await next(envelope, context)
    }
}
