import Foundation
import HerdKit

/// Which Google web service answers the queries.
public enum GooglePlacesAPI: String, Sendable, Hashable, CaseIterable {
    /// Places API (New): `POST /v1/places:searchNearby`, each place mapped to a legacy result object.
    case new
    /// Places API (legacy) Nearby Search: `GET /maps/api/place/nearbysearch/json`, results passed through.
    case legacy

    /// Where Google serves this API.
    public var defaultBaseURL: String {
        switch self {
        case .new: "https://places.googleapis.com"
        case .legacy: "https://maps.googleapis.com"
        }
    }
}

/// A Google API key. It prints as `<redacted>` (and has no mirror children), so it cannot reach a log, an
/// error or a test failure message by way of string interpolation.
public struct GooglePlacesAPIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The key itself; only the HTTP request reads it.
    let secret: String

    public init(_ secret: String) {
        self.secret = secret
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    /// `text` with every occurrence of the key replaced by `<redacted>`, for anything that may be logged.
    func redact(_ text: String) -> String {
        secret.isEmpty ? text : text.replacingOccurrences(of: secret, with: "<redacted>")
    }
}

/// When and how often a failed Google call is tried again.
///
/// Why capped exponential backoff with jitter: Google asks clients that get 429 or 5xx to slow down, and
/// jitter keeps the five servers of a herd (or many herds) from retrying in lock step. The budget bounds
/// the time a WHATSAT client waits, whatever the number of retries.
public struct RetryPolicy: Sendable, Hashable {
    /// Retries after the first attempt (so at most `maxRetries + 1` requests per query).
    public var maxRetries: Int
    /// The backoff before the first retry; it doubles for each further retry.
    public var initialBackoff: Duration
    /// The cap on one backoff.
    public var maxBackoff: Duration
    /// The total time one query may take: every attempt, backoff and rate-limit wait. Each attempt's
    /// timeout is cut to what is left of it, and no retry starts after it.
    public var budget: Duration

    public init(
        maxRetries: Int = 3, initialBackoff: Duration = .milliseconds(250), maxBackoff: Duration = .seconds(2),
        budget: Duration = .seconds(10)
    ) {
        self.maxRetries = maxRetries
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.budget = budget
    }

    /// The backoff before retry number `retry` (1 for the first retry), before jitter:
    /// `initialBackoff * 2^(retry-1)`, at most `maxBackoff`.
    public func backoffCap(beforeRetry retry: Int) -> Duration {
        var delay = initialBackoff
        for _ in 1..<max(1, retry) {
            delay *= 2
            if delay >= maxBackoff { return maxBackoff }
        }
        return min(delay, maxBackoff)
    }

    /// The backoff before retry number `retry` with "equal jitter": half the capped step, plus a random
    /// part of the other half (`jitter` in 0...1), so delays still grow but never line up.
    public func backoff(beforeRetry retry: Int, jitter: Double = Double.random(in: 0...1)) -> Duration {
        let step = backoffCap(beforeRetry: retry)
        return step / 2 + (step / 2) * min(max(jitter, 0), 1)
    }
}

/// Everything the Google Places provider needs, read from `provider.options` (see Docs/google-places.md).
///
/// A value type so a test, a benchmark or another program can build one in code, and so the provider's
/// behaviour is fixed once it starts.
public struct GooglePlacesConfiguration: Sendable {
    /// The options `provider.options` may hold; anything else is a config error (typos never pass).
    public static let optionKeys: Set<String> = [
        "api", "api_key_env", "base_url", "field_mask", "connect_timeout_ms", "request_timeout_ms",
        "retry_budget_ms", "max_retries", "retry_initial_backoff_ms", "retry_max_backoff_ms", "queries_per_second",
        "cache_ttl_seconds", "cache_capacity",
    ]

    /// The environment variable the key is read from unless `api_key_env` names another.
    public static let defaultAPIKeyEnvironmentVariable = "GOOGLE_PLACES_API_KEY"

    /// The fields asked of the Places API (New): the ones the legacy result shape has a place for. Google
    /// prices a Nearby Search by the costliest field asked for (`rating` and `userRatingCount` are in a
    /// higher tier than the rest), so a deployment that does not need some of them should drop them.
    public static let defaultFieldMask = [
        "places.id", "places.displayName", "places.location", "places.types", "places.formattedAddress",
        "places.shortFormattedAddress", "places.rating", "places.userRatingCount", "places.businessStatus",
        "places.plusCode",
    ].joined(separator: ",")

    /// Google's responses are a few kilobytes; anything far larger is not a Nearby Search answer.
    public static let defaultMaximumResponseBytes = 4 * 1024 * 1024

    public var api: GooglePlacesAPI
    public var apiKey: GooglePlacesAPIKey
    /// Scheme, host, optional port and optional path prefix, without a trailing slash; the API's path is
    /// appended. Configurable so tests and staging can point at a local fake.
    public var baseURL: String
    /// The `X-Goog-FieldMask` header (Places API (New) only; the legacy API has no field masks).
    public var fieldMask: String
    /// How long establishing a connection (TCP and TLS) may take.
    public var connectTimeout: Duration
    /// How long one attempt may take, from sending the request to the last byte of the answer.
    public var requestTimeout: Duration
    public var retry: RetryPolicy
    /// Client-side limit on requests to Google (retries included), so a burst of WHATSATs cannot use up
    /// the project's quota; 0 means no limit. Applies per server (each server has its own provider).
    public var queriesPerSecond: Double
    /// How long a successful answer is reused for identical queries; zero turns the cache off.
    public var cacheTTL: Duration
    /// The most answers (and queries in flight) the cache holds.
    public var cacheCapacity: Int
    /// Larger responses are treated as failures.
    public var maximumResponseBytes: Int

