import HerdKit
import Logging
import Synchronization
import Testing

@testable import Providers

/// What the Google provider tests share: a key, a query, fast settings and Google-like answers.
enum GoogleFixtures {
    /// A made-up key; tests check that it never shows up in a message or a log.
    static let key = "AIzaTEST-key_0123456789"

    /// `WHATSAT kiwi.cs.ucla.edu 10 5` for a client at +34.068930-118.445127.
    static let ucla = PlaceQuery(latitude: 34.068930, longitude: -118.445127, radiusMetres: 10_000, limit: 5)

    /// Settings that keep the suite fast: short backoffs, no rate limit, no cache. Timeouts and the budget
    /// are generous unless a test is about them, so a machine busy with other work cannot fail a test.
    static func configuration(
        _ server: FakePlacesServer, api: GooglePlacesAPI = .new, maxRetries: Int = 3,
        requestTimeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(10),
        budget: Duration = .seconds(60), initialBackoff: Duration = .milliseconds(1),
        maxBackoff: Duration = .milliseconds(4)
    ) -> GooglePlacesConfiguration {
        configuration(
            baseURL: server.baseURL, api: api, maxRetries: maxRetries, requestTimeout: requestTimeout,
            connectTimeout: connectTimeout, budget: budget, initialBackoff: initialBackoff, maxBackoff: maxBackoff)
    }

    static func configuration(
        baseURL: String, api: GooglePlacesAPI = .new, maxRetries: Int = 3, requestTimeout: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(10), budget: Duration = .seconds(60),
        initialBackoff: Duration = .milliseconds(1), maxBackoff: Duration = .milliseconds(4)
    ) -> GooglePlacesConfiguration {
        GooglePlacesConfiguration(
            apiKey: GooglePlacesAPIKey(key), api: api, baseURL: baseURL, connectTimeout: connectTimeout,
            requestTimeout: requestTimeout,
            retry: RetryPolicy(
                maxRetries: maxRetries, initialBackoff: initialBackoff, maxBackoff: maxBackoff, budget: budget),
            queriesPerSecond: 0, cacheTTL: .zero)
    }

    /// Runs `body` with a provider and shuts its HTTP client down afterwards.
    static func withProvider<Result>(
        _ configuration: GooglePlacesConfiguration, log: GoogleLogRecorder = GoogleLogRecorder(),
        _ body: (GooglePlacesProvider) async throws -> Result
    ) async throws -> Result {
        let provider = GooglePlacesProvider(configuration: configuration, logger: log.logger)
        do {
            let result = try await body(provider)
            try await provider.shutdown()
            return result
        } catch {
            try? await provider.shutdown()
            throw error
        }
    }

    /// The error `body` throws, as a ``PlaceProviderError`` (an issue is recorded if it throws anything else).
    static func providerError(_ body: () async throws -> PlacesResponse) async -> PlaceProviderError? {
        do {
            let response = try await body()
            Issue.record("expected a failure, got \(response.status.rawValue)")
            return nil
        } catch let error as PlaceProviderError {
            return error
        } catch {
            Issue.record("expected a PlaceProviderError, got \(error)")
            return nil
        }
    }

    /// The first answer `provider` gives within a few tries; tries that time out are tolerated (a busy
    /// machine may stall a healthy request past a test's short timeout), any other failure is an issue.
    static func eventualAnswer(_ provider: GooglePlacesProvider) async throws -> PlacesResponse {
        for _ in 1..<5 {
            do {
                return try await provider.nearbyPlaces(ucla)
            } catch let error as PlaceProviderError where error.message.contains("did not answer within") {
                continue
            }
        }
        return try await provider.nearbyPlaces(ucla)
    }

    /// Factory options for tests that go through `google`'s registration: fast retries, generous timeouts.
    static func factoryOptions(_ server: FakePlacesServer) -> [String: String] {
        [
            "base_url": server.baseURL, "queries_per_second": "0", "retry_initial_backoff_ms": "1",
            "retry_max_backoff_ms": "2", "request_timeout_ms": "30000", "retry_budget_ms": "60000",
        ]
    }

    /// A Places API (New) answer with two places: one with every mapped field, one with a few.
    static let newAnswer = """
        {
          "places": [
            {
              "id": "ChIJ9UsgSdO8woARfpIbbUiXw5Y",
              "types": ["performing_arts_theater", "point_of_interest", "establishment"],
              "formattedAddress": "340 Royce Dr, Los Angeles, CA 90095, USA",
              "location": {"latitude": 34.0728557, "longitude": -118.4421581},
              "rating": 4.8,
              "userRatingCount": 1288,
              "businessStatus": "OPERATIONAL",
              "displayName": {"text": "Royce Hall", "languageCode": "en"},
              "shortFormattedAddress": "340 Royce Dr, Los Angeles",
              "plusCode": {"globalCode": "85632HR5+48", "compoundCode": "2HR5+48 Los Angeles, California"}
            },
            {
              "id": "ChIJ2c9Xz9O8woARB6cv2tZ3Zs4",
              "formattedAddress": "308 Westwood Plaza, Los Angeles, CA 90095, USA",
              "location": {"latitude": 34.0704, "longitude": -118.444},
              "displayName": {"text": "Ackerman Union"}
            }
          ]
        }
        """

