import NIOEmbedded
import Testing

@testable import HerdKit

private let kiwiIAMAT = "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
private let kiwiAT = "AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
private let client = Envelope.Origin.client("127.0.0.1:50000")

private func names(_ names: String...) -> [JSONValue] {
    names.map { .object(["name": .string($0)]) }
}

@Suite("Default pipeline")
struct PipelineTests {
    @Test func iamatFromAClientIsStoredFloodedAndAnswered() throws {
        let herd = Harness()
        let reply = herd.run(kiwiIAMAT, from: client)
        #expect(reply == kiwiAT + "\n")
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: kiwiAT, except: nil)])
        #expect(herd.store.count == 1)
    }

    @Test func theFloodHappensBeforeTheReply() throws {
        let herd = Harness()
        _ = herd.run(kiwiIAMAT, from: client)
        #expect(herd.log.all == ["flood", "respond"])
    }

    @Test func aDuplicateIAMATIsAnsweredButNeitherStoredNorFlooded() throws {
        let herd = Harness()
        _ = herd.run(kiwiIAMAT, from: client)
        let later = WallTime(seconds: 1_621_464_830, nanoseconds: 0)
        let reply = herd.run(kiwiIAMAT, from: client, at: later)
        #expect(reply == "AT Alford +2.040501497 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503\n")
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
        #expect(herd.peers.calls.count == 1)
    }

    @Test func aStaleIAMATIsAnsweredButNeitherStoredNorFlooded() throws {
        let herd = Harness()
        _ = herd.run(kiwiIAMAT, from: client)
        let reply = herd.run("IAMAT kiwi.cs.ucla.edu +10-20 1621464827.959498502", from: client)
        #expect(reply == "AT Alford +0.263873387 kiwi.cs.ucla.edu +10-20 1621464827.959498502\n")
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: kiwiAT, except: nil)])
    }

    @Test func aNewerIAMATReplacesTheStoredLine() throws {
        let herd = Harness()
        _ = herd.run(kiwiIAMAT, from: client)
        let reply = herd.run("IAMAT kiwi.cs.ucla.edu +10-20 1621464827.9594985031", from: client)
        let newer = "AT Alford +0.263873385 kiwi.cs.ucla.edu +10-20 1621464827.9594985031"
        #expect(reply == newer + "\n")
        #expect(herd.stored("kiwi.cs.ucla.edu") == newer)
        #expect(herd.peers.calls.map(\.line) == [kiwiAT, newer])
    }

    @Test func aNewerPeerUpdateIsStoredAndFloodedToAllButTheSenderWithNoReply() throws {
        let herd = Harness()
        let update = "AT Bolden -0.000000100 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
        let reply = herd.run(update, from: .peer("Parker"))
        #expect(reply == nil)
        #expect(herd.stored("kiwi.cs.ucla.edu") == update)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: update, except: "Parker")])
    }

    @Test func aPeerUpdateWithACarriageReturnIsStoredWithoutIt() throws {
        let herd = Harness()
        let reply = herd.run(kiwiAT + "\r", from: .peer("Parker"))
        #expect(reply == nil)
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: kiwiAT, except: "Parker")])
    }

    @Test(
        "A stale or duplicate peer update is dropped: no store, no flood, no reply",
        arguments: ["1621464827.959498503", "1621464827.959498502", "1000"])
    func aStalePeerUpdateStops(time: String) throws {
        let herd = Harness()
        _ = herd.run(kiwiIAMAT, from: client)
        // "AT Abbot" sorts before "AT Alford": with an equal time the stored line wins the tie-break too.
        let update = "AT Abbot +0.100000000 kiwi.cs.ucla.edu +1-1 \(time)"
        let reply = herd.run(update, from: .peer("Welsh"))
        #expect(reply == nil)
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
        #expect(herd.peers.calls.count == 1)
        #expect(herd.log.all == ["flood", "respond"])
    }

    @Test func aPeerUpdateWithTheSameTimeAndGreaterBytesReplacesTheStoredLine() throws {
        let herd = Harness()
        _ = herd.run(kiwiIAMAT, from: client)
        let update = "AT Welsh +0.100000000 kiwi.cs.ucla.edu +1-1 1621464827.959498503"
        #expect(herd.run(update, from: .peer("Welsh")) == nil)
        #expect(herd.stored("kiwi.cs.ucla.edu") == update)
        #expect(herd.peers.calls.last == RecordingPeers.Call(line: update, except: "Welsh"))
        // The client repeating its report is still a duplicate: answered, the peer's line kept.
        #expect(herd.run(kiwiIAMAT, from: client) == kiwiAT + "\n")
        #expect(herd.stored("kiwi.cs.ucla.edu") == update)
        #expect(herd.peers.calls.count == 2)
    }

    @Test func aClientsReplyWaitsForTheNeighboursToAcknowledgeItsUpdate() throws {
        let herd = Harness()
        let first = try #require(herd.reply(kiwiIAMAT, from: client))
        #expect(first.hold == ReplyHold(gate: herd.peers.gate, mark: 1))
        #expect(first.hold?.isOpen == false)
        herd.peers.gate.open(through: 1)
        #expect(first.hold?.isOpen == true)
        // A duplicate is not flooded, so its reply waits for nothing.
        let duplicate = try #require(herd.reply(kiwiIAMAT, from: client))
        #expect(duplicate.hold == nil)
        #expect(herd.peers.acknowledgementsAsked == [1])
    }

    @Test func withNoNeighbourToWaitForTheReplyIsNotHeld() throws {
        let herd = Harness()
        herd.peers.holdsReplies = false
        let reply = try #require(herd.reply(kiwiIAMAT, from: client))
        #expect(text(reply) == kiwiAT + "\n")
        #expect(reply.hold == nil)
        #expect(herd.peers.announced == [1])
    }

    @Test func aPeerUpdateIsFloodedWithoutWaitingForAnAcknowledgement() throws {
        let herd = Harness()
        #expect(herd.run(kiwiAT, from: .peer("Parker")) == nil)
        #expect(herd.peers.announced == [1])
        #expect(herd.peers.acknowledgementsAsked.isEmpty)
    }

    @Test func anATFromAClientIsInvalid() throws {
        let herd = Harness()
        let reply = herd.run(" " + kiwiAT + "\t", from: client)
        #expect(reply == "? " + kiwiAT + "\n")
        #expect(herd.store.count == 0)
        #expect(herd.peers.calls.isEmpty)
    }

    @Test(
        "Peers may send only AT lines; anything else gets no reply and changes nothing",
        arguments: [
            kiwiIAMAT, "WHATSAT kiwi.cs.ucla.edu 10 5", "garbage", "AT Alford +0.1 kiwi +1-1",
            "AT Alford +0.1 kiwi +1-1 5",
        ])
    func nonATFromAPeer(line: String) throws {
        let herd = Harness()
        let reply = herd.run(line, from: .peer("Parker"))
        #expect(reply == nil)
        #expect(herd.store.count == 0)
        #expect(herd.peers.calls.isEmpty)
        #expect(herd.provider.queries.isEmpty)
    }

    @Test(arguments: ["", "   ", "\t\r"])
    func blankLinesGetNoReply(line: String) throws {
        let herd = Harness()
        #expect(herd.run(line, from: client) == nil)
        #expect(herd.log.all.isEmpty)
    }

    @Test(
        "Invalid client lines are answered with ? and the stripped line",
        arguments: [
            ("  iamat kiwi +34-118 1 \r", "? iamat kiwi +34-118 1\n"),
            ("IAMAT kiwi +34-118", "? IAMAT kiwi +34-118\n"),
            ("WHATSAT kiwi.cs.ucla.edu 51 5", "? WHATSAT kiwi.cs.ucla.edu 51 5\n"),
            ("WHATSAT\tkiwi.cs.ucla.edu  10 21", "? WHATSAT\tkiwi.cs.ucla.edu  10 21\n"),
        ])
    func invalidClientLines(line: String, expected: String) throws {
        let herd = Harness()
        #expect(herd.run(line, from: client) == expected)
        #expect(herd.store.count == 0)
        #expect(herd.peers.calls.isEmpty)
    }

    @Test func whatsatForAnUnknownClientIsInvalid() throws {
        let herd = Harness()
        _ = herd.run(kiwiIAMAT, from: client)
        let reply = herd.run("WHATSAT  stranger 10 5 ", from: client)
        #expect(reply == "? WHATSAT  stranger 10 5\n")
        #expect(herd.provider.queries.isEmpty)
    }

    @Test func whatsatForAKnownClient() throws {
        let herd = Harness(provider: .response(PlacesResponse(results: names("A", "B", "C"))))
        _ = herd.run(kiwiIAMAT, from: client)
        let later = WallTime(seconds: 1_621_464_900, nanoseconds: 0)
        let reply = herd.run("WHATSAT kiwi.cs.ucla.edu 10 2", from: client, at: later)
        #expect(
            reply == """
                AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503
                {
                   "html_attributions" : [],
                   "results" : [
                      {
                         "name" : "A"
                      },
                      {
                         "name" : "B"
                      }
                   ],
                   "status" : "OK"
                }


                """)
        #expect(
            herd.provider.queries == [
                PlaceQuery(latitude: 34.068930, longitude: -118.445127, radiusMetres: 10_000, limit: 2)
            ])
        #expect(herd.peers.calls.count == 1)
    }

    @Test(
        "The provider gets the radius in metres and the bound as its limit",
        arguments: [("10", "5", 10_000.0, 5), ("0.5", "1", 500.0, 1), ("50", "20", 50_000.0, 20)])
    func providerQuery(radius: String, bound: String, metres: Double, limit: Int) throws {
        let herd = Harness()
        _ = herd.run(kiwiIAMAT, from: client)
        _ = herd.run("WHATSAT kiwi.cs.ucla.edu \(radius) \(bound)", from: client)
        #expect(herd.provider.queries.map(\.radiusMetres) == [metres])
        #expect(herd.provider.queries.map(\.limit) == [limit])
    }

    @Test func whatsatAnswersWithTheStoredLineOfTheServerThatReceivedTheIAMAT() throws {
        let herd = Harness(server: "Hamilton")
        let update = "AT Bolden -0.000000100 kiwi.cs.ucla.edu +27.5916+086.5640 1621464827.959498503"
        _ = herd.run(update, from: .peer("Parker"))
        let reply = try #require(herd.run("WHATSAT kiwi.cs.ucla.edu 10 5", from: client))
        #expect(
            reply == """
                \(update)
                {
                   "html_attributions" : [],
                   "results" : [],
                   "status" : "ZERO_RESULTS"
                }


                """)
        #expect(
            herd.provider.queries == [
                PlaceQuery(latitude: 27.5916, longitude: 86.5640, radiusMetres: 10_000, limit: 5)
            ])
    }

    @Test func theProviderFailingWithAPlacesStatus() async throws {
        let herd = try await LoopHarness.make(
            provider: .failure(PlaceProviderError(status: .overQueryLimit, message: "You have exceeded your quota.")))
        _ = try await herd.run(kiwiIAMAT, from: client)
        let reply = try await herd.run("WHATSAT kiwi.cs.ucla.edu 10 5", from: client)
        #expect(
            reply == """
                \(kiwiAT)
                {
                   "error_message" : "You have exceeded your quota.",
                   "html_attributions" : [],
                   "results" : [],
                   "status" : "OVER_QUERY_LIMIT"
                }


                """)
        #expect(herd.provider.queries.count == 1)
    }

    @Test func theProviderFailingWithAnyOtherError() async throws {
        let herd = try await LoopHarness.make(provider: .failure(DiskOnFire()))
        _ = try await herd.run(kiwiIAMAT, from: client)
        let reply = try await herd.run("WHATSAT kiwi.cs.ucla.edu 10 5", from: client)
        #expect(
            reply == """
                \(kiwiAT)
                {
                   "error_message" : "The place provider failed: disk on fire",
                   "html_attributions" : [],
                   "results" : [],
                   "status" : "UNKNOWN_ERROR"
                }


                """)
        let again = try await herd.run(kiwiIAMAT, from: client)
        #expect(again == kiwiAT + "\n")
    }

    @Test func aProviderWithNoAnswerAtHandIsWaitedForAndGivesTheSameReply() async throws {
        let response = PlacesResponse(results: names("A", "B", "C"))
        let later = try await LoopHarness.make(provider: .response(response), answersAtOnce: false)
        _ = try await later.run(kiwiIAMAT, from: client)
        let first = try await later.onLoop { $0.response("WHATSAT kiwi.cs.ucla.edu 10 2", from: client) }
        #expect(first.immediate == nil, "a provider without an immediate answer is waited for")
        let waited = try await first.get().map(text)

        let atOnce = Harness(provider: .response(response))
        _ = atOnce.run(kiwiIAMAT, from: client)
        let immediate = try #require(atOnce.response("WHATSAT kiwi.cs.ucla.edu 10 2", from: client).immediate)
        #expect(waited != nil)
        #expect(waited == immediate.map(text))
        #expect(later.provider.queries == atOnce.provider.queries)
        #expect(later.provider.queries.count == 1)
    }

    @Test func theProviderReportingAFailureInItsResponse() throws {
        let herd = Harness(provider: .response(.failure(.invalidRequest, message: "bad location")))
        _ = herd.run(kiwiIAMAT, from: client)
        let reply = try #require(herd.run("WHATSAT kiwi.cs.ucla.edu 10 5", from: client))
        #expect(reply.hasPrefix(kiwiAT + "\n{\n   \"error_message\" : \"bad location\",\n"))
        #expect(reply.hasSuffix("   \"status\" : \"INVALID_REQUEST\"\n}\n\n"))
    }

    @Test func manyClientsAreKeptApart() throws {
        let herd = Harness()
        _ = herd.run("IAMAT a +1+1 10", from: client)
        _ = herd.run("IAMAT b +2+2 5", from: client)
        _ = herd.run("IAMAT a +3+3 9", from: client)
        #expect(herd.stored("a") == "AT Alford +1621464818.223371889 a +1+1 10")
        #expect(herd.stored("b") == "AT Alford +1621464823.223371889 b +2+2 5")
        #expect(herd.store.count == 2)
    }
}

