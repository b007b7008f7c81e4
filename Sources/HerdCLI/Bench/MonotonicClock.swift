#if canImport(Glibc)
    import Glibc
#endif

/// Nanoseconds from `CLOCK_MONOTONIC`, for latencies that must not jump with wall-clock changes.
enum MonotonicClock {
    static func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
