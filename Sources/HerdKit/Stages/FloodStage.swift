/// Hands a newly stored update to every neighbour but the one it came from, before the client is answered.
public struct FloodStage: MessageHandler {
    public init() {}

    public func handle(
        _ envelope: Envelope, context: HandlerContext, next: (Envelope, HandlerContext) async throws -> Reply?
    ) async throws -> Reply? {
        if envelope.stored, let update = envelope.update {
            let sentTo = await context.peers.flood(update.bytes, except: envelope.origin.peerName)
            if !sentTo.isEmpty {
                context.logger.debug("flooded \(update.clientID) to \(sentTo.joined(separator: ", "))")
            }
        }
        return try await next(envelope, context)
    }
}
