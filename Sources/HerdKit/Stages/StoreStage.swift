/// Keeps the update if it is still the newest for its client when written (another connection may
/// have stored a newer one since dedupe looked).
public struct StoreStage: MessageHandler {
    public init() {}

    public func handle(
        _ envelope: Envelope, context: HandlerContext, next: (Envelope, HandlerContext) async throws -> Reply?
    ) async throws -> Reply? {
        guard let update = envelope.update, envelope.freshness != .stale else {
            return try await next(envelope, context)
        }
        var envelope = envelope
        envelope.stored = context.store.storeIfNewer(update)
        if !envelope.stored {
            envelope.freshness = .stale
            if case .peer = envelope.origin { return nil }
        }
        return try await next(envelope, context)
    }
}
