import HerdKit
import Logging
import Testing

@testable import Providers

/// WHATSAT through a server's default pipeline with the `google` provider (as the factory builds it, cache
/// included) against the fake: the exact bytes a client gets, for answers and for failures.
@Suite("Google Places: WHATSAT replies")
struct GoogleWhatsatPipelineTests {
    private struct NoPeers: PeerFlooding {
        func announce(_ sequence: UInt64) {}
        func waitUntilAcknowledged(_ sequence: UInt64) async {}
    }

    static let iamat = "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
    static let atLine = "AT Alford +0.263874386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
    static let receivedAt = WallTime(seconds: 1_621_464_828, nanoseconds: 223_372_889)

    /// Runs `lines` from one client through a fresh server's pipeline; the replies as text.
    static func replies(to lines: [String], server: FakePlacesServer) async throws -> [String] {
        var registry = HerdRegistry.core
        GooglePlacesProvider.register(in: &registry, environment: ["GOOGLE_PLACES_API_KEY": GoogleFixtures.key])
        let options = GooglePlacesConfigurationTests.options(GoogleFixtures.factoryOptions(server))
        let context = HerdRegistry.Context(
            options: options, serverName: "Alford", config: HerdConfig.defaultHerd(), logger: GoogleLogRecorder().logger
        )
        let provider = try registry.providers["google"]!(context)
        let google = try #require(
            (provider as? CachingPlaceProvider<ContinuousClock>)?.upstream as? GooglePlacesProvider)
        let handlerContext = HandlerContext(
            serverName: "Alford", store: MemoryStore(), peers: NoPeers(), provider: provider,
            logger: GoogleLogRecorder().logger)
        let pipeline = Pipeline([ParseStage(), DedupeStage(), StoreStage(), FloodStage(), RespondStage()])
        var replies: [String] = []
        do {
            for line in lines {
                let envelope = Envelope(
                    line: Array(line.utf8), origin: .client("127.0.0.1:5000"), receivedAt: receivedAt)
                let reply = try await pipeline.handle(envelope, context: handlerContext)
                replies.append(reply.map { String(decoding: $0.bytes, as: UTF8.self) } ?? "<no reply>")
            }
        } catch {
            try? await google.shutdown()
            throw error
        }
        try await google.shutdown()
        return replies
    }

    @Test("WHATSAT kiwi 10 1: the AT line, Google's nearest place in the legacy shape, an empty line")
    func answer() async throws {
        try await FakePlacesServer.with(otherwise: .json(GoogleFixtures.newAnswer)) { server in
            let replies = try await Self.replies(to: [Self.iamat, "WHATSAT kiwi.cs.ucla.edu 10 1"], server: server)
            #expect(replies[0] == Self.atLine + "\n")
            #expect(
                replies[1] == Self.atLine + "\n" + """
                    {
                       "html_attributions" : [],
                       "results" : [
                          {
                             "business_status" : "OPERATIONAL",
                             "geometry" : {
                                "location" : {
                                   "lat" : 34.0728557,
                                   "lng" : -118.4421581
                                }
                             },
                             "name" : "Royce Hall",
                             "place_id" : "ChIJ9UsgSdO8woARfpIbbUiXw5Y",
                             "plus_code" : {
                                "compound_code" : "2HR5+48 Los Angeles, California",
                                "global_code" : "85632HR5+48"
                             },
                             "rating" : 4.8,
                             "reference" : "ChIJ9UsgSdO8woARfpIbbUiXw5Y",
                             "types" : [
                                "performing_arts_theater",
                                "point_of_interest",
                                "establishment"
                             ],
                             "user_ratings_total" : 1288,
                             "vicinity" : "340 Royce Dr, Los Angeles"
                          }
                       ],
                       "status" : "OK"
                    }
                    """ + "\n\n")
            #expect(
                server.requests.map(\.body) == [
                    #"{"locationRestriction":{"circle":{"center":{"latitude":34.06893,"longitude":-118.445127},"#
                        + #""radius":10000}},"maxResultCount":1}"#
                ])
        }
    }

    @Test("a denied key and a broken answer are replies with the failure, and the server keeps answering")
    func failuresThenAnswer() async throws {
        let denied = FakePlacesServer.Response.json(
            #"{"error": {"code": 403, "message": "API key not valid. Please pass a valid API key.", "#
                + #""status": "INVALID_ARGUMENT"}}"#,
            status: .forbidden)
        let broken = FakePlacesServer.Response.json("<html>Bad gateway</html>")
        try await FakePlacesServer.with([denied, broken], otherwise: .json("{}")) { server in
            let replies = try await Self.replies(
                to: [
                    Self.iamat, "WHATSAT kiwi.cs.ucla.edu 10 5", "WHATSAT kiwi.cs.ucla.edu 10 5",
                    "WHATSAT kiwi.cs.ucla.edu 10 5", "WHATSAT kiwi.cs.ucla.edu 10 5",
                ],
                server: server)
            #expect(
                replies[1] == Self.atLine + "\n" + """
                    {
                       "error_message" : "Google Places answered HTTP 403 Forbidden (INVALID_ARGUMENT): API key not valid. Please pass a valid API key.",
                       "html_attributions" : [],
                       "results" : [],
                       "status" : "REQUEST_DENIED"
                    }
                    """ + "\n\n")
            #expect(
                replies[2] == Self.atLine + "\n" + """
                    {
                       "error_message" : "Google Places sent an answer that is not valid JSON (HTTP 200, 24 bytes)",
                       "html_attributions" : [],
                       "results" : [],
                       "status" : "UNKNOWN_ERROR"
                    }
                    """ + "\n\n")
            let zeroResults = """
                {
                   "html_attributions" : [],
                   "results" : [],
                   "status" : "ZERO_RESULTS"
                }
                """
            #expect(replies[3] == Self.atLine + "\n" + zeroResults + "\n\n")
            // The fourth WHATSAT is answered from the cache: failures were not cached, the answer was.
            #expect(replies[4] == replies[3])
            #expect(server.requests.count == 3)
        }
    }
}
