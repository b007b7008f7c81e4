import Synchronization
import Testing

@testable import HerdKit

private let kiwiIAMAT = "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
private let kiwiAT = "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
private let client = Envelope.Origin.client("127.0.0.1:50000")
private let fromNext = Reply(bytes: Array("from next".utf8))

/// What reached the stage after the one under test.
private final class Passed: Sendable {
    private let envelope = Mutex<Envelope?>(nil)

    func record(_ envelope: Envelope) { self.envelope.withLock { $0 = envelope } }
    var value: Envelope? { envelope.withLock { $0 } }
}

/// The rest of a pipeline, as a test sees it: records what it was given and answers "from next".
private struct RecordingNext: MessageHandler {
    let passed: Passed

    func handle(_ envelope: Envelope, context: HandlerContext, next: Next) -> Response {
        passed.record(envelope)
        return .reply(fromNext)
    }
}

/// Runs one stage with a `next` that records what it was given and answers "from next". The stage must
/// answer at once.
private func runWithReply(
    _ stage: some MessageHandler, _ envelope: Envelope, context: HandlerContext,
    sourceLocation: SourceLocation = #_sourceLocation
) -> (reply: Reply?, passed: Envelope?) {
    let passed = Passed()
    let response = Pipeline([stage, RecordingNext(passed: passed)]).handle(envelope, context: context)
    guard let reply = response.immediate else {
        Issue.record("the stage did not answer at once", sourceLocation: sourceLocation)
        return (nil, passed.value)
    }
    return (reply, passed.value)
}

/// As ``runWithReply(_:_:context:sourceLocation:)``, with the reply as text.
private func run(
    _ stage: some MessageHandler, _ envelope: Envelope, context: HandlerContext,
    sourceLocation: SourceLocation = #_sourceLocation
) -> (reply: String?, passed: Envelope?) {
    let (reply, passed) = runWithReply(stage, envelope, context: context, sourceLocation: sourceLocation)
    return (reply.map(text), passed)
}

private func envelope(_ line: String, from origin: Envelope.Origin = client) -> Envelope {
    Envelope(line: Array(line.utf8), origin: origin, receivedAt: Harness.receivedAt)
}

/// An envelope as the parse stage leaves it.
private func parsed(_ line: String, from origin: Envelope.Origin = client, server: String = "Alford") throws
    -> Envelope
{
    var result = envelope(line, from: origin)
    let message = try #require(try MessageParser.parse(result.line))
    result.message = message
    switch message {
    case .iamat(let report): result.update = report.atLine(server: server, receivedAt: result.receivedAt)
    case .at(let line): result.update = line
    case .whatsat: break
    }
    return result
}

private func text(_ line: ATLine?) -> String? {
    line.map { String(decoding: $0.bytes, as: UTF8.self) }
}

@Suite("Parse stage")
struct ParseStageTests {
    @Test func iamatFromAClientGetsItsATLine() throws {
        let herd = Harness()
        let (reply, passed) = run(ParseStage(), envelope(kiwiIAMAT), context: herd.context)
        #expect(reply == "from next")
        let next = try #require(passed)
        #expect(text(next.update) == kiwiAT)
        guard case .iamat(let report)? = next.message else {
            Issue.record("expected IAMAT, got \(String(describing: next.message))")
            return
        }
        #expect(report.clientID == ClientID("kiwi.cs.ucla.edu"))
        #expect(next.freshness == .unknown)
        #expect(!next.stored)
    }

