/// What a batch of replies must wait for before it is written: the highest store sequence number any of
/// them confirms, and whether any of them waits for the neighbours too.
struct ReplyBarrier: Sendable {
    private(set) var sequence: UInt64?
    private(set) var waitsForFlood = false

    mutating func include(_ reply: Reply) {
        guard let confirmed = reply.confirms else { return }
        sequence = max(sequence ?? 0, confirmed)
        waitsForFlood = waitsForFlood || reply.waitsForFlood
    }
}
