import Testing

@testable import HerdKit

private let kiwiIAMAT = "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
private let kiwiAT = "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
private let client = Envelope.Origin.client("127.0.0.1:50000")
private let fromNext = Reply(bytes: Array("from next".utf8))

/// Runs one stage with a `next` that records what it was given and answers "from next".
private func run(_ stage: some MessageHandler, _ envelope: Envelope, context: HandlerContext) async throws
    -> (reply: String?, passed: Envelope?)
{
    var passed: Envelope?
    let reply = try await stage.handle(envelope, context: context) { envelope, _ in
        passed = envelope
        return fromNext
    }
    return (reply.map { String(decoding: $0.bytes, as: UTF8.self) }, passed)
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
    @Test func iamatFromAClientGetsItsATLine() async throws {
        let herd = Harness()
        let (reply, passed) = try await run(ParseStage(), envelope(kiwiIAMAT), context: herd.context)
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

    @Test func theATLineNamesThisServer() async throws {
        let herd = Harness(server: "Parker")
        let (_, passed) = try await run(ParseStage(), envelope(kiwiIAMAT), context: herd.context)
        #expect(
            text(passed?.update)
                == "AT Parker +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503")
    }

    @Test func whatsatFromAClientHasNoUpdate() async throws {
        let herd = Harness()
        let (reply, passed) = try await run(ParseStage(), envelope("WHATSAT kiwi 10 5"), context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.message == .whatsat(WhatsAt(clientID: ClientID("kiwi"), radiusKilometres: 10, bound: 5)))
        #expect(passed?.update == nil)
    }

    @Test func atFromAPeerIsTheUpdate() async throws {
        let herd = Harness()
        let (reply, passed) = try await run(ParseStage(), envelope(kiwiAT, from: .peer("Welsh")), context: herd.context)
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
    func refused(line: String, origin: Envelope.Origin, expected: String?) async throws {
        let herd = Harness()
        let (reply, passed) = try await run(ParseStage(), envelope(line, from: origin), context: herd.context)
        #expect(reply == expected)
        #expect(passed == nil)
    }

    @Test func aBlankLineStopsWithNoReply() async throws {
        let herd = Harness()
        let (reply, passed) = try await run(ParseStage(), envelope(" \t "), context: herd.context)
        #expect(reply == nil)
        #expect(passed == nil)
    }
}

@Suite("Dedupe stage")
struct DedupeStageTests {
    @Test func anUpdateForANewClientIsNewer() async throws {
        let herd = Harness()
        let (reply, passed) = try await run(DedupeStage(), try parsed(kiwiIAMAT), context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.freshness == .newer)
        #expect(herd.store.count == 0)
    }

    @Test func aNewerUpdateIsNewer() async throws {
        let herd = Harness()
        #expect(herd.store.storeIfNewer(atLine(time: "1621464827.959498502")))
        let (_, passed) = try await run(DedupeStage(), try parsed(kiwiIAMAT), context: herd.context)
        #expect(passed?.freshness == .newer)
    }

    @Test(arguments: ["1621464827.959498503", "1621464827.9594985030", "1621464828"])
    func aStaleClientReportIsMarkedAndPassedOn(storedTime: String) async throws {
        let herd = Harness()
        #expect(herd.store.storeIfNewer(atLine(time: storedTime)))
        let (reply, passed) = try await run(DedupeStage(), try parsed(kiwiIAMAT), context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.freshness == .stale)
    }

    @Test func aStalePeerUpdateStopsHere() async throws {
        let herd = Harness()
        #expect(herd.store.storeIfNewer(atLine(time: "1621464827.959498503")))
        let (reply, passed) = try await run(
            DedupeStage(), try parsed(kiwiAT, from: .peer("Parker")), context: herd.context)
        #expect(reply == nil)
        #expect(passed == nil)
    }

    @Test func aLineWithoutAnUpdatePassesUnchanged() async throws {
        let herd = Harness()
        let (reply, passed) = try await run(DedupeStage(), try parsed("WHATSAT kiwi 10 5"), context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.freshness == .unknown)
    }
}

@Suite("Store stage")
struct StoreStageTests {
    @Test func aNewerUpdateIsStored() async throws {
        let herd = Harness()
        var input = try parsed(kiwiIAMAT)
        input.freshness = .newer
        let (reply, passed) = try await run(StoreStage(), input, context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.stored == true)
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
    }

    @Test func aStaleUpdateIsNotStored() async throws {
        let herd = Harness()
        var input = try parsed(kiwiIAMAT)
        input.freshness = .stale
        let (reply, passed) = try await run(StoreStage(), input, context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.stored == false)
        #expect(herd.store.count == 0)
    }

    @Test func losingARaceToANewerUpdateMarksTheClientReportStale() async throws {
        let herd = Harness()
        var input = try parsed(kiwiIAMAT)
        input.freshness = .newer
        #expect(herd.store.storeIfNewer(atLine(time: "1621464828")))
        let (reply, passed) = try await run(StoreStage(), input, context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.stored == false)
        #expect(passed?.freshness == .stale)
        #expect(
            herd.stored("kiwi.cs.ucla.edu")
                == "AT Bolden +0.500000000 kiwi.cs.ucla.edu +34.068930-118.445127 1621464828")
    }

    @Test func losingARaceStopsAPeerUpdate() async throws {
        let herd = Harness()
        var input = try parsed(kiwiAT, from: .peer("Welsh"))
        input.freshness = .newer
        #expect(herd.store.storeIfNewer(atLine(time: "1621464828")))
        let (reply, passed) = try await run(StoreStage(), input, context: herd.context)
        #expect(reply == nil)
        #expect(passed == nil)
    }

    @Test func aLineWithoutAnUpdateIsNotStored() async throws {
        let herd = Harness()
        let (reply, passed) = try await run(StoreStage(), try parsed("WHATSAT kiwi 10 5"), context: herd.context)
        #expect(reply == "from next")
        #expect(passed?.stored == false)
        #expect(herd.store.count == 0)
    }
}