    @Test func theATLineNamesThisServer() throws {
        let herd = Harness(server: "Parker")
        let (_, passed) = run(ParseStage(), envelope(kiwiIAMAT), context: herd.context)
        #expect(
            text(passed?.update)
                == "AT Parker +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503")
    }

    @Test func whatsatFromAClientHasNoUpdate() throws {
        let herd = Harness()
        let (reply, passed) = run(ParseStage(), envelope("WHATSAT kiwi 10 5"), context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.message == .whatsat(WhatsAt(clientID: ClientID("kiwi"), radiusKilometres: 10, bound: 5)))
        #expect(passed?.update == nil)
    }

    @Test func atFromAPeerIsTheUpdate() throws {
        let herd = Harness()
        let (reply, passed) = run(ParseStage(), envelope(kiwiAT, from: .peer("Welsh")), context: herd.context)
        #expect(reply == "from next")
        #expect(text(passed?.update) == kiwiAT)
        #expect(passed?.update?.server == "Alford")
    }

    @Test(
        "Refused lines stop at parse: clients get ? and the line, peers get nothing",
        arguments: [
            (kiwiAT, client, "? \(kiwiAT)\n" as String?),
            ("WHATSAT kiwi 0 5", client, "? WHATSAT kiwi 0 5\n"),
            (" bogus\t", client, "? bogus\n"),
            (kiwiIAMAT, Envelope.Origin.peer("Welsh"), nil),
            ("WHATSAT kiwi 10 5", .peer("Welsh"), nil),
            ("bogus", .peer("Welsh"), nil),
        ])
    func refused(line: String, origin: Envelope.Origin, expected: String?) throws {
        let herd = Harness()
        let (reply, passed) = run(ParseStage(), envelope(line, from: origin), context: herd.context)
        #expect(reply == expected)
        #expect(passed == nil)
    }

    @Test func aBlankLineStopsWithNoReply() throws {
        let herd = Harness()
        let (reply, passed) = run(ParseStage(), envelope(" \t "), context: herd.context)
        #expect(reply == nil)
        #expect(passed == nil)
    }

    /// PROTOCOL.md section 2: a skew is an explicit sign, digits, a dot and exactly nine digits, and a peer's AT
    /// line is checked as strictly as one this server makes.
    @Test(
        "A peer's AT line with a skew not of the protocol's form is refused",
        arguments: [
            "+0.26387338", "+0.2638733860", "0.263873386", "+.263873386", "+0.", "+0", "+1e3", "-", "+-0.263873386",
            "++0.263873386", "+0,263873386", "+0.26387338x", "+0x1.000000000", "+0.263873386.1",
        ])
    func aPeerLineWithALooseSkewIsRefused(skew: String) throws {
        let herd = Harness()
        let line = "AT Bolden \(skew) kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
        let (reply, passed) = run(ParseStage(), envelope(line, from: .peer("Welsh")), context: herd.context)
        #expect(reply == nil)
        #expect(passed == nil)
    }

    @Test(
        "A peer's AT line with a skew of the protocol's form is accepted",
        arguments: ["+0.263873386", "-0.000000100", "+0.000000000", "-1621464827.959498503", "+0000.000000001"])
    func aPeerLineWithAStrictSkewIsAccepted(skew: String) throws {
        let herd = Harness()
        let line = "AT Bolden \(skew) kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
        let (reply, passed) = run(ParseStage(), envelope(line, from: .peer("Welsh")), context: herd.context)
        #expect(reply == "from next")
        #expect(text(passed?.update) == line)
    }

    @Test(
        "A peer's line byte for byte the stored record is dropped before it is parsed",
        arguments: [kiwiAT, kiwiAT + "\r", " \t" + kiwiAT + " "])
    func aPeerLineAlreadyStoredIsDropped(line: String) throws {
        let herd = Harness()
        #expect(herd.store.store(parsedATLine(kiwiAT), from: "Parker") == 1)
        let (reply, passed) = run(ParseStage(), envelope(line, from: .peer("Welsh")), context: herd.context)
        #expect(reply == nil)
        #expect(passed == nil)
    }

    @Test func aPeerLineThatDiffersFromTheStoredRecordIsParsed() throws {
        let herd = Harness()
        #expect(herd.store.store(parsedATLine(kiwiAT), from: "Parker") == 1)
        for line in [
            "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498504",
            "AT Alford  +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503",
            "AT Alford +0.263873386 kiwi.cs.ucla.ed +34.068930-118.445127 1621464827.959498503",
        ] {
            let (reply, passed) = run(ParseStage(), envelope(line, from: .peer("Welsh")), context: herd.context)
            #expect(reply == "from next", "\(line)")
            #expect(passed?.update != nil, "\(line)")
        }
    }

    @Test func aClientSendingTheStoredLineIsStillRefused() throws {
        let herd = Harness()
        #expect(herd.store.store(parsedATLine(kiwiAT), from: "Parker") == 1)
        let (reply, passed) = run(ParseStage(), envelope(kiwiAT), context: herd.context)
        #expect(reply == "? \(kiwiAT)\n")
        #expect(passed == nil)
    }
}

