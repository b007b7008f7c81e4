import Foundation
import HerdKit
import Logging
import Testing

@testable import Providers

@Suite("Google Places: configuration")
struct GooglePlacesConfigurationTests {
    static let environment = ["GOOGLE_PLACES_API_KEY": GoogleFixtures.key]

    /// `provider.options` as the config loader would give them (every value on line 12 of herd.yaml).
    static func options(_ values: [String: String]) -> ConfigOptions {
        ConfigOptions(
            values: values.mapValues { .scalar($0, line: 12) }, keyPath: "provider.options", file: "herd.yaml",
            baseDirectory: "/etc/herd")
    }

    static func configurationError(
        _ values: [String: String], environment: [String: String] = Self.environment
    ) -> String? {
        do {
            _ = try GooglePlacesConfiguration(options: options(values), environment: environment)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("no options: the New API at Google, the default mask, timeouts, retries, limit and cache")
    func defaults() throws {
        let configuration = try GooglePlacesConfiguration(options: Self.options([:]), environment: Self.environment)
        #expect(configuration.api == .new)
        #expect(configuration.apiKey == GooglePlacesAPIKey(GoogleFixtures.key))
        #expect(configuration.baseURL == "https://places.googleapis.com")
        #expect(configuration.endpointURL == "https://places.googleapis.com/v1/places:searchNearby")
        #expect(configuration.fieldMask == GooglePlacesConfiguration.defaultFieldMask)
        #expect(configuration.connectTimeout == .seconds(3))
        #expect(configuration.requestTimeout == .seconds(5))
        #expect(
            configuration.retry
                == RetryPolicy(
                    maxRetries: 3, initialBackoff: .milliseconds(250), maxBackoff: .seconds(2), budget: .seconds(10)))
        #expect(configuration.queriesPerSecond == 10)
        #expect(configuration.cacheTTL == .seconds(60))
        #expect(configuration.cacheCapacity == 10_000)
    }

    @Test("every option is read")
    func everyOption() throws {
        let configuration = try GooglePlacesConfiguration(
            options: Self.options([
                "api": "legacy", "api_key_env": "HERD_GOOGLE_KEY", "base_url": "http://127.0.0.1:8080/",
                "field_mask": "places.id", "connect_timeout_ms": "100", "request_timeout_ms": "200",
                "retry_budget_ms": "300", "max_retries": "4", "retry_initial_backoff_ms": "5",
                "retry_max_backoff_ms": "50", "queries_per_second": "2.5", "cache_ttl_seconds": "0",
                "cache_capacity": "7",
            ]),
            environment: ["HERD_GOOGLE_KEY": "other-key"])
        #expect(configuration.api == .legacy)
        #expect(configuration.apiKey == GooglePlacesAPIKey("other-key"))
        #expect(configuration.endpointURL == "http://127.0.0.1:8080/maps/api/place/nearbysearch/json")
        #expect(configuration.fieldMask == "places.id")
        #expect(configuration.connectTimeout == .milliseconds(100))
        #expect(configuration.requestTimeout == .milliseconds(200))
        #expect(
            configuration.retry
                == RetryPolicy(
                    maxRetries: 4, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(50),
                    budget: .milliseconds(300)))
        #expect(configuration.queriesPerSecond == 2.5)
        #expect(configuration.cacheTTL == .zero)
        #expect(configuration.cacheCapacity == 7)
    }

    @Test("the legacy API defaults to maps.googleapis.com")
    func legacyDefaultBase() throws {
        let configuration = try GooglePlacesConfiguration(
            options: Self.options(["api": "legacy"]), environment: Self.environment)
        #expect(configuration.endpointURL == "https://maps.googleapis.com/maps/api/place/nearbysearch/json")
    }

