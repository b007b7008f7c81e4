import HerdKit
import HerdTesting
import Testing

@testable import Providers

@Suite("Google Places: the WHATSAT cache")
struct GooglePlacesCacheTests {
    /// The provider the `google` factory builds for `base_url` (with the cache, as `herd up` would).
    static func makeProvider(
        _ server: FakePlacesServer, _ extra: [String: String] = [:]
    ) throws -> (cache: CachingPlaceProvider<ContinuousClock>, google: GooglePlacesProvider) {
        var registry = HerdRegistry.core
        GooglePlacesProvider.register(in: &registry, environment: ["GOOGLE_PLACES_API_KEY": GoogleFixtures.key])
        let values = GoogleFixtures.factoryOptions(server).merging(extra) { $1 }
        let context = HerdRegistry.Context(
            options: GooglePlacesConfigurationTests.options(values), serverName: "Alford",
            config: HerdConfig.defaultHerd(), logger: GoogleLogRecorder().logger)
        let provider = try registry.providers["google"]!(context)
        let cache = try #require(provider as? CachingPlaceProvider<ContinuousClock>)
        return (cache, try #require(cache.upstream as? GooglePlacesProvider))
    }

    @Test("a repeated WHATSAT within the TTL makes no second upstream call")
    func repeated() async throws {
        try await FakePlacesServer.with(otherwise: .json(GoogleFixtures.newAnswer)) { server in
            let (cache, google) = try Self.makeProvider(server)
            let first = try await cache.nearbyPlaces(GoogleFixtures.ucla)
            let second = try await cache.nearbyPlaces(GoogleFixtures.ucla)
            try await google.shutdown()

            #expect(first.results == GoogleFixtures.newAnswerMapped)
            #expect(second == first)
            #expect(server.requests.count == 1)
            #expect(cache.statistics == .init(hits: 1, misses: 1))
        }
    }

    @Test("ten concurrent identical WHATSATs make one upstream call")
    func concurrent() async throws {
        let held = FakePlacesServer.Response.json(GoogleFixtures.newAnswer, timing: .held)
        try await FakePlacesServer.with([held]) { server in
            let (cache, google) = try Self.makeProvider(server)
            let answers = try await withThrowingTaskGroup(of: PlacesResponse.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await cache.nearbyPlaces(GoogleFixtures.ucla) }
                }
                // Google has the one request and every WHATSAT is waiting on it; only then may it answer.
                try await eventually(
                    "one request and 10 waiting lookups", timeout: .seconds(30), poll: .milliseconds(1)
                ) {
                    server.requests.count == 1 && cache.statistics.misses + cache.statistics.coalesced == 10
                }
                server.releaseHeld()
                var answers: [PlacesResponse] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
            try await google.shutdown()

            #expect(answers.count == 10)
            #expect(answers.allSatisfy { $0.results == GoogleFixtures.newAnswerMapped })
            #expect(server.requests.count == 1)
            #expect(cache.statistics == .init(misses: 1, coalesced: 9))
        }
    }

    @Test("a failure is not cached: the next WHATSAT asks Google again")
    func failureNotCached() async throws {
        let denied = FakePlacesServer.Response.json(
            #"{"error": {"code": 403, "message": "Requests from this IP are blocked.", "status": "PERMISSION_DENIED"}}"#,
            status: .forbidden)
        try await FakePlacesServer.with([denied], otherwise: .json(GoogleFixtures.newAnswer)) { server in
            let (cache, google) = try Self.makeProvider(server)
            await #expect(throws: PlaceProviderError.self) { try await cache.nearbyPlaces(GoogleFixtures.ucla) }
            let response = try await cache.nearbyPlaces(GoogleFixtures.ucla)
            try await google.shutdown()

            #expect(response.status == .ok)
            #expect(server.requests.count == 2)
        }
    }

    @Test("different radius or bound are different queries")
    func distinctQueries() async throws {
        try await FakePlacesServer.with(otherwise: .json(GoogleFixtures.newAnswer)) { server in
            let (cache, google) = try Self.makeProvider(server)
            var wider = GoogleFixtures.ucla
            wider.radiusMetres = 20_000
            var fewer = GoogleFixtures.ucla
            fewer.limit = 1
            for query in [GoogleFixtures.ucla, wider, fewer, GoogleFixtures.ucla, wider, fewer] {
                _ = try await cache.nearbyPlaces(query)
            }
            try await google.shutdown()

            #expect(server.requests.count == 3)
            #expect(server.requests.map(\.body).allSatisfy { !$0.isEmpty })
        }
    }
}
