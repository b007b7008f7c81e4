import CoreMetrics
import Prometheus

/// One server's metrics: its own Prometheus registry, so servers sharing a process (`herd up`) each serve
/// theirs on their admin endpoint, and a factory that parts of the server (providers, transports, your
/// own stages) make swift-metrics `Counter`s, `Gauge`s and `Timer`s from. Every metric carries the
/// `server` label.
public struct ServerMetrics: Sendable {
    public let server: String
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    public init(server: String) {
        self.server = server
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Replies and journal syncs take from microseconds to seconds.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
        ]
        self.factory = factory
    }

    public func counter(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: name, dimensions: [("server", server)] + labels, factory: factory)
    }

    public func gauge(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: name, dimensions: [("server", server)] + labels, factory: factory)
    }

    /// A histogram of durations, in seconds (`_bucket`, `_sum`, `_count`).
    public func timer(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Timer {
        CoreMetrics.Timer(label: name, dimensions: [("server", server)] + labels, factory: factory)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}

extension CoreMetrics.Timer {
    /// Records a measured duration.
    func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
