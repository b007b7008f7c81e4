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

    /// Queues `line`; false when the link is down or the queue is full.
    public func enqueue(_ line: [UInt8]) -> Bool {
        let waiter: CheckedContinuation<[[UInt8]]?, Never>?
        let accepted: Bool
        (waiter, accepted) = state.withLock { state in
            guard state.connected else { return (nil, false) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, true)
            }
            guard state.pending.count < capacity else {
                state.dropped += 1
                return (nil, false)
            }
            state.pending.append(line)
            return (nil, true)
        }
        waiter?.resume(returning: [line])
        return accepted
    }

    /// Marks the link up: from now on floods are queued.
    func connect() {
        state.withLock { state in
            state.connected = true
            state.pending.removeAll()
        }
    }

    /// Marks the link down, drops what is queued and wakes the writer so it ends.
    func disconnect() {
        let waiter = state.withLock { state in
            state.connected = false
            state.pending.removeAll()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
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
