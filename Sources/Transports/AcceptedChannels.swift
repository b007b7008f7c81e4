import HerdKit
import NIOCore
import Synchronization

/// The connections a listener has accepted but not yet handed over. NIO wraps each accepted channel for async
/// use in the bootstrap's child initializer; one that is still on its way when the listener closes is dropped
/// by NIO, and a wrapped channel dropped unfinished traps ("Deinited NIOAsyncWriter without calling
/// finish()", apple/swift-nio #2813). Tracking them here keeps a reference, so the listener closes every one
/// properly once it has stopped, and one that arrives after that is closed at once.
public final class AcceptedChannels: Sendable {
    public typealias Wrapped = NIOAsyncChannel<InboundEvent, ByteBuffer>

    private struct State {
        var pending: [ObjectIdentifier: Wrapped] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Notes a channel wrapped in the child initializer; returns it.
    public func track(_ wrapped: Wrapped) -> Wrapped {
        let late = state.withLock { state in
            if state.closed { return true }
            state.pending[ObjectIdentifier(wrapped.channel)] = wrapped
            return false
        }
        if late { Task { try? await wrapped.executeThenClose { _, _ in } } }
        return wrapped
    }

    /// The listener has handed `wrapped` to its handler, which now owns it.
    public func handOver(_ wrapped: Wrapped) {
        _ = state.withLock { $0.pending.removeValue(forKey: ObjectIdentifier(wrapped.channel)) }
    }

    /// Closes every channel accepted and never handed over; later ones are closed as they arrive.
    func closeRemaining() async {
        let remaining = state.withLock { state in
            state.closed = true
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for wrapped in remaining { try? await wrapped.executeThenClose { _, _ in } }
    }
}