    @Test("no key in the environment is a start-up error naming api_key_env and the variable")
    func missingKey() {
        #expect(
            Self.configurationError([:], environment: [:])
                == "herd.yaml: provider.options.api_key_env: environment variable GOOGLE_PLACES_API_KEY is not set; "
                + "the google provider reads its API key from it (export GOOGLE_PLACES_API_KEY=YOUR_KEY, "
                + "see Docs/google-places.md)")
        #expect(
            Self.configurationError(["api_key_env": "MY_KEY"], environment: ["MY_KEY": ""])
                == "herd.yaml:12: provider.options.api_key_env: environment variable MY_KEY is empty; "
                + "the google provider reads its API key from it (export MY_KEY=YOUR_KEY, see Docs/google-places.md)")
    }

    @Test("bad options are errors naming the key")
    func badOptions() {
        #expect(
            Self.configurationError(["cache_tll_seconds": "5"])
                == "herd.yaml:12: provider.options.cache_tll_seconds: unknown key; expected one of: api, api_key_env, "
                + "base_url, cache_capacity, cache_ttl_seconds, connect_timeout_ms, field_mask, max_retries, "
                + "queries_per_second, request_timeout_ms, retry_budget_ms, retry_initial_backoff_ms, "
                + "retry_max_backoff_ms")
        #expect(
            Self.configurationError(["api": "v2"])
                == "herd.yaml:12: provider.options.api: expected 'new' or 'legacy', got 'v2'")
        #expect(
            Self.configurationError(["base_url": "places.googleapis.com"])
                == "herd.yaml:12: provider.options.base_url: expected an http or https URL without query, "
                + "such as https://places.googleapis.com, got 'places.googleapis.com'")
        #expect(
            Self.configurationError(["base_url": "https://example.com/?key=1"])?.contains("base_url: expected") == true)
        #expect(
            Self.configurationError(["request_timeout_ms": "0"])
                == "herd.yaml:12: provider.options.request_timeout_ms: must be between 1 and 600000, got 0")
        #expect(
            Self.configurationError(["retry_initial_backoff_ms": "500", "retry_max_backoff_ms": "100"])
                == "herd.yaml:12: provider.options.retry_max_backoff_ms: must be at least retry_initial_backoff_ms "
                + "(500), got 100")
        #expect(
            Self.configurationError(["queries_per_second": "fast"])
                == "herd.yaml:12: provider.options.queries_per_second: expected a number, got 'fast'")
        #expect(
            Self.configurationError(["field_mask": "places.id, places.location"])?.contains("field_mask: expected")
                == true)
    }

    @Test("registered as google; the factory wraps the provider in the cache unless the TTL is 0")
    func registration() throws {
        var registry = HerdRegistry.core
        GooglePlacesProvider.register(in: &registry, environment: Self.environment)
        let factory = try #require(registry.providers["google"])
        func context(_ values: [String: String]) -> HerdRegistry.Context {
            HerdRegistry.Context(
                options: Self.options(values), serverName: "Alford", config: HerdConfig.defaultHerd(),
                logger: GoogleLogRecorder().logger)
        }

        let cached = try #require(try factory(context([:])) as? CachingPlaceProvider<ContinuousClock>)
        #expect(cached.ttl == .seconds(60))
        #expect(cached.capacity == 10_000)
        let google = try #require(cached.upstream as? GooglePlacesProvider)
        #expect(google.configuration.api == .new)

        let uncached = try factory(context(["cache_ttl_seconds": "0"]))
        #expect(uncached is GooglePlacesProvider)

        var bare = HerdRegistry.core
        GooglePlacesProvider.register(in: &bare, environment: [:])
        #expect(throws: ConfigError.self) { try bare.providers["google"]!(context([:])) }
    }

    @Test("configs/herd.google.yaml is valid and builds the google provider with its documented defaults")
    func exampleConfig() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let config = try ConfigLoader.load(path: root.appendingPathComponent("configs/herd.google.yaml").path)
        #expect(config.provider.name == "google")
        let context = HerdRegistry.Context(
            options: config.provider.options, serverName: "Alford", config: config,
            logger: GoogleLogRecorder().logger)
        let provider = try GooglePlacesProvider.make(context: context, environment: Self.environment)
        let cached = try #require(provider as? CachingPlaceProvider<ContinuousClock>)
        let google = try #require(cached.upstream as? GooglePlacesProvider)
        let defaults = try GooglePlacesConfiguration(options: Self.options([:]), environment: Self.environment)
        #expect(google.configuration.api == defaults.api)
        #expect(google.configuration.endpointURL == defaults.endpointURL)
        #expect(google.configuration.fieldMask == defaults.fieldMask)
        #expect(google.configuration.connectTimeout == defaults.connectTimeout)
        #expect(google.configuration.requestTimeout == defaults.requestTimeout)
        #expect(google.configuration.retry == defaults.retry)
        #expect(google.configuration.queriesPerSecond == defaults.queriesPerSecond)
        #expect(cached.ttl == defaults.cacheTTL)
        #expect(cached.capacity == defaults.cacheCapacity)

        // Without the key, start-up fails naming the file, the line of api_key_env, and the variable.
        do {
            _ = try GooglePlacesProvider.make(context: context, environment: [:])
            Issue.record("the provider was built without a key")
        } catch let error as ConfigError {
            #expect(error.key == "provider.options.api_key_env")
            #expect(error.line == 39)
            #expect(error.reason.hasPrefix("environment variable GOOGLE_PLACES_API_KEY is not set"))
        }
    }

    @Test("backoff doubles from the initial step up to the cap, with equal jitter")
    func retryBackoff() {
        let policy = RetryPolicy(
            maxRetries: 5, initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(700), budget: .seconds(10))
        #expect(
            (1...5).map { policy.backoffCap(beforeRetry: $0) } == [100, 200, 400, 700, 700].map(Duration.milliseconds))
        #expect(policy.backoff(beforeRetry: 2, jitter: 0) == .milliseconds(100))
        #expect(policy.backoff(beforeRetry: 2, jitter: 0.5) == .milliseconds(150))
        #expect(policy.backoff(beforeRetry: 2, jitter: 1) == .milliseconds(200))
        #expect(policy.backoff(beforeRetry: 9, jitter: 1) == .milliseconds(700))
        for _ in 0..<100 {
            let delay = policy.backoff(beforeRetry: 3)
            #expect(delay >= .milliseconds(200) && delay <= .milliseconds(400))
        }
    }

    @Test("the rate limiter lets a second's worth through, then spaces requests, and refuses past the deadline")
    func rateLimiter() throws {
        let limiter = try #require(RateLimiter(queriesPerSecond: 2))
        #expect(limiter.burst == 2)
        let start = ContinuousClock.now
        let far = start.advanced(by: .seconds(60))
        let waits = (0..<5).map { _ in limiter.reserve(at: start, notAfter: far) }
        #expect(waits == [.zero, .zero, .milliseconds(500), .seconds(1), .milliseconds(1500)])
        // A request whose slot would come after its deadline reserves nothing.
        #expect(limiter.reserve(at: start, notAfter: start.advanced(by: .seconds(1))) == nil)
        #expect(limiter.reserve(at: start, notAfter: far) == .seconds(2))
        // After a quiet period the burst is available again.
        let later = start.advanced(by: .seconds(10))
        #expect(limiter.reserve(at: later, notAfter: far) == .zero)
        #expect(limiter.reserve(at: later, notAfter: far) == .zero)
        #expect(limiter.reserve(at: later, notAfter: far) == .milliseconds(500))

        #expect(RateLimiter(queriesPerSecond: 0) == nil)
        #expect(try #require(RateLimiter(queriesPerSecond: 0.5)).burst == 1)
    }

    @Test("the rate limit applies to queries: a query that cannot get a slot in its budget is OVER_QUERY_LIMIT")
    func rateLimitedQuery() async throws {
        try await FakePlacesServer.with(otherwise: .json("{}")) { server in
            // One request every 1000 seconds: the second query's slot is far beyond its budget.
            var configuration = GoogleFixtures.configuration(server, budget: .seconds(60))
            configuration.queriesPerSecond = 0.001
            try await GoogleFixtures.withProvider(configuration) { provider in
                _ = try await provider.nearbyPlaces(GoogleFixtures.ucla)
                let error = await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
                #expect(
                    error
                        == PlaceProviderError(
                            status: .overQueryLimit,
                            message: "the client-side limit of 0.001 queries per second leaves no slot within the "
                                + "retry budget of 60000 ms"))
            }
            #expect(server.requests.count == 1)
        }
    }
}
