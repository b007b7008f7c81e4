import Synchronization

/// What one outgoing link knows of its neighbour: whether it is up, how far the neighbour has acknowledged
/// the store's change feed, and who waits for that. Shared by the link's writer and reader and by the
/// client sessions waiting for their floods.
final class PeerLinkState: Sendable {
    private struct Waiter {
        var id: UInt64
        var sequence: UInt64
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var connected = false
        /// Highest store sequence number the neighbour acknowledged on this connection.
        var acknowledged: UInt64 = 0
        /// Highest sequence number announced by the flood stage (or the link's own poll).
        var announced: UInt64 = 0
        var writer: CheckedContinuation<Bool, Never>?
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        /// Batches written and not yet acknowledged: lines written on this connection when the batch
        /// ended, and the sequence number the batch covers up to.
        var inFlight: [(lines: UInt64, sequence: UInt64)] = []
        var linesWritten: UInt64 = 0
        /// Set when the neighbour missed a flood timeout; cleared once it has caught up.
        var lagging = false
    }

    private let state = Mutex(State())

    var isConnected: Bool { state.withLock { $0.connected } }

    /// Whether a client reply confirming `sequence` should wait for this neighbour: it is up, not lagging,
    /// and has not acknowledged `sequence` yet.
    func isAwaited(for sequence: UInt64) -> Bool {
        state.withLock { $0.connected && !$0.lagging && $0.acknowledged < sequence }
    }

    /// Marks the link up, with the neighbour holding everything up to `acknowledged`.
    func connect(acknowledged: UInt64) {
        state.withLock { state in
            state.connected = true
            state.acknowledged = acknowledged
            state.inFlight = []
            state.linesWritten = 0
            state.lagging = false
        }
    }

    /// Marks the link down and wakes the writer (so it ends) and everyone waiting.
    func disconnect() {
        let (writer, waiters) = state.withLock { state in
            state.connected = false
            defer {
                state.writer = nil
                state.waiters = []
            }
            return (state.writer, state.waiters)
        }
        writer?.resume(returning: false)
        for waiter in waiters { waiter.continuation.resume() }
    }

    /// Notes that the store holds changes up to `sequence`, waking the writer.
    func announce(_ sequence: UInt64) {
        let writer: CheckedContinuation<Bool, Never>? = state.withLock { state in
            guard sequence > state.announced else { return nil }
            state.announced = sequence
            defer { state.writer = nil }
            return state.writer
        }
        writer?.resume(returning: true)
    }

    /// Waits until something above `sequence` is announced; false once the link is down or the task is
    /// cancelled.
    func waitForChanges(after sequence: UInt64) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let immediate: Bool? = state.withLock { state in
                    guard state.connected else { return false }
                    if state.announced > sequence { return true }
                    state.writer = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            disconnect()
        }
    }

    /// Records a batch of `lines` lines written, covering the feed up to `sequence`. A batch of no lines
    /// (every change in it came from this neighbour) is acknowledged as soon as everything before it is.
    func wrote(lines: UInt64, through sequence: UInt64) {
        let done = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.linesWritten += lines
            if lines == 0, state.inFlight.isEmpty {
                return Self.advance(&state, to: sequence)
            }
            state.inFlight.append((state.linesWritten, sequence))
            return []
        }
        for waiter in done { waiter.resume() }
    }

    /// Records the neighbour's `ACK n` (it stored the first n lines of this connection); returns the
    /// sequence number it now holds everything up to.
    func acknowledgeLines(_ count: UInt64) -> UInt64 {
        let (sequence, done) = state.withLock { state -> (UInt64, [CheckedContinuation<Void, Never>]) in
            var covered = state.acknowledged
            while let first = state.inFlight.first, first.lines <= count {
                covered = max(covered, first.sequence)
                state.inFlight.removeFirst()
            }
            return (covered, Self.advance(&state, to: covered))
        }
        for waiter in done { waiter.resume() }
        return sequence
    }

    private static func advance(_ state: inout State, to sequence: UInt64) -> [CheckedContinuation<Void, Never>] {
        state.acknowledged = max(state.acknowledged, sequence)
        if state.lagging, state.acknowledged >= state.announced { state.lagging = false }
        let ready = state.waiters.filter { $0.sequence <= state.acknowledged }.map(\.continuation)
        state.waiters.removeAll { $0.sequence <= state.acknowledged }
        return ready
    }

    /// Returns once the neighbour acknowledged `sequence`, the link went down or the task was cancelled.
    func waitUntilAcknowledged(_ sequence: UInt64) async {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    guard state.connected, state.acknowledged < sequence, !Task.isCancelled else { return true }
                    state.waiters.append(Waiter(id: id, sequence: sequence, continuation: continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume()
        }
    }

    /// Stops waiting for this neighbour until it catches up; true if it was not lagging already.
    func markLagging(behind sequence: UInt64) -> Bool {
        state.withLock { state in
            guard state.connected, state.acknowledged < sequence, !state.lagging else { return false }
            state.lagging = true
            return true
        }
    }
}
