import Synchronization

/// The updates waiting to go to one neighbour. Floods only queue here, never wait for the network; the link's
/// writer takes everything queued in one go, so a burst of updates leaves in one write.
///
/// While the link is down nothing is queued (the neighbour is unreachable); a full queue drops new updates.
public final class PeerOutbox: Sendable {
    private struct State {
        var connected = false
        var pending: [[UInt8]] = []
        var waiter: CheckedContinuation<[[UInt8]]?, Never>?
        var dropped = 0
        /// Tickets: the number of updates ever queued, and how many of them have been written.
        var enqueued: UInt64 = 0
        var written: UInt64 = 0
        var writeWaiters: [(UInt64, CheckedContinuation<Void, Never>)] = []
        /// The ticket before the first update of the current connection: acknowledgements count from here.
        var connectionBase: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Updates held at most while the writer catches up.
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var isConnected: Bool { state.withLock { $0.connected } }

    /// Updates dropped because the queue was full, since the last call.
    public func takeDroppedCount() -> Int {
        state.withLock { state in
            defer { state.dropped = 0 }
            return state.dropped
        }
    }

    /// Queues `line` and returns its ticket for ``waitUntilWritten(_:)``; nil when the link is down or the
    /// queue is full.
    public func enqueue(_ line: [UInt8]) -> UInt64? {
        let (waiter, ticket): (CheckedContinuation<[[UInt8]]?, Never>?, UInt64?) = state.withLock { state in
            guard state.connected else { return (nil, nil) }
            guard state.pending.count < capacity else {
                state.dropped += 1
                return (nil, nil)
            }
            state.enqueued += 1
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, state.enqueued)
            }
            state.pending.append(line)
            return (nil, state.enqueued)
        }
        if let waiter { waiter.resume(returning: [line]) }
        return ticket
    }

    /// Returns once the neighbour has acknowledged storing the update with `ticket`, or the link is down.
    public func waitUntilWritten(_ ticket: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state in
                guard state.connected, state.written < ticket else { return true }
                state.writeWaiters.append((ticket, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Records the neighbour's `ACK n`: it has processed the first `n` updates sent on this connection.
    func acknowledge(_ count: UInt64) {
        markWritten(upTo: state.withLock { $0.connectionBase } + count)
    }

    /// Records that every update up to `ticket` is done with, waking those waiting for them.
    func markWritten(upTo ticket: UInt64) {
        let ready: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.written = max(state.written, ticket)
            let done = state.writeWaiters.filter { $0.0 <= ticket }.map(\.1)
            state.writeWaiters.removeAll { $0.0 <= ticket }
            return done
        }
        for waiter in ready { waiter.resume() }
    }

    /// Marks the link up: from now on floods are queued.
    func connect() {
        state.withLock { state in
            state.connected = true
            state.pending.removeAll()
            state.connectionBase = state.enqueued
            state.written = state.enqueued
        }
    }

    /// Marks the link down, drops what is queued and wakes the writer (so it ends) and everyone waiting.
    func disconnect() {
        let (waiter, writeWaiters) = state.withLock { state in
            state.connected = false
            state.pending.removeAll()
            state.written = state.enqueued
            defer {
                state.waiter = nil
                state.writeWaiters = []
            }
            return (state.waiter, state.writeWaiters.map(\.1))
        }
        waiter?.resume(returning: nil)
        for writeWaiter in writeWaiters { writeWaiter.resume() }
    }

    /// Everything queued, waiting for at least one update; nil once the link is down or the task cancelled.
    func next() async -> [[UInt8]]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[[UInt8]]?, Never>) in
                let immediate: [[UInt8]]?? = state.withLock { state in
                    guard state.connected else { return .some(nil) }
                    if !state.pending.isEmpty {
                        defer { state.pending.removeAll(keepingCapacity: true) }
                        return .some(state.pending)
                    }
                    state.waiter = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            disconnect()
        }
    }
}
