import HerdKit
import Logging
import NIOHTTP1
import Testing

@testable import Providers

@Suite("Google Places: retries and failures")
struct GooglePlacesFailureTests {
    static let ok = FakePlacesServer.Response.json(GoogleFixtures.newAnswer)
    static let legacyOK = FakePlacesServer.Response.json(GoogleFixtures.legacyAnswer)

    static let quotaExceeded = FakePlacesServer.Response.json(
        #"{"error": {"code": 429, "message": "Quota exceeded for quota metric 'SearchNearby requests'.", "#
            + #""status": "RESOURCE_EXHAUSTED"}}"#,
        status: .tooManyRequests)

    static let unavailable = FakePlacesServer.Response.json(
        #"{"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}}"#,
        status: .serviceUnavailable)

    static let badKey = FakePlacesServer.Response.json(
        #"{"error": {"code": 403, "message": "API key not valid. Please pass a valid API key.", "#
            + #""status": "PERMISSION_DENIED"}}"#,
        status: .forbidden)

    @Test("HTTP 429 is retried, then the answer is used")
    func retries429() async throws {
        try await FakePlacesServer.with([Self.quotaExceeded], otherwise: Self.ok) { server in
            let log = GoogleLogRecorder()
            let response = try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server), log: log) {
                try await $0.nearbyPlaces(GoogleFixtures.ucla)
            }
            #expect(response.results == GoogleFixtures.newAnswerMapped)
            #expect(server.requests.count == 2)
            #expect(server.requests[0] == server.requests[1])
            #expect(log.entries.contains { $0.level == .notice && $0.message.contains("attempt 1 failed") })
        }
    }

    @Test("HTTP 503 twice is retried, then the answer is used")
    func retries503() async throws {
        try await FakePlacesServer.with([Self.unavailable, Self.unavailable], otherwise: Self.ok) { server in
            let response = try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server)) {
                try await $0.nearbyPlaces(GoogleFixtures.ucla)
            }
            #expect(response.status == .ok)
            #expect(server.requests.count == 3)
        }
    }

    @Test("HTTP 500 and 504 are retried too")
    func retries500And504() async throws {
        let script: [FakePlacesServer.Response] = [
            .json("{}", status: .internalServerError), .json("{}", status: .gatewayTimeout),
        ]
        try await FakePlacesServer.with(script, otherwise: Self.ok) { server in
            let response = try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server)) {
                try await $0.nearbyPlaces(GoogleFixtures.ucla)
            }
            #expect(response.status == .ok)
            #expect(server.requests.count == 3)
        }
    }

    @Test("Legacy OVER_QUERY_LIMIT is retried, then the answer is used")
    func retriesLegacyOverQueryLimit() async throws {
        let overLimit = FakePlacesServer.Response.json(
            #"{"error_message": "You have exceeded your rate-limit for this API.", "html_attributions": [], "#
                + #""results": [], "status": "OVER_QUERY_LIMIT"}"#)
        try await FakePlacesServer.with([overLimit], otherwise: Self.legacyOK) { server in
            let response = try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server, api: .legacy)) {
                try await $0.nearbyPlaces(GoogleFixtures.ucla)
            }
            #expect(response.status == .ok)
            #expect(response.results.count == 3)
            #expect(server.requests.count == 2)
        }
    }

    @Test("HTTP 403 is REQUEST_DENIED with Google's message, logged, and not retried")
    func forbiddenNotRetried() async throws {
        try await FakePlacesServer.with([Self.badKey], otherwise: Self.ok) { server in
            let log = GoogleLogRecorder()
            let error = try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server), log: log) {
                provider in await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
            }
            #expect(
                error
                    == PlaceProviderError(
                        status: .requestDenied,
                        message: "Google Places answered HTTP 403 Forbidden (PERMISSION_DENIED): "
                            + "API key not valid. Please pass a valid API key."))
            #expect(server.requests.count == 1)
            let warnings = log.entries.filter { $0.level == .warning }
            #expect(warnings.count == 1)
            #expect(
                warnings.first?.message.hasPrefix("google places: REQUEST_DENIED: Google Places answered HTTP 403")
                    == true)
            #expect(warnings.first?.metadata.contains("attempts=1") == true)
        }
    }

    @Test("Legacy REQUEST_DENIED is passed on with Google's message and not retried")
    func legacyDeniedNotRetried() async throws {
        let denied = FakePlacesServer.Response.json(
            #"{"error_message": "The provided API key is invalid.", "html_attributions": [], "results": [], "#
                + #""status": "REQUEST_DENIED"}"#)
        try await FakePlacesServer.with([denied], otherwise: Self.legacyOK) { server in
            let error = try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server, api: .legacy)) {
                provider in await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
            }
            #expect(error == PlaceProviderError(status: .requestDenied, message: "The provided API key is invalid."))
            #expect(server.requests.count == 1)
        }
    }

    @Test("Legacy INVALID_REQUEST and HTTP 400 are INVALID_REQUEST, not retried")
    func invalidRequest() async throws {
        let legacyInvalid = FakePlacesServer.Response.json(
            #"{"html_attributions": [], "results": [], "status": "INVALID_REQUEST"}"#)
        try await FakePlacesServer.with([legacyInvalid], otherwise: Self.legacyOK) { server in
            let error = try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server, api: .legacy)) {
                provider in await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
            }
            #expect(
                error == PlaceProviderError(status: .invalidRequest, message: "Google Places answered INVALID_REQUEST"))
            #expect(server.requests.count == 1)
        }
        let badRequest = FakePlacesServer.Response.json(
            #"{"error": {"code": 400, "message": "Invalid radius. Radius must be in (0.0, 50000.0].", "#
                + #""status": "INVALID_ARGUMENT"}}"#,
            status: .badRequest)
        try await FakePlacesServer.with([badRequest], otherwise: Self.ok) { server in
            let error = try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server)) { provider in
                await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
            }
            #expect(
                error
                    == PlaceProviderError(
                        status: .invalidRequest,
                        message: "Google Places answered HTTP 400 Bad Request (INVALID_ARGUMENT): "
                            + "Invalid radius. Radius must be in (0.0, 50000.0]."))
            #expect(server.requests.count == 1)
        }
    }

    @Test("HTTP 429 on every attempt is OVER_QUERY_LIMIT after the retries")
    func quotaExhausted() async throws {
        try await FakePlacesServer.with(otherwise: Self.quotaExceeded) { server in
            let error = try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server, maxRetries: 2)) {
                provider in await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
            }
            #expect(
                error
                    == PlaceProviderError(
                        status: .overQueryLimit,
                        message: "Google Places answered HTTP 429 Too Many Requests (RESOURCE_EXHAUSTED): "
                            + "Quota exceeded for quota metric 'SearchNearby requests'. (after 3 attempts)"))
            #expect(server.requests.count == 3)
        }
    }

    @Test("HTTP 503 on every attempt is UNKNOWN_ERROR after the retries")
    func unavailableThroughout() async throws {
        try await FakePlacesServer.with(otherwise: Self.unavailable) { server in
            let error = try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server, maxRetries: 1)) {
                provider in await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
            }
            #expect(
                error
                    == PlaceProviderError(
                        status: .unknownError,
                        message: "Google Places answered HTTP 503 Service Unavailable (UNAVAILABLE): "
                            + "The service is currently unavailable. (after 2 attempts)"))
            #expect(server.requests.count == 2)
        }
    }

    @Test("no retry starts after the budget: a backoff longer than the budget ends the query at once")
    func budgetStopsRetries() async throws {
        try await FakePlacesServer.with([Self.unavailable], otherwise: Self.ok) { server in
            let configuration = GoogleFixtures.configuration(
                server, maxRetries: 5, budget: .seconds(20), initialBackoff: .seconds(120), maxBackoff: .seconds(120))
            let error = try await GoogleFixtures.withProvider(configuration) { provider in
                await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
            }
            #expect(error?.status == .unknownError)
            #expect(error?.message.hasPrefix("Google Places answered HTTP 503 Service Unavailable") == true)
            #expect(server.requests.count == 1)
        }
    }

    @Test("a retry the client-side rate limit cannot fit in the budget ends the query with the failure")
    func rateLimitedRetry() async throws {
        try await FakePlacesServer.with([Self.unavailable], otherwise: Self.ok) { server in
            var configuration = GoogleFixtures.configuration(server)
            configuration.queriesPerSecond = 0.001  // the next slot is 1000 s away
            let error = try await GoogleFixtures.withProvider(configuration) { provider in
                await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
            }
            #expect(
                error
                    == PlaceProviderError(
                        status: .unknownError,
                        message: "Google Places answered HTTP 503 Service Unavailable (UNAVAILABLE): "
                            + "The service is currently unavailable."))
            #expect(server.requests.count == 1)
        }
    }

    @Test("a timeout is UNKNOWN_ERROR naming it, and the next query is served")
    func timeout() async throws {
        try await FakePlacesServer.with([.hang], otherwise: Self.ok) { server in
            let log = GoogleLogRecorder()
            let configuration = GoogleFixtures.configuration(server, requestTimeout: .seconds(1))
            try await GoogleFixtures.withProvider(configuration, log: log) { provider in
                let error = await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
                #expect(
                    error
                        == PlaceProviderError(
                            status: .unknownError, message: "Google Places did not answer within 1000 ms"))
                #expect(log.entries.contains { $0.level == .warning && $0.message.contains("within 1000 ms") })

                let next = try await GoogleFixtures.eventualAnswer(provider)
                #expect(next.results == GoogleFixtures.newAnswerMapped)
            }
            #expect(server.requests.count >= 2)
        }
    }

    @Test("a late answer and a stalled body both count against the timeout", arguments: [true, false])
    func slowAnswer(stalledBody: Bool) async throws {
        let timing: FakePlacesServer.Response.Timing = stalledBody ? .bodyAfter(.seconds(5)) : .after(.seconds(5))
        let late = FakePlacesServer.Response.json(GoogleFixtures.newAnswer, timing: timing)
        try await FakePlacesServer.with([late], otherwise: Self.ok) { server in
            let configuration = GoogleFixtures.configuration(server, requestTimeout: .seconds(1))
            try await GoogleFixtures.withProvider(configuration) { provider in
                let error = await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
                #expect(error?.message == "Google Places did not answer within 1000 ms")
                let next = try await GoogleFixtures.eventualAnswer(provider)
                #expect(next.status == .ok)
            }
            #expect(server.requests.count >= 2)
        }
    }

    @Test("a refused connection is UNKNOWN_ERROR naming it, and queries succeed once Google is back")
    func refusedConnection() async throws {
        let gone = try await FakePlacesServer.start()
        let port = gone.port
        try await gone.stop()

        let log = GoogleLogRecorder()
        let configuration = GoogleFixtures.configuration(
            baseURL: "http://127.0.0.1:\(port)", connectTimeout: .milliseconds(500))
        try await GoogleFixtures.withProvider(configuration, log: log) { provider in
            let error = await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
            #expect(error?.status == .unknownError)
            #expect(error?.message == "cannot reach Google Places at 127.0.0.1:\(port): Connection refused")
            #expect(log.entries.contains { $0.level == .warning && $0.message.contains("Connection refused") })

            try await FakePlacesServer.with(otherwise: Self.ok, port: port) { server in
                let response = try await provider.nearbyPlaces(GoogleFixtures.ucla)
                #expect(response.results == GoogleFixtures.newAnswerMapped)
                #expect(server.requests.count == 1)
            }
        }
    }

    @Test("malformed JSON is UNKNOWN_ERROR naming it, and the next query is served")
    func malformedJSON() async throws {
        try await FakePlacesServer.with([.json(#"{"places": ["#)], otherwise: Self.ok) { server in
            try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server)) { provider in
                let error = await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
                #expect(
                    error
                        == PlaceProviderError(
                            status: .unknownError,
                            message: "Google Places sent an answer that is not valid JSON (HTTP 200, 12 bytes)"))
                let next = try await provider.nearbyPlaces(GoogleFixtures.ucla)
                #expect(next.status == .ok)
            }
            #expect(server.requests.count == 2)
        }
    }

    @Test("JSON of the wrong shape is UNKNOWN_ERROR", arguments: ["[]", #"{"places": {}}"#, #"{"places": [1]}"#])
    func wrongShape(answer: String) async throws {
        try await FakePlacesServer.with([.json(answer)]) { server in
            let error = try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server)) { provider in
                await GoogleFixtures.providerError { try await provider.nearbyPlaces(GoogleFixtures.ucla) }
            }
            #expect(error?.status == .unknownError)
            #expect(error?.message.hasPrefix("Google Places sent an answer of an unexpected shape: ") == true)
        }
    }

    @Test("the key appears in no error message and no log record")
    func keyNeverShown() async throws {
        let log = GoogleLogRecorder()
        var messages: [String] = []
        // Legacy requests carry the key in the URL; the fake echoes it back in its error message.
        let echo = FakePlacesServer.Response.json(
            #"{"error_message": "Key \#(GoogleFixtures.key) is not allowed.", "results": [], "#
                + #""status": "REQUEST_DENIED"}"#)
        try await FakePlacesServer.with([echo, .json("{}", status: .forbidden), .hang]) { server in
            for api in [GooglePlacesAPI.legacy, .legacy, .new] {
                // Only the last one hangs; the others have time to spare on a busy machine.
                let configuration = GoogleFixtures.configuration(
                    server, api: api, requestTimeout: api == .new ? .seconds(1) : .seconds(30))
                try await GoogleFixtures.withProvider(configuration, log: log) { provider in
                    let error = await GoogleFixtures.providerError {
                        try await provider.nearbyPlaces(GoogleFixtures.ucla)
                    }
                    messages.append(error?.description ?? "")
                }
            }
        }
        #expect(messages[0] == "REQUEST_DENIED: Key <redacted> is not allowed.")
        #expect(messages[1] == "REQUEST_DENIED: Google Places answered HTTP 403 Forbidden")
        #expect(messages[2] == "UNKNOWN_ERROR: Google Places did not answer within 1000 ms")
        #expect(log.entries.filter { $0.level == .warning }.count == 3)
        #expect(!log.text.contains(GoogleFixtures.key))
        #expect(!log.text.contains("key="))
        #expect(!messages.joined().contains(GoogleFixtures.key))
    }

    @Test("the configuration's description hides the key")
    func configurationHidesKey() {
        let configuration = GoogleFixtures.configuration(baseURL: "http://127.0.0.1:1")
        #expect(!String(describing: configuration).contains(GoogleFixtures.key))
        #expect(!String(reflecting: configuration).contains(GoogleFixtures.key))
        #expect("\(configuration.apiKey)" == "<redacted>")
    }
}