@Suite("Pipeline")
struct PipelineMechanicsTests {
    @Test func anEmptyPipelineGivesNoReply() throws {
        let herd = Harness()
        let response = Pipeline([]).handle(herd.envelope(kiwiIAMAT, from: client), context: herd.context)
        let reply = try #require(response.immediate, "an empty pipeline answers at once")
        #expect(reply == nil)
    }

    @Test func stagesRunInOrderAndAStageThatDoesNotCallNextStopsTheLine() throws {
        let herd = Harness()
        let pipeline = Pipeline([
            MarkerStage(name: "one", log: herd.log), MarkerStage(name: "two", log: herd.log), ParseStage(),
            MarkerStage(name: "after parse", log: herd.log),
        ])
        let invalid = pipeline.handle(herd.envelope("nonsense", from: client), context: herd.context).immediate
        #expect(invalid == .some(Reply(bytes: Array("? nonsense\n".utf8))))
        #expect(herd.log.all == ["one", "two"])
        let valid = pipeline.handle(herd.envelope(kiwiIAMAT, from: client), context: herd.context).immediate
        #expect(valid == .some(nil))
        #expect(herd.log.all == ["one", "two", "one", "two", "after parse"])
    }

    @Test func aStageCanChangeTheReplyOfTheStagesAfterIt() throws {
        let herd = Harness()
        let pipeline = Pipeline([Bracketing(), ParseStage(), RespondStage()])
        let bracketed = pipeline.handle(herd.envelope(kiwiIAMAT, from: client), context: herd.context).immediate
        #expect(bracketed??.bytes == Array("[\(kiwiAT)\n]".utf8))
    }

