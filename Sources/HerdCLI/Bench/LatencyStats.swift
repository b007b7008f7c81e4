import Histogram

/// Latencies in microseconds with HdrHistogram percentiles, merged across connections.
struct LatencyStats: Sendable {
    private(set) var histogram = Histogram<UInt64>(
        highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)

    mutating func record(nanoseconds: UInt64) {
        _ = histogram.record(max(1, nanoseconds / 1000))
    }

    mutating func merge(_ other: LatencyStats) {
        histogram.add(other.histogram)
    }

    var count: UInt64 { histogram.totalCount }

    /// `p50 41 µs  p99 180 µs  p99.9 420 µs  max 1.2 ms`
    var summary: String {
        guard count > 0 else { return "no samples" }
        return "p50 \(Self.format(histogram.valueAtPercentile(50)))  "
            + "p99 \(Self.format(histogram.valueAtPercentile(99)))  "
            + "p99.9 \(Self.format(histogram.valueAtPercentile(99.9)))  "
            + "max \(Self.format(histogram.max))"
    }

    static func format(_ microseconds: UInt64) -> String {
        if microseconds < 1000 { return "\(microseconds) µs" }
        let milliseconds = Double(microseconds) / 1000
        return milliseconds < 100
            ? "\((milliseconds * 100).rounded() / 100) ms" : "\(Int(milliseconds.rounded())) ms"
    }
}
