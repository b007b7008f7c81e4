import Dispatch
import Synchronization

/// The group-commit buffer between the hot path and the journal writer. Stores append here inside the
/// sequence critical section (so records arrive in sequence order) and never wait for I/O; the writer takes
/// everything pending at once and writes it with one `write(2)`. The writer sleeps on a semaphore that is
/// signalled only when it said it was idle, so a busy hot path pays for no wake-ups.
final class JournalQueue: Sendable {
    /// What the writer takes in one go.
    struct Batch {
        var records: [StoredRecord] = []
        /// The newest cursor per neighbour since the last batch (older ones are superseded).
        var cursors: [String: PeerCursor] = [:]
        /// The store is stopping: this is the last batch.
        var isFinal = false

        var isEmpty: Bool { records.isEmpty && cursors.isEmpty }
    }

    private struct State {
        var pending = Batch()
        var writerIdle = false
        /// The writer has gone: appending would only grow memory.
        var closed = false
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    func append(_ record: StoredRecord) {
        update { $0.records.append(record) }
    }

    func setCursor(_ cursor: PeerCursor, for neighbour: String) {
        update { $0.cursors[neighbour] = cursor }
    }

    /// Asks the writer to write what is pending and stop.
    func stop() {
        update { $0.isFinal = true }
    }

    /// The writer has stopped; later changes stay in memory only.
    func close() {
        state.withLock { state in
            state.closed = true
            state.pending = Batch()
        }
    }

    private func update(_ change: (inout Batch) -> Void) {
        let signal = state.withLock { state in
            guard !state.closed else { return false }
            change(&state.pending)
            defer { state.writerIdle = false }
            return state.writerIdle
        }
        if signal { wake.signal() }
    }

    /// Everything pending, waiting for something until `deadline`; an empty batch when the deadline passed.
    func next(waitingUntil deadline: DispatchTime) -> Batch {
        while true {
            let batch: Batch? = state.withLock { state in
                guard state.pending.isEmpty, !state.pending.isFinal else { return take(&state) }
                state.writerIdle = true
                return nil
            }
            if let batch { return batch }
            if wake.wait(timeout: deadline) == .timedOut {
                return state.withLock { state in
                    state.writerIdle = false
                    return take(&state)
                }
            }
        }
    }

    private func take(_ state: inout State) -> Batch {
        let batch = state.pending
        state.pending = Batch(isFinal: batch.isFinal)
        return batch
    }
}