    @Test func aSuspendingStageGoesOnWithTheRestOfThePipelineAndItsReplyComesLater() async throws {
        let herd = try await LoopHarness.make()
        let log = EventLog()
        let (pending, response) = try await herd.onLoop { herd in
            let pipeline = Pipeline([
                MarkerStage(name: "before", log: log), Waiting(log: log), ParseStage(),
                MarkerStage(name: "after", log: log), RespondStage(),
            ])
            let response = pipeline.handle(herd.envelope(kiwiIAMAT, from: client), context: herd.context)
            return (response.immediate == nil, response.map { $0.map { Reply(bytes: $0.bytes + Array("!".utf8)) } })
        }
        #expect(pending)
        let reply = try await response.get()
        #expect(reply.map(text) == kiwiAT + "\n!")
        #expect(log.all == ["before", "waiting", "resumed", "after"])
        #expect(try await herd.stored("kiwi.cs.ucla.edu") == nil, "this pipeline has no store stage")
    }

    @Test func aSuspendingStageThatThrowsFailsTheResponse() async throws {
        let herd = try await LoopHarness.make()
        let response = try await herd.onLoop { herd in
            Pipeline([Failing()]).handle(herd.envelope(kiwiIAMAT, from: client), context: herd.context)
        }
        await #expect(throws: DiskOnFire.self) { try await response.get() }
    }

