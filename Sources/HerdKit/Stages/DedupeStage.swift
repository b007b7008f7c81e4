/// Marks an update that does not supersede the stored record. A stale client report is still answered;
/// a stale peer update stops here, which is what ends a flood on a cyclic topology.
public struct DedupeStage: MessageHandler {
    public init() {}

    public func handle(_ envelope: consuming Envelope, context: HandlerContext, next: Next) -> Response {
        guard let update = envelope.update else { return next(envelope) }
        if context.store.supersedes(update, from: envelope.origin.peerName) {
            envelope.freshness = .newer
        } else {
            envelope.freshness = .stale
            if case .peer = envelope.origin { return .none }
        }
        return next(envelope)
    }
}
