/// Floods a newly stored update: the peer links send it in this event-loop pass (to every neighbour but
/// the one it came from), and the reply waits until the neighbours acknowledged it, so a WHATSAT sent to a
/// neighbour right after the reply sees it (PROTOCOL.md section 5).
///
/// Links also send, on their own, whatever the store holds that a neighbour has not acknowledged (after a
/// reconnect, or updates stored by a pipeline without this stage): that is anti-entropy, not flooding.
public struct FloodStage: MessageHandler {
    public init() {}

    public func handle(_ envelope: consuming Envelope, context: HandlerContext, next: Next) -> Response {
        guard envelope.stored, let sequence = envelope.sequence else { return next(envelope) }
        context.peers.announce(sequence)
        // Only a client waits for a reply; a neighbour's update is acknowledged once it is journalled.
        guard case .client = envelope.origin else { return next(envelope) }
        return next(envelope).holding(until: context.peers.acknowledgement(of: sequence))
    }
}