    public init(
        apiKey: GooglePlacesAPIKey, api: GooglePlacesAPI = .new, baseURL: String? = nil,
        fieldMask: String = GooglePlacesConfiguration.defaultFieldMask, connectTimeout: Duration = .seconds(3),
        requestTimeout: Duration = .seconds(5), retry: RetryPolicy = RetryPolicy(), queriesPerSecond: Double = 10,
        cacheTTL: Duration = .seconds(60), cacheCapacity: Int = 10_000,
        maximumResponseBytes: Int = GooglePlacesConfiguration.defaultMaximumResponseBytes
    ) {
        self.api = api
        self.apiKey = apiKey
        self.baseURL = Self.trimmingTrailingSlashes(baseURL ?? api.defaultBaseURL)
        self.fieldMask = fieldMask
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.retry = retry
        self.queriesPerSecond = queriesPerSecond
        self.cacheTTL = cacheTTL
        self.cacheCapacity = cacheCapacity
        self.maximumResponseBytes = maximumResponseBytes
    }

    /// Reads `provider.options`, and the key from the environment variable they name.
    ///
    /// - Throws: a ``ConfigError`` naming the key at fault: an unknown key, a value out of range, a bad
    ///   base URL, or (naming `api_key_env`) an unset or empty key variable.
    public init(options: ConfigOptions, environment: [String: String]) throws(ConfigError) {
        try options.allowOnly(Self.optionKeys)
        let apiName = try options.string("api") ?? GooglePlacesAPI.new.rawValue
        guard let api = GooglePlacesAPI(rawValue: apiName) else {
            throw options.error("api", "expected 'new' or 'legacy', got '\(apiName)'")
        }

        let variable = try options.string("api_key_env") ?? Self.defaultAPIKeyEnvironmentVariable
        guard !variable.isEmpty, !variable.contains(where: { $0.isWhitespace || $0 == "=" }) else {
            throw options.error("api_key_env", "expected the name of an environment variable, got '\(variable)'")
        }
        guard let secret = environment[variable], !secret.isEmpty else {
            let state = environment[variable] == nil ? "is not set" : "is empty"
            throw options.error(
                "api_key_env",
                "environment variable \(variable) \(state); the google provider reads its API key from it "
                    + "(export \(variable)=YOUR_KEY, see Docs/google-places.md)")
        }

        let baseURL = try Self.validatedBaseURL(options.string("base_url") ?? api.defaultBaseURL, options: options)

        let fieldMask = try options.string("field_mask") ?? Self.defaultFieldMask
        guard !fieldMask.isEmpty, !fieldMask.contains(where: \.isWhitespace) else {
            throw options.error(
                "field_mask", "expected comma-separated field paths without spaces, such as places.id,places.location")
        }

        let connectMs = try options.int("connect_timeout_ms", in: 1...600_000) ?? 3_000
        let requestMs = try options.int("request_timeout_ms", in: 1...600_000) ?? 5_000
        let budgetMs = try options.int("retry_budget_ms", in: 1...3_600_000) ?? 10_000
        let maxRetries = try options.int("max_retries", in: 0...20) ?? 3
        let initialMs = try options.int("retry_initial_backoff_ms", in: 1...600_000) ?? 250
        let maxMs = try options.int("retry_max_backoff_ms", in: 1...600_000) ?? 2_000
        guard maxMs >= initialMs else {
            throw options.error(
                "retry_max_backoff_ms", "must be at least retry_initial_backoff_ms (\(initialMs)), got \(maxMs)")
        }
        let queriesPerSecond = try options.double("queries_per_second", in: 0...100_000) ?? 10
        let cacheTTLSeconds = try options.int("cache_ttl_seconds", in: 0...86_400) ?? 60
        let cacheCapacity = try options.int("cache_capacity", in: 1...PlaceCacheOptions.maximumCapacity) ?? 10_000

        self.init(
            apiKey: GooglePlacesAPIKey(secret), api: api, baseURL: baseURL, fieldMask: fieldMask,
            connectTimeout: .milliseconds(connectMs), requestTimeout: .milliseconds(requestMs),
            retry: RetryPolicy(
                maxRetries: maxRetries, initialBackoff: .milliseconds(initialMs), maxBackoff: .milliseconds(maxMs),
                budget: .milliseconds(budgetMs)),
            queriesPerSecond: queriesPerSecond, cacheTTL: .seconds(cacheTTLSeconds), cacheCapacity: cacheCapacity)
    }

    /// The URL requests go to, without the query string (so without the legacy API's `key=`): safe to log.
    public var endpointURL: String {
        switch api {
        case .new: baseURL + "/v1/places:searchNearby"
        case .legacy: baseURL + "/maps/api/place/nearbysearch/json"
        }
    }

    private static func validatedBaseURL(_ text: String, options: ConfigOptions) throws(ConfigError) -> String {
        let trimmed = trimmingTrailingSlashes(text)
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil
        else {
            throw options.error(
                "base_url",
                "expected an http or https URL without query, such as https://places.googleapis.com, got '\(text)'")
        }
        return trimmed
    }

    private static func trimmingTrailingSlashes(_ text: String) -> String {
        var trimmed = Substring(text)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
