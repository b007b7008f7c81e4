import NIOCore

/// The dialling half of a peer link as a state machine, with no socket, clock or store: what the link
/// has sent of the store's change feed, what the neighbour has acknowledged, and whether replies wait for it.
///
/// The handler records each batch with ``willWrite(lines:through:)`` before it writes it, so an `ACK`
/// can never arrive for a batch the link does not know it sent. (The earlier design recorded a batch after
/// its asynchronous write returned. A batch bigger than the channel's write buffer made that write wait for
/// the buffer to drain, and meanwhile the neighbour's `ACK` for it could come back; it matched nothing and
/// was lost, and the replies waiting on it stalled until the flood timeout: the one-second p99.9.)
struct OutboundLink {
    enum Phase: Equatable {
        /// The hello went out; the neighbour has not named its store yet.
        case awaitingEpoch
        /// Sending the feed to a neighbour whose store has this epoch.
        case streaming(neighbourEpoch: UInt64)
        case closed
    }

    /// What the handler must do after a line from the neighbour.
    enum Action: Equatable {
        case none
        /// Find where the neighbour's copy of the feed stands and call ``start(at:)``.
        case resume(neighbourEpoch: UInt64)
        /// The neighbour now holds the feed up to this number: keep its cursor, release held replies.
        case acknowledged(through: UInt64)
        /// A protocol error: close the link.
        case fail(String)
    }

    let neighbour: String
    private(set) var phase = Phase.awaitingEpoch
    /// The feed position written so far.
    private(set) var sent: UInt64 = 0
    /// The feed position the neighbour holds.
    private(set) var acknowledged: UInt64 = 0
    /// Set when the neighbour missed the flood timeout: replies do not wait for it until it catches up.
    private(set) var lagging = false
    private var linesWritten: UInt64 = 0
    /// Batches written and not yet acknowledged: lines written on this connection when the batch ended, and
    /// the feed position it covers up to.
    private var inFlight = CircularBuffer<(lines: UInt64, through: UInt64)>()

    init(neighbour: String) {
        self.neighbour = neighbour
    }

    var isStreaming: Bool {
        if case .streaming = phase { return true }
        return false
    }

    var neighbourEpoch: UInt64? {
        if case .streaming(let epoch) = phase { return epoch }
        return nil
    }

    /// Handles one line from the neighbour (nil: not a control line).
    mutating func receive(_ message: PeerMessage?) -> Action {
        switch (phase, message) {
        case (.awaitingEpoch, .epoch(let epoch)?):
            phase = .streaming(neighbourEpoch: epoch)
            return .resume(neighbourEpoch: epoch)
        case (.awaitingEpoch, _):
            return .fail("\(neighbour) did not answer the hello with its store epoch")
        case (.streaming, .acknowledged(let lines)?):
            return acknowledge(lines: lines)
        case (.streaming, _):
            return .fail("\(neighbour) sent a line that is not ACK")
        case (.closed, _):
            return .none
        }
    }

    /// Starts sending after `position`, which the neighbour already holds.
    mutating func start(at position: UInt64) {
        sent = position
        acknowledged = position
        inFlight.removeAll()
        linesWritten = 0
        lagging = false
    }

    /// Records a batch about to be written: `lines` lines that cover the feed up to `through` (changes that
    /// came from the neighbour are skipped, so a batch may have none). Returns the new acknowledged position
    /// when the batch needs no acknowledgement.
    mutating func willWrite(lines: UInt64, through: UInt64) -> UInt64? {
        precondition(isStreaming && through >= sent, "batches go out in feed order while streaming")
        sent = through
        if lines == 0 && inFlight.isEmpty {
            acknowledged = through
            clearLaggingIfCaughtUp()
            return through
        }
        linesWritten += lines
        inFlight.append((linesWritten, through))
        return nil
    }

    private mutating func acknowledge(lines count: UInt64) -> Action {
        guard count <= linesWritten else {
            return .fail("\(neighbour) acknowledged \(count) lines, but \(linesWritten) were sent")
        }
        var covered = acknowledged
        while let first = inFlight.first, first.lines <= count {
            covered = max(covered, first.through)
            inFlight.removeFirst()
        }
        guard covered > acknowledged else { return .none }
        acknowledged = covered
        clearLaggingIfCaughtUp()
        return .acknowledged(through: covered)
    }

    private mutating func clearLaggingIfCaughtUp() {
        if lagging && acknowledged >= sent { lagging = false }
    }

    /// Whether a reply held at `mark` waits for this neighbour: it is linked, not lagging, and does not hold
    /// `mark` yet.
    func isAwaited(at mark: UInt64) -> Bool {
        isStreaming && !lagging && acknowledged < mark
    }

    /// Stops replies waiting for this neighbour until it catches up; true if it was not lagging already.
    mutating func markLagging() -> Bool {
        guard isStreaming, !lagging else { return false }
        lagging = true
        return true
    }

    mutating func close() {
        phase = .closed
        inFlight.removeAll()
    }
}
