import AsyncHTTPClient
import Foundation
import HerdKit
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Answers WHATSAT from Google Places: the Places API (New) `places:searchNearby` by default, each place
/// mapped to a Nearby Search (legacy) result, or the legacy Nearby Search web service passed through.
///
/// Every failure is thrown as a ``PlaceProviderError`` with the status Google would use and a message
/// saying what happened (never containing the key), and is logged; the respond stage turns it into a
/// reply with empty `results` (PROTOCOL.md section 3). HTTP 429, 500, 503 and 504 and the legacy
/// `OVER_QUERY_LIMIT` are retried with capped exponential backoff and jitter within
/// ``RetryPolicy/budget``; requests are spaced by a client-side rate limit.
///
/// The provider owns an `HTTPClient`. Call ``shutdown()`` when done with it (tests do); a provider that is
/// dropped without it shuts its client down in the background.
public final class GooglePlacesProvider: PlaceProvider {
    public let configuration: GooglePlacesConfiguration
    private let logger: Logger
    private let client: HTTPClient
    private let rateLimiter: RateLimiter?
    private let isShutDown = Mutex(false)
    private let endpointHost: String

    public init(configuration: GooglePlacesConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var http = HTTPClient.Configuration()
        http.timeout = HTTPClient.Configuration.Timeout(connect: TimeAmount(configuration.connectTimeout))
        // A redirect would send the key (in the legacy URL or in a header) to wherever it points.
        http.redirectConfiguration = .disallow
        self.client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        self.rateLimiter = RateLimiter(queriesPerSecond: configuration.queriesPerSecond)
        let url = URL(string: configuration.baseURL)
        let port = url?.port.map { ":\($0)" } ?? ""
        self.endpointHost = (url?.host ?? configuration.baseURL) + port
    }

    deinit {
        let running = isShutDown.withLock { state in
            defer { state = true }
            return !state
        }
        // The client stays alive until its shutdown completes, so this cannot cut it short.
        if running { client.shutdown { _ in } }
    }

    /// Closes the HTTP client's connections. Queries made afterwards fail.
    public func shutdown() async throws {
        let running = isShutDown.withLock { state in
            defer { state = true }
            return !state
        }
        if running { try await client.shutdown() }
    }