    @Test func holdsOnOneGateCombineIntoTheHigherMark() throws {
        let loop = EmbeddedEventLoop()
        let gate = ManualGate(eventLoop: loop)
        let reply = Reply.line(Array("x".utf8))
            .holding(until: ReplyHold(gate: gate, mark: 5))
            .holding(until: ReplyHold(gate: gate, mark: 3))
            .holding(until: nil)
        #expect(reply.hold == ReplyHold(gate: gate, mark: 5))
        #expect(reply.bytes == Array("x\n".utf8))
        #expect(reply.count == 2)
        let response = Response.reply(reply).holding(until: ReplyHold(gate: gate, mark: 7))
        #expect(response.immediate??.hold == ReplyHold(gate: gate, mark: 7))
    }

    @Test func holdsOnTwoGatesOpenOnlyOnceBothHave() throws {
        let loop = EmbeddedEventLoop()
        let flood = ManualGate(eventLoop: loop)
        let audit = ManualGate(eventLoop: loop)
        let hold = try #require(
            Reply(bytes: Array("x\n".utf8)).holding(until: ReplyHold(gate: flood, mark: 2))
                .holding(until: ReplyHold(gate: audit, mark: 1)).hold)
        var released = 0
        hold.gate.whenOpen(at: hold.mark) { released += 1 }
        #expect(!hold.isOpen)
        flood.open(through: 2)
        #expect(!hold.isOpen)
        #expect(released == 0)
        audit.open(through: 1)
        #expect(hold.isOpen)
        #expect(released == 1)
    }
}

/// Wraps the reply of the stages after it in brackets.
private struct Bracketing: MessageHandler {
    func handle(_ envelope: consuming Envelope, context: HandlerContext, next: Next) -> Response {
        next(envelope).map { reply in
            reply.map { Reply(bytes: Array("[".utf8) + $0.bytes + Array("]".utf8), hold: $0.hold) }
        }
    }
}

/// Waits (suspends) before it goes on with the rest of the pipeline.
private struct Waiting: MessageHandler {
    let log: EventLog

    func handle(_ envelope: Envelope, context: HandlerContext, next: Next) -> Response {
        log.append("waiting")
        return .suspending(on: context.eventLoop) {
            await Task.yield()
            log.append("resumed")
            return try await next.resume(envelope)
        }
    }
}

/// A stage whose wait fails.
private struct Failing: MessageHandler {
    func handle(_ envelope: Envelope, context: HandlerContext, next: Next) -> Response {
        .suspending(on: context.eventLoop) { throw DiskOnFire() }
    }
}
