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
    @Test func iamatFromAClientIsStoredFloodedAndAnswered() async throws {
        let herd = Harness()
        let reply = try await herd.run(kiwiIAMAT, from: client)
        #expect(reply == kiwiAT + "\n")
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: kiwiAT, except: nil)])
        #expect(herd.store.count == 1)
    }

    @Test func theFloodHappensBeforeTheReply() async throws {
        let herd = Harness()
        _ = try await herd.run(kiwiIAMAT, from: client)
        #expect(herd.log.all == ["flood", "respond"])
    }

    @Test func aDuplicateIAMATIsAnsweredButNeitherStoredNorFlooded() async throws {
        let herd = Harness()
        _ = try await herd.run(kiwiIAMAT, from: client)
        let later = WallTime(seconds: 1_621_464_830, nanoseconds: 0)
        let reply = try await herd.run(kiwiIAMAT, from: client, at: later)
        #expect(reply == "AT Alford +2.040501497 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503\n")
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
        #expect(herd.peers.calls.count == 1)
    }

    @Test func aStaleIAMATIsAnsweredButNeitherStoredNorFlooded() async throws {
        let herd = Harness()
        _ = try await herd.run(kiwiIAMAT, from: client)
        let reply = try await herd.run("IAMAT kiwi.cs.ucla.edu +10-20 1621464827.959498502", from: client)
        #expect(reply == "AT Alford +0.263873387 kiwi.cs.ucla.edu +10-20 1621464827.959498502\n")
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: kiwiAT, except: nil)])
    }

    @Test func aNewerIAMATReplacesTheStoredLine() async throws {
        let herd = Harness()
        _ = try await herd.run(kiwiIAMAT, from: client)
        let reply = try await herd.run("IAMAT kiwi.cs.ucla.edu +10-20 1621464827.9594985031", from: client)
        let newer = "AT Alford +0.263873385 kiwi.cs.ucla.edu +10-20 1621464827.9594985031"
        #expect(reply == newer + "\n")
        #expect(herd.stored("kiwi.cs.ucla.edu") == newer)
        #expect(herd.peers.calls.map(\.line) == [kiwiAT, newer])
    }

    @Test func aNewerPeerUpdateIsStoredAndFloodedToAllButTheSenderWithNoReply() async throws {
        let herd = Harness()
        let update = "AT Bolden -0.000000100 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503"
        let reply = try await herd.run(update, from: .peer("Parker"))
        #expect(reply == nil)
        #expect(herd.stored("kiwi.cs.ucla.edu") == update)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: update, except: "Parker")])
    }

    @Test func aPeerUpdateWithACarriageReturnIsStoredWithoutIt() async throws {
        let herd = Harness()
        let reply = try await herd.run(kiwiAT + "\r", from: .peer("Parker"))
        #expect(reply == nil)
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
        #expect(herd.peers.calls == [RecordingPeers.Call(line: kiwiAT, except: "Parker")])
    }

    @Test(
        "A stale or duplicate peer update is dropped: no store, no flood, no reply",
        arguments: ["1621464827.959498503", "1621464827.959498502", "1000"])
    func aStalePeerUpdateStops(time: String) async throws {
        let herd = Harness()
        _ = try await herd.run(kiwiIAMAT, from: client)
        let update = "AT Welsh +0.100000000 kiwi.cs.ucla.edu +1-1 \(time)"
        let reply = try await herd.run(update, from: .peer("Welsh"))
        #expect(reply == nil)
        #expect(herd.stored("kiwi.cs.ucla.edu") == kiwiAT)
        #expect(herd.peers.calls.count == 1)
        #expect(herd.log.all == ["flood", "respond"])
    }

    @Test func anATFromAClientIsInvalid() async throws {
        let herd = Harness()
        let reply = try await herd.run(" " + kiwiAT + "\t", from: client)
        #expect(reply == "? " + kiwiAT + "\n")
        #expect(herd.store.count == 0)
        #expect(herd.peers.calls.isEmpty)
    }

    @Test(
        "Peers may send only AT lines; anything else gets no reply and changes nothing",
        arguments: [kiwiIAMAT, "WHATSAT kiwi.cs.ucla.edu 10 5", "garbage", "AT Alford +0.1 kiwi +1-1"])
    func nonATFromAPeer(line: String) async throws {
        let herd = Harness()
        let reply = try await herd.run(line, from: .peer("Parker"))
        #expect(reply == nil)
        #expect(herd.store.count == 0)
        #expect(herd.peers.calls.isEmpty)
        #expect(herd.provider.queries.isEmpty)
    }

    @Test(arguments: ["", "   ", "\t\r"])
    func blankLinesGetNoReply(line: String) async throws {
        let herd = Harness()
        #expect(try await herd.run(line, from: client) == nil)
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
    func invalidClientLines(line: String, expected: String) async throws {
        let herd = Harness()
        #expect(try await herd.run(line, from: client) == expected)
        #expect(herd.store.count == 0)
        #expect(herd.peers.calls.isEmpty)
    }

    @Test func whatsatForAnUnknownClientIsInvalid() async throws {
        let herd = Harness()
        _ = try await herd.run(kiwiIAMAT, from: client)
        let reply = try await herd.run("WHATSAT  stranger 10 5 ", from: client)
        #expect(reply == "? WHATSAT  stranger 10 5\n")
        #expect(herd.provider.queries.isEmpty)
    }

    @Test func whatsatForAKnownClient() async throws {
        let herd = Harness(provider: .response(PlacesResponse(results: names("A", "B", "C"))))
        _ = try await herd.run(kiwiIAMAT, from: client)
        let later = WallTime(seconds: 1_621_464_900, nanoseconds: 0)
        let reply = try await herd.run("WHATSAT kiwi.cs.ucla.edu 10 2", from: client, at: later)
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
    func providerQuery(radius: String, bound: String, metres: Double, limit: Int) async throws {
        let herd = Harness()
        _ = try await herd.run(kiwiIAMAT, from: client)
        _ = try await herd.run("WHATSAT kiwi.cs.ucla.edu \(radius) \(bound)", from: client)
        #expect(herd.provider.queries.map(\.radiusMetres) == [metres])
        #expect(herd.provider.queries.map(\.limit) == [limit])
    }

    @Test func whatsatAnswersWithTheStoredLineOfTheServerThatReceivedTheIAMAT() async throws {
        let herd = Harness(server: "Hamilton")
        let update = "AT Bolden -0.000000100 kiwi.cs.ucla.edu +27.5916+086.5640 1621464827.959498503"
        _ = try await herd.run(update, from: .peer("Parker"))
        let reply = try #require(try await herd.run("WHATSAT kiwi.cs.ucla.edu 10 5", from: client))
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
        let herd = Harness(
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
    }

    @Test func theProviderFailingWithAnyOtherError() async throws {
        let herd = Harness(provider: .failure(DiskOnFire()))
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

    @Test func theProviderReportingAFailureInItsResponse() async throws {
        let herd = Harness(provider: .response(.failure(.invalidRequest, message: "bad location")))
        _ = try await herd.run(kiwiIAMAT, from: client)
        let reply = try #require(try await herd.run("WHATSAT kiwi.cs.ucla.edu 10 5", from: client))
        #expect(reply.hasPrefix(kiwiAT + "\n{\n   \"error_message\" : \"bad location\",\n"))
        #expect(reply.hasSuffix("   \"status\" : \"INVALID_REQUEST\"\n}\n\n"))
    }

    @Test func manyClientsAreKeptApart() async throws {
        let herd = Harness()
        _ = try await herd.run("IAMAT a +1+1 10", from: client)
        _ = try await herd.run("IAMAT b +2+2 5", from: client)
        _ = try await herd.run("IAMAT a +3+3 9", from: client)
        #expect(herd.stored("a") == "AT Alford +1621464818.223371889 a +1+1 10")
        #expect(herd.stored("b") == "AT Alford +1621464823.223371889 b +2+2 5")
        #expect(herd.store.count == 2)
    }
}

@Suite("Pipeline")
struct PipelineMechanicsTests {
    @Test func anEmptyPipelineGivesNoReply() async throws {
        let herd = Harness()
        let reply = try await Pipeline([]).handle(
            Envelope(line: Array(kiwiIAMAT.utf8), origin: client, receivedAt: Harness.receivedAt),
            context: herd.context)
        #expect(reply == nil)
    }

    @Test func stagesRunInOrderAndAStageThatDoesNotCallNextStopsTheLine() async throws {
        let herd = Harness()
        let pipeline = Pipeline([
            MarkerStage(name: "one", log: herd.log), MarkerStage(name: "two", log: herd.log), ParseStage(),
            MarkerStage(name: "after parse", log: herd.log),
        ])
        let invalid = try await pipeline.handle(
            Envelope(line: Array("nonsense".utf8), origin: client, receivedAt: Harness.receivedAt),
            context: herd.context)
        #expect(invalid == Reply(bytes: Array("? nonsense\n".utf8)))
        #expect(herd.log.all == ["one", "two"])
        let valid = try await pipeline.handle(
            Envelope(line: Array(kiwiIAMAT.utf8), origin: client, receivedAt: Harness.receivedAt),
            context: herd.context)
        #expect(valid == nil)
        #expect(herd.log.all == ["one", "two", "one", "two", "after parse"])
    }
}
