import HerdKit
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import Providers

/// WHATSAT through a server's default pipeline with the `google` provider (as the factory builds it, cache
/// included) against the fake: the exact bytes a client gets, for answers and for failures.
@Suite("Google Places: WHATSAT replies")
struct GoogleWhatsatPipelineTests {
    /// A server with no neighbour: nothing to flood to, no reply waits.
    private final class NoPeers: PeerFlooding {
        func announce(_ sequence: UInt64) {}
        func acknowledgement(of sequence: UInt64) -> ReplyHold? { nil }
    }

    /// A server's context and default pipeline, made and used on `eventLoop`.
    private final class Server {
        let context: HandlerContext
        let pipeline = Pipeline([ParseStage(), DedupeStage(), StoreStage(), FloodStage(), RespondStage()])

        init(provider: any PlaceProvider, eventLoop: any EventLoop) {
            context = HandlerContext(
                serverName: "Alford", store: MemoryStore(), peers: NoPeers(), provider: provider,
                logger: GoogleLogRecorder().logger, eventLoop: eventLoop)
        }
    }

    static let iamat = "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
    static let atLine = "AT Alford +0.263874386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
    static let receivedAt = WallTime(seconds: 1_621_464_828, nanoseconds: 223_372_889)

    /// A server with the `google` provider as the factory builds it (cache included), on an event loop.
    private struct Setup: Sendable {
        let google: GooglePlacesProvider
        let eventLoop: any EventLoop
        let server: NIOLoopBound<Server>

        /// Runs `line` from a client through the pipeline on the server's loop.
        func handle(_ line: String) async throws -> Response {
            let envelope = Envelope(
                line: Array(line.utf8), origin: .client("127.0.0.1:5000"),
                receivedAt: GoogleWhatsatPipelineTests.receivedAt)
            let server = self.server
            return try await eventLoop.submit { server.value.pipeline.handle(envelope, context: server.value.context) }
                .get()
        }
    }

    /// Runs `body` with a fresh server asking `fake`, and shuts the provider's HTTP client down afterwards.
    private static func withServer<Result>(
        asking fake: FakePlacesServer, _ body: (Setup) async throws -> Result
    ) async throws -> Result {
        var registry = HerdRegistry.core
        GooglePlacesProvider.register(in: &registry, environment: ["GOOGLE_PLACES_API_KEY": GoogleFixtures.key])
        let options = GooglePlacesConfigurationTests.options(GoogleFixtures.factoryOptions(fake))
        let context = HerdRegistry.Context(
            options: options, serverName: "Alford", config: HerdConfig.defaultHerd(), logger: GoogleLogRecorder().logger
        )
        let provider = try registry.providers["google"]!(context)
        let google = try #require(
            (provider as? CachingPlaceProvider<ContinuousClock>)?.upstream as? GooglePlacesProvider)
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        do {
            let server = try await eventLoop.submit {
                NIOLoopBound(Server(provider: provider, eventLoop: eventLoop), eventLoop: eventLoop)
            }.get()
            let result = try await body(Setup(google: google, eventLoop: eventLoop, server: server))
            try await google.shutdown()
            return result
        } catch {
            try? await google.shutdown()
            throw error
        }
    }

    /// Runs `lines` from one client through a fresh server's pipeline, one after another; the replies as text.
    static func replies(to lines: [String], server: FakePlacesServer) async throws -> [String] {
        try await withServer(asking: server) { setup in
            var replies: [String] = []
            for line in lines {
                let reply = try await setup.handle(line).get()
                replies.append(reply.map { String(decoding: $0.bytes, as: UTF8.self) } ?? "<no reply>")
            }
            return replies
        }
    }

    @Test("a WHATSAT waits for Google; its repeat, answered from the cache, comes at once on the event loop")
    func cachedAnswersComeAtOnce() async throws {
        try await FakePlacesServer.with(otherwise: .json(GoogleFixtures.newAnswer)) { server in
            try await Self.withServer(asking: server) { setup in
                let report = try await setup.handle(Self.iamat)
                #expect(report.immediate != nil)
                let first = try await setup.handle("WHATSAT kiwi.cs.ucla.edu 10 1")
                #expect(first.immediate == nil)
                let firstReply = try await first.get()
                let repeated = try await setup.handle("WHATSAT kiwi.cs.ucla.edu 10 1")
                let atOnce = try #require(repeated.immediate, "a cached answer is at hand")
                #expect(atOnce == firstReply)
                #expect(atOnce.map { String(decoding: $0.bytes, as: UTF8.self).hasPrefix(Self.atLine + "\n{") } == true)
            }
            #expect(server.requests.count == 1)
        }
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
