import Synchronization

/// A client-side limit on requests per second: a token bucket of one second's worth of requests (at least
/// one), kept as a single "theoretical arrival time" (the generic cell rate algorithm), so it costs one
/// comparison per request and needs no timer.
///
/// Why: Google's quota is per project, and going over it turns every WHATSAT into `OVER_QUERY_LIMIT` for a
/// while. Spacing requests here keeps a burst of clients from getting there; a request that could only be
/// sent after its deadline fails at once instead of waiting in vain.
final class RateLimiter: Sendable {
    /// The average spacing between requests.
    let interval: Duration
    /// Requests that may go at once after a quiet period.
    let burst: Int
    private let tolerance: Duration
    private let theoreticalArrival = Mutex<ContinuousClock.Instant?>(nil)

    /// Nil when `queriesPerSecond` is not positive: no limit.
    init?(queriesPerSecond: Double) {
        guard queriesPerSecond > 0, queriesPerSecond.isFinite else { return nil }
        interval = .seconds(1 / queriesPerSecond)
        burst = max(1, Int(queriesPerSecond.rounded(.down)))
        tolerance = interval * (burst - 1)
    }

    /// Reserves the next free send time at or after `now`, and returns how long to wait for it; or nil,
    /// reserving nothing, when that time would be after `deadline`.
    func reserve(
        at now: ContinuousClock.Instant = .now, notAfter deadline: ContinuousClock.Instant
    ) -> Duration? {
        theoreticalArrival.withLock { arrival in
            let expected = max(arrival ?? now, now)
            let sendAt = max(expected.advanced(by: .zero - tolerance), now)
            guard sendAt <= deadline else { return nil }
            arrival = expected.advanced(by: interval)
            return now.duration(to: sendAt)
        }
    }

    /// Waits for a send slot. Returns false, without waiting, when no slot is free before `deadline`.
    func acquire(notAfter deadline: ContinuousClock.Instant) async throws -> Bool {
        guard let wait = reserve(notAfter: deadline) else { return false }
        if wait > .zero { try await Task.sleep(for: wait) }
        return true
    }
}
