/// Keeps the update if it still supersedes the stored record (a stage before may have stored another).
/// What is stored is written to the journal before this pass's replies go out, so a client is never told
/// of an update a restart would lose.
public struct StoreStage: MessageHandler {
    public init() {}

    public func handle(_ envelope: consuming Envelope, context: HandlerContext, next: Next) -> Response {
        guard let update = envelope.update, envelope.freshness != .stale else { return next(envelope) }
        if context.store.count >= context.rules.maximumClients, context.store.record(for: update.clientID) == nil {
            return refuseNewClient(envelope, context: context)
        }
        envelope.sequence = context.store.store(update, from: envelope.origin.peerName)
        envelope.stored = envelope.sequence != nil
        if !envelope.stored {
            envelope.freshness = .stale
            if case .peer = envelope.origin { return .none }
        }
        return next(envelope)
    }

    /// The store is full: known clients still update, a new one is told `? ` (a peer's is dropped, logged).
    private func refuseNewClient(_ envelope: Envelope, context: HandlerContext) -> Response {
        let limit = context.rules.maximumClients
        if case .peer = envelope.origin {
            context.logger.warning("dropped an update from \(envelope.origin): the store is full (\(limit) clients)")
            return .none
        }
        context.logger.notice("refused a new client from \(envelope.origin): the store is full (\(limit) clients)")
        return .reply(.invalid(envelope.line.readableBytesView))
    }
}