@Suite("Flood stage")
struct FloodStageTests {
    @Test func aStoredClientReportFloodsToEveryNeighbour() async throws {
        let herd = Harness()
        var input = try parsed(kiwiIAMAT)
        input.sequence = herd.store.store(try #require(input.update), from: nil)
        input.stored = true
        let (reply, passed) = try await run(FloodStage(), input, context: herd.context)
        #expect(reply == "from next")
        #expect(passed != nil)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: kiwiAT, except: nil)])
    }

    @Test func aStoredPeerUpdateFloodsToAllButTheSender() async throws {
        let herd = Harness()
        var input = try parsed(kiwiAT, from: .peer("Welsh"))
        input.sequence = herd.store.store(try #require(input.update), from: "Welsh")
        input.stored = true
        _ = try await run(FloodStage(), input, context: herd.context)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: kiwiAT, except: "Welsh")])
    }

    @Test func anUnstoredUpdateIsNotFlooded() async throws {
        let herd = Harness()
        var input = try parsed(kiwiIAMAT)
        input.freshness = .stale
        let (reply, _) = try await run(FloodStage(), input, context: herd.context)
        #expect(reply == "from next")
        #expect(herd.peers.calls.isEmpty)
    }
}

@Suite("Respond stage")
struct RespondStageTests {
    @Test func iamatIsAnsweredWithItsATLine() async throws {
        let herd = Harness()
        let (reply, passed) = try await run(RespondStage(), try parsed(kiwiIAMAT), context: herd.context)
        #expect(reply == kiwiAT + "\n")
        #expect(passed == nil)
    }

    @Test func aPeerUpdateIsPassedOn() async throws {
        let herd = Harness()
        let (reply, passed) = try await run(
            RespondStage(), try parsed(kiwiAT, from: .peer("Welsh")), context: herd.context)
        #expect(reply == "from next")
        #expect(passed != nil)
    }

    @Test func whatsatForAnUnknownClient() async throws {
        let herd = Harness()
        let (reply, _) = try await run(RespondStage(), try parsed("WHATSAT\tnobody 10 5"), context: herd.context)
        #expect(reply == "? WHATSAT\tnobody 10 5\n")
        #expect(herd.provider.queries.isEmpty)
    }

    @Test func whatsatUsesTheStoredLineAndTheBound() async throws {
        let herd = Harness(
            provider: .response(
                PlacesResponse(results: [.string("one"), .string("two"), .string("three")], nextPageToken: "p2")))
        let stored = atLine(server: "Welsh", skew: "-3.000000001", location: "+12-118", time: "77")
        #expect(herd.store.storeIfNewer(stored))
        let (reply, _) = try await run(
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
}