    public func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: configuration.retry.budget)
        let budget = "\(milliseconds(configuration.retry.budget)) ms"
        var attempts = 0
        var lastFailure: PlaceProviderError?
        while true {
            // A retry that cannot start reports the failure it was meant to cure.
            if let rateLimiter, try await !rateLimiter.acquire(notAfter: deadline) {
                let limit = LegacyPlacesMapping.decimal(configuration.queriesPerSecond)
                throw fail(
                    lastFailure?.status ?? .overQueryLimit,
                    lastFailure?.message
                        ?? "the client-side limit of \(limit) queries per second leaves no slot within the retry "
                        + "budget of \(budget)",
                    attempts: attempts, query: query)
            }
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw fail(
                    lastFailure?.status ?? .unknownError,
                    lastFailure?.message ?? "Google Places did not answer within the retry budget of \(budget)",
                    attempts: attempts, query: query)
            }
            attempts += 1
            let failure: AttemptFailure
            do {
                return try await attempt(query, timeout: min(configuration.requestTimeout, remaining))
            } catch {
                failure = error
            }
            lastFailure = failure.error
            guard failure.retryable, attempts <= configuration.retry.maxRetries else {
                throw fail(failure.error.status, failure.error.message, attempts: attempts, query: query)
            }
            let delay = configuration.retry.backoff(beforeRetry: attempts)
            guard clock.now.advanced(by: delay) < deadline else {
                throw fail(failure.error.status, failure.error.message, attempts: attempts, query: query)
            }
            logger.notice(
                "google places: attempt \(attempts) failed, retrying in \(milliseconds(delay)) ms: \(failure.error.message)",
                metadata: ["status": "\(failure.error.status.rawValue)"])
            try await Task.sleep(for: delay)
        }
    }

    /// A failed attempt, and whether Google asks to try again later.
    struct AttemptFailure: Error {
        var error: PlaceProviderError
        var retryable: Bool
    }

    /// The error for a failed query, logged; the message names the attempts when there were several.
    private func fail(
        _ status: PlacesResponse.Status, _ message: String, attempts: Int, query: PlaceQuery
    ) -> PlaceProviderError {
        let full = configuration.apiKey.redact(attempts > 1 ? "\(message) (after \(attempts) attempts)" : message)
        logger.warning(
            "google places: \(status.rawValue): \(full)",
            metadata: [
                "endpoint": "\(configuration.endpointURL)", "attempts": "\(attempts)",
                "radius_m": "\(LegacyPlacesMapping.decimal(query.radiusMetres))", "limit": "\(query.limit)",
            ])
        return PlaceProviderError(status: status, message: full)
    }

    /// One request to Google and its answer, within `timeout`.
    private func attempt(_ query: PlaceQuery, timeout: Duration) async throws(AttemptFailure) -> PlacesResponse {
        let request = makeRequest(for: query)
        let exchange: Exchange
        do {
            exchange = try await send(request, timeout: timeout)
        } catch {
            throw AttemptFailure(error: transportFailure(error, timeout: timeout), retryable: false)
        }
        let document = try? JSONDecoder().decode(JSONValue.self, from: Data(exchange.body.readableBytesView))
        let code = exchange.status.code
        guard code == 200 else { throw httpFailure(exchange.status, document: document) }
        guard let document else {
            throw AttemptFailure(
                error: PlaceProviderError(
                    status: .unknownError,
                    message: "Google Places sent an answer that is not valid JSON "
                        + "(HTTP 200, \(exchange.body.readableBytes) bytes)"),
                retryable: false)
        }
        do {
            switch configuration.api {
            case .new:
                return try NewPlacesMapping.response(from: document, limit: query.limit)
            case .legacy:
                let response = try LegacyPlacesMapping.response(from: document, limit: query.limit)
                return try legacyOutcome(response)
            }
        } catch let error as AttemptFailure {
            throw error
        } catch {
            throw AttemptFailure(
                error: PlaceProviderError(
                    status: .unknownError, message: "Google Places sent an answer of an unexpected shape: \(error)"),
                retryable: false)
        }
    }

    /// A legacy answer: `OK` and `ZERO_RESULTS` are answers, `OVER_QUERY_LIMIT` is worth a retry, the rest fail.
    private func legacyOutcome(_ response: PlacesResponse) throws(AttemptFailure) -> PlacesResponse {
        switch response.status {
        case .ok, .zeroResults:
            return response
        default:
            let message = response.errorMessage ?? "Google Places answered \(response.status.rawValue)"
            throw AttemptFailure(
                error: PlaceProviderError(status: response.status, message: message),
                retryable: response.status == .overQueryLimit)
        }
    }

    /// An HTTP error status as Google's status: 400 invalid, 401/403 denied, 429 over the limit (retried),
    /// 500/503/504 unknown (retried), anything else unknown.
    private func httpFailure(_ status: HTTPResponseStatus, document: JSONValue?) -> AttemptFailure {
        let details = NewPlacesMapping.errorDetails(from: document)
        var message = "Google Places answered HTTP \(status.code) \(status.reasonPhrase)"
        if let googleStatus = details.status { message += " (\(googleStatus))" }
        if let googleMessage = details.message ?? document?["error_message"]?.stringValue {
            message += ": \(googleMessage)"
        }
        switch status.code {
        case 400: return AttemptFailure(error: .init(status: .invalidRequest, message: message), retryable: false)
        case 401, 403: return AttemptFailure(error: .init(status: .requestDenied, message: message), retryable: false)
        case 429: return AttemptFailure(error: .init(status: .overQueryLimit, message: message), retryable: true)
        case 500, 503, 504:
            return AttemptFailure(error: .init(status: .unknownError, message: message), retryable: true)
        default: return AttemptFailure(error: .init(status: .unknownError, message: message), retryable: false)
        }
    }

    /// A request that got no HTTP answer: timed out, could not connect, or broke off.
    private func transportFailure(_ error: any Error, timeout: Duration) -> PlaceProviderError {
        let message: String
        if error is AttemptTimedOut || (error as? HTTPClientError) == .deadlineExceeded
            || (error as? HTTPClientError) == .readTimeout
        {
            message = "Google Places did not answer within \(milliseconds(timeout)) ms"
        } else if (error as? HTTPClientError) == .connectTimeout {
            message =
                "cannot connect to Google Places at \(endpointHost) within "
                + "\(milliseconds(configuration.connectTimeout)) ms"
        } else if error is NIOTooManyBytesError {
            message = "Google Places sent an answer larger than \(configuration.maximumResponseBytes) bytes"
        } else if let ioError = Self.ioError(in: error) {
            message = "cannot reach Google Places at \(endpointHost): \(String(cString: strerror(ioError.errnoCode)))"
        } else if error is CancellationError || (error as? HTTPClientError) == .cancelled {
            message = "the request to Google Places was cancelled"
        } else {
            message = "the request to Google Places at \(endpointHost) failed: \(error)"
        }
        return PlaceProviderError(status: .unknownError, message: message)
    }

    /// The socket error inside `error` (a refused connection is an `IOError` inside a `NIOConnectionError`).
    private static func ioError(in error: Any, depth: Int = 0) -> IOError? {
        if let ioError = error as? IOError { return ioError }
        guard depth < 6 else { return nil }
        for child in Mirror(reflecting: error).children {
            if let found = ioError(in: child.value, depth: depth + 1) { return found }
        }
        return nil
    }

    private func makeRequest(for query: PlaceQuery) -> HTTPClientRequest {
        var request: HTTPClientRequest
        switch configuration.api {
        case .new:
            request = HTTPClientRequest(url: configuration.endpointURL)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "X-Goog-Api-Key", value: configuration.apiKey.secret)
            request.headers.add(name: "X-Goog-FieldMask", value: configuration.fieldMask)
            request.body = .bytes(ByteBuffer(bytes: NewPlacesMapping.requestBody(for: query)))
        case .legacy:
            request = HTTPClientRequest(
                url: configuration.endpointURL + "?"
                    + LegacyPlacesMapping.queryString(for: query, key: configuration.apiKey))
            request.method = .GET
        }
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "herd")
        return request
    }

    private struct Exchange: Sendable {
        var status: HTTPResponseStatus
        var body: ByteBuffer
    }

    private struct AttemptTimedOut: Error {}

    /// Sends `request` and reads the whole answer, or throws ``AttemptTimedOut`` when that takes longer than
    /// `timeout` (the HTTP client's own deadline covers only the response head, not the body).
    private func send(_ request: HTTPClientRequest, timeout: Duration) async throws -> Exchange {
        let client = self.client
        let limit = configuration.maximumResponseBytes
        return try await withThrowingTaskGroup(of: Exchange.self) { group in
            group.addTask {
                let response = try await client.execute(request, timeout: TimeAmount(timeout))
                let body = try await response.body.collect(upTo: limit)
                return Exchange(status: response.status, body: body)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw AttemptTimedOut()
            }
            defer { group.cancelAll() }
            // The group has two tasks, so next() returns or throws at least once.
            return try await group.next()!
        }
    }

    private func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension GooglePlacesProvider {
    /// Registers `google`. Its options (`provider.options`) are in ``GooglePlacesConfiguration/optionKeys``
    /// and Docs/google-places.md; the API key is read from the environment variable `api_key_env` names.
    ///
    /// - Parameter environment: where the key is looked up; nil (the default) reads the process environment
    ///   when the provider is built.
    public static func register(in registry: inout HerdRegistry, environment: [String: String]? = nil) {
        registry.registerProvider("google") { context in
            try make(context: context, environment: environment ?? ProcessInfo.processInfo.environment)
        }
    }

    /// Builds the provider `context` describes: a ``GooglePlacesProvider`` inside a ``CachingPlaceProvider``
    /// unless `cache_ttl_seconds` is 0.
    public static func make(context: HerdRegistry.Context, environment: [String: String]) throws -> any PlaceProvider {
        let configuration = try GooglePlacesConfiguration(options: context.options, environment: environment)
        let provider = GooglePlacesProvider(configuration: configuration, logger: context.logger)
        let cache =
            configuration.cacheTTL > .zero
            ? "\(configuration.cacheTTL) for up to \(configuration.cacheCapacity) queries" : "off"
        context.logger.info(
            "google places: \(configuration.api.rawValue) API at \(configuration.endpointURL), cache \(cache)")
        guard configuration.cacheTTL > .zero else { return provider }
        return CachingPlaceProvider(
            wrapping: provider, ttl: configuration.cacheTTL, capacity: configuration.cacheCapacity)
    }
}
