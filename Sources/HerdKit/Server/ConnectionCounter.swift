import Synchronization

/// Counts open client connections against `limits.max_client_connections`.
final class ConnectionCounter: Sendable {
    private let open = Mutex(0)

    /// Counts one more connection if fewer than `limit` are open; false if it must be refused.
    func admit(limit: Int) -> Bool {
        open.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() {
        open.withLock { $0 -= 1 }
    }
}