@Suite("Dedupe stage")
struct DedupeStageTests {
    @Test func anUpdateForANewClientIsNewer() throws {
        let herd = Harness()
        let (reply, passed) = run(DedupeStage(), try parsed(kiwiIAMAT), context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.freshness == .newer)
        #expect(herd.store.count == 0)
    }

    @Test func aNewerUpdateIsNewer() throws {
        let herd = Harness()
        #expect(herd.store.storeIfNewer(atLine(time: "1621464827.959498502")))
        let (_, passed) = run(DedupeStage(), try parsed(kiwiIAMAT), context: herd.context)
        #expect(passed?.freshness == .newer)
    }

    @Test(arguments: ["1621464827.959498503", "1621464827.9594985030", "1621464828"])
    func aStaleClientReportIsMarkedAndPassedOn(storedTime: String) throws {
        let herd = Harness()
        #expect(herd.store.storeIfNewer(atLine(time: storedTime)))
        let (reply, passed) = run(DedupeStage(), try parsed(kiwiIAMAT), context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.freshness == .stale)
    }

    @Test func aStalePeerUpdateStopsHere() throws {
        let herd = Harness()
        #expect(herd.store.storeIfNewer(atLine(time: "1621464827.959498503")))
        let (reply, passed) = run(
            DedupeStage(), try parsed(kiwiAT, from: .peer("Parker")), context: herd.context)
        #expect(reply == nil)
        #expect(passed == nil)
    }

    @Test func aLineWithoutAnUpdatePassesUnchanged() throws {
        let herd = Harness()
        let (reply, passed) = run(DedupeStage(), try parsed("WHATSAT kiwi 10 5"), context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.freshness == .unknown)
    }
}

@Suite("Store stage")
struct StoreStageTests {
    @Test func aNewerUpdateIsStored() throws {
        let herd = Harness()
        var input = try parsed(kiwiIAMAT)
        input.freshness = .newer
        let (reply, passed) = run(StoreStage(), input, context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.stored == true)
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
    }

    @Test func aStaleUpdateIsNotStored() throws {
        let herd = Harness()
        var input = try parsed(kiwiIAMAT)
        input.freshness = .stale
        let (reply, passed) = run(StoreStage(), input, context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.stored == false)
        #expect(herd.store.count == 0)
    }

    @Test func losingARaceToANewerUpdateMarksTheClientReportStale() throws {
        let herd = Harness()
        var input = try parsed(kiwiIAMAT)
        input.freshness = .newer
        #expect(herd.store.storeIfNewer(atLine(time: "1621464828")))
        let (reply, passed) = run(StoreStage(), input, context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.stored == false)
        #expect(passed?.freshness == .stale)
        #expect(
            herd.stored("kiwi.cs.ucla.edu")
                == "AT Bolden +0.500000000 kiwi.cs.ucla.edu +34.068930-118.445127 1621464828")
    }

    @Test func losingARaceStopsAPeerUpdate() throws {
        let herd = Harness()
        var input = try parsed(kiwiAT, from: .peer("Welsh"))
        input.freshness = .newer
        #expect(herd.store.storeIfNewer(atLine(time: "1621464828")))
        let (reply, passed) = run(StoreStage(), input, context: herd.context)
        #expect(reply == nil)
        #expect(passed == nil)
    }

    @Test func aLineWithoutAnUpdateIsNotStored() throws {
        let herd = Harness()
        let (reply, passed) = run(StoreStage(), try parsed("WHATSAT kiwi 10 5"), context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.stored == false)
        #expect(herd.store.count == 0)
    }
}

