/// Floods a newly stored update: wakes the peer links (each sends it to its neighbour unless the update came
/// from that neighbour) and marks the reply to wait for their acknowledgement, so the client is answered
/// only after the neighbours hold the update (PROTOCOL.md section 5).
///
/// Links also send, on their own, whatever the store holds that a neighbour has not acknowledged (after a
/// reconnect, or within a second for updates that skipped this stage): that is anti-entropy, not flooding.
public struct FloodStage: MessageHandler {
    public init() {}

    public func handle(
        _ envelope: Envelope, context: HandlerContext, next: (Envelope, HandlerContext) async throws -> Reply?
    ) async throws -> Reply? {
        guard envelope.stored, let sequence = envelope.sequence else { return try await next(envelope, context) }
        context.peers.announce(sequence)
        guard var reply = try await next(envelope, context) else { return nil }
        reply.confirms = reply.confirms ?? sequence
        reply.waitsForFlood = true
        return reply
    }
}
