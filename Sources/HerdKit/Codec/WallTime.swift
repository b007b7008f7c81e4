#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A server-side wall-clock instant with nanosecond resolution: the receive time used for skews.
public struct WallTime: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// The current time from `CLOCK_REALTIME`.
    public static func now() -> WallTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return WallTime(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }

    var totalNanoseconds: Int128 { Int128(seconds) * 1_000_000_000 + Int128(nanoseconds) }

    public static func < (lhs: WallTime, rhs: WallTime) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}

/// Where a server reads the time, so tests can fix it.
public protocol WallClock: Sendable {
    func now() -> WallTime
}

/// The system's real-time clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> WallTime { .now() }
}

/// A clock that always reads the same time: for tests and examples that compare AT lines byte for byte,
/// since the skew in them is the receive time minus the client's time.
public struct FixedClock: WallClock {
    public var time: WallTime

    public init(_ time: WallTime) {
        self.time = time
    }

    public func now() -> WallTime { time }
}
