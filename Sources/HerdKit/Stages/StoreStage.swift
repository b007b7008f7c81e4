/// Keeps the update if it is still the newest for its client when written (another connection may
/// have stored a newer one since dedupe looked). The reply then confirms the stored update, so the server
/// holds it until the update is durable.
public struct StoreStage: MessageHandler {
    public init() {}

    public func handle(
        _ envelope: Envelope, context: HandlerContext, next: (Envelope, HandlerContext) async throws -> Reply?
    ) async throws -> Reply? {
        guard let update = envelope.update, envelope.freshness != .stale else {
            return try await next(envelope, context)
        }
        var envelope = envelope
        envelope.sequence = context.store.store(update, from: envelope.origin.peerName)
        envelope.stored = envelope.sequence != nil
        if !envelope.stored {
            envelope.freshness = .stale
            if case .peer = envelope.origin { return nil }
        }
        guard var reply = try await next(envelope, context) else { return nil }
        reply.confirms = envelope.sequence
        return reply
    }
}
