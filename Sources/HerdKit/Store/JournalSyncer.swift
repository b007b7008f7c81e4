import CoreMetrics
import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Calls `fsync(2)` on the journal at most once per interval, on a thread of its own, while there are
/// unsynced writes: the event loop writes, this makes the writes survive a machine crash, and neither waits
/// for the other (Redis's `appendfsync everysec`). The loop only sets a flag; the lock around the descriptor
/// is taken by the loop only when compaction swaps the file.
final class JournalSyncer: Sendable {
    private struct State {
        var descriptor: Int32
        var stopped = false
    }

    private let state: Mutex<State>
    private let dirty = Atomic<Bool>(false)
    private let queue = DispatchQueue(label: "herd.journal-sync")
    private let interval: DispatchTimeInterval
    private let path: String
    private let logger: Logger

    private let timer: CoreMetrics.Timer?

    init(descriptor: Int32, path: String, interval: Duration, logger: Logger, timer: CoreMetrics.Timer? = nil) {
        self.timer = timer
        self.state = Mutex(State(descriptor: descriptor))
        self.path = path
        self.logger = logger
        let (seconds, attoseconds) = interval.components
        self.interval = .milliseconds(max(1, Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000)))
        arm()
    }

    private func arm() {
        queue.asyncAfter(deadline: .now() + interval) { [weak self] in
            guard let self, !self.state.withLock({ $0.stopped }) else { return }
            self.syncIfDirty()
            self.arm()
        }
    }

    /// A write went to the journal since the last sync.
    func markDirty() {
        dirty.store(true, ordering: .relaxed)
    }

    /// Syncs now if anything is unsynced. Holds the lock while syncing, so the descriptor cannot be swapped
    /// or closed under it.
    func syncIfDirty() {
        guard dirty.exchange(false, ordering: .acquiring) else { return }
        state.withLock { state in
            guard !state.stopped else { return }
            let started = ContinuousClock.now
            defer { timer?.record(ContinuousClock.now - started) }
            if fsync(state.descriptor) != 0 {
                let code = errno
                logger.error("fsync \(path) failed: \(String(cString: strerror(code))) (errno \(code))")
            }
        }
    }

    /// Points later syncs at another descriptor (after compaction) and returns the old one, synced, for the
    /// caller to close.
    func replaceDescriptor(with descriptor: Int32) -> Int32 {
        state.withLock { state in
            let old = state.descriptor
            _ = fsync(old)
            state.descriptor = descriptor
            return old
        }
    }

    /// Stops syncing; the caller syncs and closes the descriptor.
    func stop() {
        state.withLock { $0.stopped = true }
    }
}