    /// `newAnswer` as legacy Nearby Search result objects.
    static let newAnswerMapped: [JSONValue] = [
        .object([
            "business_status": .string("OPERATIONAL"),
            "geometry": .object(["location": .object(["lat": .number(34.0728557), "lng": .number(-118.4421581)])]),
            "name": .string("Royce Hall"),
            "place_id": .string("ChIJ9UsgSdO8woARfpIbbUiXw5Y"),
            "plus_code": .object([
                "compound_code": .string("2HR5+48 Los Angeles, California"), "global_code": .string("85632HR5+48"),
            ]),
            "rating": .number(4.8),
            "reference": .string("ChIJ9UsgSdO8woARfpIbbUiXw5Y"),
            "types": .array([
                .string("performing_arts_theater"), .string("point_of_interest"), .string("establishment"),
            ]),
            "user_ratings_total": .number(1288),
            "vicinity": .string("340 Royce Dr, Los Angeles"),
        ]),
        .object([
            "geometry": .object(["location": .object(["lat": .number(34.0704), "lng": .number(-118.444)])]),
            "name": .string("Ackerman Union"),
            "place_id": .string("ChIJ2c9Xz9O8woARB6cv2tZ3Zs4"),
            "reference": .string("ChIJ2c9Xz9O8woARB6cv2tZ3Zs4"),
            "vicinity": .string("308 Westwood Plaza, Los Angeles, CA 90095, USA"),
        ]),
    ]

    /// A legacy Nearby Search answer with three results, attributions and a next page token.
    static let legacyAnswer = """
        {
           "html_attributions" : [ "Listings by <a href=\\"https://example.com/\\">Example</a>" ],
           "next_page_token" : "AeJbb3fTOKEN",
           "results" : [
              {
                 "business_status" : "OPERATIONAL",
                 "geometry" : {
                    "location" : { "lat" : 34.0728557, "lng" : -118.4421581 },
                    "viewport" : {
                       "northeast" : { "lat" : 34.0742, "lng" : -118.4408 },
                       "southwest" : { "lat" : 34.0715, "lng" : -118.4435 }
                    }
                 },
                 "icon" : "https://maps.gstatic.com/mapfiles/place_api/icons/v1/png_71/generic_business-71.png",
                 "name" : "Royce Hall",
                 "opening_hours" : { "open_now" : false },
                 "place_id" : "ChIJ9UsgSdO8woARfpIbbUiXw5Y",
                 "rating" : 4.8,
                 "reference" : "ChIJ9UsgSdO8woARfpIbbUiXw5Y",
                 "types" : [ "point_of_interest", "establishment" ],
                 "user_ratings_total" : 1288,
                 "vicinity" : "340 Royce Dr, Los Angeles"
              },
              { "name" : "Ackerman Union", "place_id" : "ChIJ2c9Xz9O8woARB6cv2tZ3Zs4",
                "geometry" : { "location" : { "lat" : 34.0704, "lng" : -118.444 } } },
              { "name" : "Powell Library", "place_id" : "ChIJ6cVnLdK8woARlMw6TnhOZXk",
                "geometry" : { "location" : { "lat" : 34.0716, "lng" : -118.4422 } } }
           ],
           "status" : "OK"
        }
        """

    static let legacyZeroResults = #"{"html_attributions": [], "results": [], "status": "ZERO_RESULTS"}"#
}

/// Collects what a logger is given, so tests can look at levels, messages and metadata.
final class GoogleLogRecorder: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: String
    }

    private let recorded = Mutex<[Entry]>([])

    var entries: [Entry] { recorded.withLock { $0 } }

    /// Everything logged, one line per record with its metadata.
    var text: String { entries.map { "\($0.level) \($0.message) \($0.metadata)" }.joined(separator: "\n") }

    var logger: Logger {
        Logger(label: "google-test") { _ in Handler(recorder: self) }
    }

    fileprivate func append(_ entry: Entry) {
        recorded.withLock { $0.append(entry) }
    }

    private struct Handler: LogHandler {
        let recorder: GoogleLogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = merged.keys.sorted().map { "\($0)=\(merged[$0]!)" }.joined(separator: " ")
            recorder.append(Entry(level: event.level, message: "\(event.message)", metadata: rendered))
        }
    }
}