@Suite("Flood stage")
struct FloodStageTests {
    @Test func aStoredClientReportFloodsToEveryNeighbourAndItsReplyWaitsForThem() throws {
        let herd = Harness()
        var input = try parsed(kiwiIAMAT)
        input.sequence = herd.store.store(try #require(input.update), from: nil)
        input.stored = true
        let (reply, passed) = runWithReply(FloodStage(), input, context: herd.context)
        #expect(reply.map(text) == "from next")
        #expect(reply?.hold == ReplyHold(gate: herd.peers.gate, mark: 1))
        #expect(passed != nil)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: kiwiAT, except: nil)])
        #expect(herd.peers.acknowledgementsAsked == [1])
    }

    @Test func aStoredPeerUpdateFloodsToAllButTheSenderAndWaitsForNothing() throws {
        let herd = Harness()
        var input = try parsed(kiwiAT, from: .peer("Welsh"))
        input.sequence = herd.store.store(try #require(input.update), from: "Welsh")
        input.stored = true
        let (reply, _) = runWithReply(FloodStage(), input, context: herd.context)
        #expect(reply?.hold == nil)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: kiwiAT, except: "Welsh")])
        #expect(herd.peers.acknowledgementsAsked.isEmpty)
    }

    @Test func anUnstoredUpdateIsNotFlooded() throws {
        let herd = Harness()
        var input = try parsed(kiwiIAMAT)
        input.freshness = .stale
        let (reply, _) = runWithReply(FloodStage(), input, context: herd.context)
        #expect(reply.map(text) == "from next")
        #expect(reply?.hold == nil)
        #expect(herd.peers.calls.isEmpty)
        #expect(herd.peers.acknowledgementsAsked.isEmpty)
    }
}

@Suite("Respond stage")
struct RespondStageTests {
    @Test func iamatIsAnsweredWithItsATLine() throws {
        let herd = Harness()
        let (reply, passed) = run(RespondStage(), try parsed(kiwiIAMAT), context: herd.context)
        #expect(reply == kiwiAT + "\n")
        #expect(passed == nil)
    }

    @Test func aPeerUpdateIsPassedOn() throws {
        let herd = Harness()
        let (reply, passed) = run(
            RespondStage(), try parsed(kiwiAT, from: .peer("Welsh")), context: herd.context)
        #expect(reply == "from next")
        #expect(passed != nil)
    }

    @Test func whatsatForAnUnknownClient() throws {
        let herd = Harness()
        let (reply, _) = run(RespondStage(), try parsed("WHATSAT\tnobody 10 5"), context: herd.context)
        #expect(reply == "? WHATSAT\tnobody 10 5\n")
        #expect(herd.provider.queries.isEmpty)
    }

    @Test func whatsatUsesTheStoredLineAndTheBound() throws {
        let herd = Harness(
            provider: .response(
                PlacesResponse(results: [.string("one"), .string("two"), .string("three")], nextPageToken: "p2")))
        let stored = atLine(server: "Welsh", skew: "-3.000000001", location: "+12-118", time: "77")
        #expect(herd.store.storeIfNewer(stored))
        let (reply, _) = run(
            RespondStage(), try parsed("WHATSAT kiwi.cs.ucla.edu 1.5 1"), context: herd.context)
        #expect(
            reply == """
                AT Welsh -3.000000001 kiwi.cs.ucla.edu +12-118 77
                {
                   "html_attributions" : [],
                   "next_page_token" : "p2",
                   "results" : [
                      "one"
                   ],
                   "status" : "OK"
                }


                """)
        #expect(herd.provider.queries == [PlaceQuery(latitude: 12, longitude: -118, radiusMetres: 1500, limit: 1)])
    }

    @Test func whatsatWithAProviderThatMustBeWaitedForIsAnsweredLater() async throws {
        let herd = try await LoopHarness.make(
            provider: .response(PlacesResponse(results: [.string("one"), .string("two")])), answersAtOnce: false)
        let (pending, response) = try await herd.onLoop { herd in
            _ = herd.store.storeIfNewer(atLine(server: "Welsh", skew: "-3.000000001", location: "+12-118", time: "77"))
            let envelope = try parsed("WHATSAT kiwi.cs.ucla.edu 1.5 1")
            let response = Pipeline([RespondStage()]).handle(envelope, context: herd.context)
            return (response.immediate == nil, response)
        }
        #expect(pending)
        let reply = try await response.get()
        #expect(
            reply.map(text) == """
                AT Welsh -3.000000001 kiwi.cs.ucla.edu +12-118 77
                {
                   "html_attributions" : [],
                   "results" : [
                      "one"
                   ],
                   "status" : "OK"
                }


                """)
        #expect(herd.provider.queries == [PlaceQuery(latitude: 12, longitude: -118, radiusMetres: 1500, limit: 1)])
    }
}
