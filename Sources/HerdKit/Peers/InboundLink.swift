/// The listening half of a peer link as a state machine: waits for the hello, then counts the neighbour's
/// updates so it can acknowledge them once they are journalled.
struct InboundLink {
    enum Phase: Equatable {
        case awaitingHello
        case linked(neighbour: String)
        case closed
    }

    enum HelloOutcome: Equatable {
        /// Answer with `EPOCH`.
        case accept(neighbour: String)
        case refuse(String)
    }

    private(set) var phase = Phase.awaitingHello
    /// Updates processed on this connection.
    private(set) var processed: UInt64 = 0
    private var acknowledged: UInt64 = 0

    var neighbour: String? {
        if case .linked(let name) = phase { return name }
        return nil
    }

    /// The first line: a hello naming a server that `refusal` has no objection to (nil means accept).
    mutating func receiveHello(_ message: PeerMessage?, refusal: (String) -> String?) -> HelloOutcome {
        guard phase == .awaitingHello else { return .refuse("a second hello") }
        guard case .hello(let name)? = message else {
            phase = .closed
            return .refuse("no hello line")
        }
        if let reason = refusal(name) {
            phase = .closed
            return .refuse(reason)
        }
        phase = .linked(neighbour: name)
        return .accept(neighbour: name)
    }

    mutating func processedLine() {
        processed += 1
    }

    /// The count to acknowledge, when lines were processed since the last acknowledgement. Call it only
    /// once they are journalled.
    mutating func acknowledgementDue() -> UInt64? {
        guard processed > acknowledged else { return nil }
        acknowledged = processed
        return processed
    }

    mutating func close() {
        phase = .closed
    }
}
