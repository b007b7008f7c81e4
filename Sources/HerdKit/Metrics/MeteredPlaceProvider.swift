import CoreMetrics

/// A cache whose hits and misses the metrics report.
public protocol PlaceCacheReporting: Sendable {
    /// Hits and misses so far.
    var cacheCounts: (hits: Int, misses: Int) { get }
}

extension CachingPlaceProvider: PlaceCacheReporting {
    public var cacheCounts: (hits: Int, misses: Int) {
        let statistics = statistics
        return (statistics.hits, statistics.misses)
    }
}

/// Counts what the server asks its place provider (`herd_provider_requests_total`) and its failures by
/// status (`herd_provider_upstream_errors_total`), whatever the provider is; the server wraps every
/// provider in one.
struct MeteredPlaceProvider: PlaceProvider {
    let upstream: any PlaceProvider
    let requests: Counter
    let metrics: ServerMetrics

    init(wrapping upstream: any PlaceProvider, metrics: ServerMetrics) {
        self.upstream = upstream
        self.metrics = metrics
        self.requests = metrics.counter("herd_provider_requests_total")
        // The known failures start at 0, so a dashboard's rate() has a series before the first one.
        for status in [PlacesResponse.Status.overQueryLimit, .requestDenied, .invalidRequest, .unknownError] {
            _ = metrics.counter("herd_provider_upstream_errors_total", [("status", status.rawValue)])
        }
    }

    func immediatePlaces(_ query: PlaceQuery) -> PlacesResponse? {
        guard let response = upstream.immediatePlaces(query) else { return nil }
        requests.increment()
        return response
    }

    func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse {
        requests.increment()
        do {
            return try await upstream.nearbyPlaces(query)
        } catch let error as PlaceProviderError {
            metrics.counter("herd_provider_upstream_errors_total", [("status", error.status.rawValue)]).increment()
            throw error
        } catch {
            metrics.counter("herd_provider_upstream_errors_total", [("status", "UNKNOWN_ERROR")]).increment()
            throw error
        }
    }
}
