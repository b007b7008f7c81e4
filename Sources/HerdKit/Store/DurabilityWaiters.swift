import Synchronization

/// The tasks waiting in ``DurableStore/waitUntilDurable(_:)``, resumed as the journal writer's writes return.
final class DurabilityWaiters: Sendable {
    private struct Waiter {
        let sequence: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        /// Every change up to this number has been written.
        var durable: UInt64
        /// The writer has gone; later waits for unwritten changes fail.
        var finished = false
        /// Why the writer went, when a write failed.
        var failure: DurableStoreError?
        var waiting: [Waiter] = []
    }

    private let state: Mutex<State>
    private let directory: String

    init(durable: UInt64, directory: String) {
        self.state = Mutex(State(durable: durable))
        self.directory = directory
    }

    func wait(for sequence: UInt64) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, DurableStoreError>? = state.withLock { state in
                if sequence <= state.durable { return .success(()) }
                if state.finished {
                    return .failure(state.failure ?? .stopped(directory: directory, sequence: sequence))
                }
                state.waiting.append(Waiter(sequence: sequence, continuation: continuation))
                return nil
            }
            if let outcome { continuation.resume(with: outcome.mapError { $0 }) }
        }
    }

    /// Every change up to `sequence` was written.
    func advance(to sequence: UInt64) {
        let ready: [Waiter] = state.withLock { state in
            state.durable = max(state.durable, sequence)
            let durable = state.durable
            let ready = state.waiting.filter { $0.sequence <= durable }
            state.waiting.removeAll { $0.sequence <= durable }
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// The writer has gone (cleanly when `failure` is nil): whoever still waits, and whoever waits later
    /// for a change not yet written, gets an error.
    func finish(failure: DurableStoreError?) {
        let remaining: [(Waiter, DurableStoreError)] = state.withLock { state in
            state.finished = true
            state.failure = failure
            defer { state.waiting = [] }
            return state.waiting.map { waiter in
                (waiter, failure ?? .stopped(directory: directory, sequence: waiter.sequence))
            }
        }
        for (waiter, error) in remaining { waiter.continuation.resume(throwing: error) }
    }
}
