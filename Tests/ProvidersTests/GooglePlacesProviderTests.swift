import Foundation
import HerdKit
import Testing

@testable import Providers

@Suite("Google Places: requests and mapping")
struct GooglePlacesProviderTests {
    // MARK: Places API (New)

    @Test("New API: POST /v1/places:searchNearby with the key, the field mask and a circle in metres")
    func newRequest() async throws {
        try await FakePlacesServer.with([.json(GoogleFixtures.newAnswer)]) { server in
            try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server)) { provider in
                _ = try await provider.nearbyPlaces(GoogleFixtures.ucla)
            }
            let request = try #require(server.requests.first)
            #expect(server.requests.count == 1)
            #expect(request.method == "POST")
            #expect(request.uri == "/v1/places:searchNearby")
            #expect(request.header("X-Goog-Api-Key") == [GoogleFixtures.key])
            #expect(
                request.header("X-Goog-FieldMask") == [
                    "places.id,places.displayName,places.location,places.types,places.formattedAddress,"
                        + "places.shortFormattedAddress,places.rating,places.userRatingCount,places.businessStatus,"
                        + "places.plusCode"
                ])
            #expect(request.header("Content-Type") == ["application/json"])
            #expect(
                request.body
                    == #"{"locationRestriction":{"circle":{"center":{"latitude":34.06893,"longitude":-118.445127},"#
                    + #""radius":10000}},"maxResultCount":5}"#)
        }
    }

    @Test("New API: the radius goes in metres and the bound as maxResultCount; the field mask is configurable")
    func newRequestRadiusAndMask() async throws {
        try await FakePlacesServer.with(otherwise: .json("{}")) { server in
            var configuration = GoogleFixtures.configuration(server)
            configuration.fieldMask = "places.id,places.location"
            try await GoogleFixtures.withProvider(configuration) { provider in
                // WHATSAT ... 1.5 20 from a client at -33.8670522+151.1957362
                _ = try await provider.nearbyPlaces(
                    PlaceQuery(latitude: -33.8670522, longitude: 151.1957362, radiusMetres: 1_500, limit: 20))
            }
            let request = try #require(server.requests.first)
            #expect(request.header("X-Goog-FieldMask") == ["places.id,places.location"])
            #expect(
                request.body
                    == #"{"locationRestriction":{"circle":{"center":{"latitude":-33.8670522,"longitude":151.1957362},"#
                    + #""radius":1500}},"maxResultCount":20}"#)
        }
    }

    @Test("New API: a base URL with a path prefix keeps it")
    func basePathPrefix() async throws {
        try await FakePlacesServer.with(otherwise: .json("{}")) { server in
            let configuration = GoogleFixtures.configuration(baseURL: server.baseURL + "/google/")
            try await GoogleFixtures.withProvider(configuration) { provider in
                _ = try await provider.nearbyPlaces(GoogleFixtures.ucla)
            }
            #expect(server.requests.map(\.uri) == ["/google/v1/places:searchNearby"])
        }
    }

    @Test("New API: places map to legacy Nearby Search results with only the keys present")
    func newMapping() async throws {
        let response = try await FakePlacesServer.with([.json(GoogleFixtures.newAnswer)]) { server in
            try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server)) { provider in
                try await provider.nearbyPlaces(GoogleFixtures.ucla)
            }
        }
        #expect(response.status == .ok)
        #expect(response.results == GoogleFixtures.newAnswerMapped)
        #expect(response.htmlAttributions == [])
        #expect(response.nextPageToken == nil)
        #expect(response.errorMessage == nil)
    }

    @Test("New API: WHATSAT prints the mapped answer in the protocol's JSON shape")
    func newMappingAsWhatsatPrintsIt() async throws {
        var query = GoogleFixtures.ucla
        query.limit = 1
        let response = try await FakePlacesServer.with([.json(GoogleFixtures.newAnswer)]) { server in
            try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server)) { provider in
                try await provider.nearbyPlaces(query)
            }
        }
        let printed = String(decoding: JSONWriter.bytes(response.json), as: UTF8.self)
        #expect(
            printed == """
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
                """)
    }

    @Test("New API: an empty answer is ZERO_RESULTS", arguments: ["{}", #"{"places": []}"#])
    func newZeroResults(answer: String) async throws {
        let response = try await FakePlacesServer.with([.json(answer)]) { server in
            try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server)) { provider in
                try await provider.nearbyPlaces(GoogleFixtures.ucla)
            }
        }
        #expect(response == PlacesResponse(results: [], status: .zeroResults))
        #expect(
            String(decoding: JSONWriter.bytes(response.json), as: UTF8.self)
                == "{\n   \"html_attributions\" : [],\n   \"results\" : [],\n   \"status\" : \"ZERO_RESULTS\"\n}")
    }

    @Test("New API: the bound is applied even if Google sends more")
    func newBound() async throws {
        var query = GoogleFixtures.ucla
        query.limit = 1
        let response = try await FakePlacesServer.with([.json(GoogleFixtures.newAnswer)]) { server in
            try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server)) { provider in
                try await provider.nearbyPlaces(query)
            }
        }
        #expect(response.results == [GoogleFixtures.newAnswerMapped[0]])
    }

    @Test("New API mapping: vicinity falls back to formattedAddress; partial plus codes and odd fields")
    func newMappingEdges() {
        let place: JSONValue = .object([
            "formattedAddress": .string("1 Main St, Springfield"),
            "plusCode": .object(["globalCode": .string("849VCWC8+R9")]),
            "location": .object(["latitude": .number(1.5)]),  // no longitude: no geometry
            "types": .string("not-a-list"),
            "displayName": .object(["languageCode": .string("en")]),
        ])
        #expect(
            NewPlacesMapping.legacyResult(from: place)
                == .object([
                    "vicinity": .string("1 Main St, Springfield"),
                    "plus_code": .object(["global_code": .string("849VCWC8+R9")]),
                ]))
        #expect(NewPlacesMapping.legacyResult(from: .object([:])) == .object([:]))
    }

    // MARK: Legacy Nearby Search

    @Test("Legacy API: GET /maps/api/place/nearbysearch/json?location=LAT,LNG&radius=METRES&key=KEY")
    func legacyRequest() async throws {
        try await FakePlacesServer.with([.json(GoogleFixtures.legacyAnswer)]) { server in
            try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server, api: .legacy)) { provider in
                _ = try await provider.nearbyPlaces(GoogleFixtures.ucla)
            }
            let request = try #require(server.requests.first)
            #expect(server.requests.count == 1)
            #expect(request.method == "GET")
            #expect(
                request.uri
                    == "/maps/api/place/nearbysearch/json?location=34.06893,-118.445127&radius=10000"
                    + "&key=AIzaTEST-key_0123456789")
            #expect(request.header("X-Goog-Api-Key") == [])
            #expect(request.header("X-Goog-FieldMask") == [])
            #expect(request.body == "")
        }
    }

    @Test("Legacy API: fractional radius, tiny coordinates and key characters are written plainly")
    func legacyQueryFormatting() {
        let query = PlaceQuery(latitude: 0.00001, longitude: -0.5, radiusMetres: 1_234.5, limit: 3)
        #expect(
            LegacyPlacesMapping.queryString(for: query, key: GooglePlacesAPIKey("a+b/c=d&e"))
                == "location=0.00001,-0.5&radius=1234.5&key=a%2Bb%2Fc%3Dd%26e")
        #expect(LegacyPlacesMapping.decimal(50_000) == "50000")
        #expect(LegacyPlacesMapping.decimal(-118.445127) == "-118.445127")
    }

    @Test("Legacy API: results, attributions and next_page_token pass through unchanged, cut to the bound")
    func legacyPassThrough() async throws {
        var query = GoogleFixtures.ucla
        query.limit = 2
        let response = try await FakePlacesServer.with([.json(GoogleFixtures.legacyAnswer)]) { server in
            try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server, api: .legacy)) { provider in
                try await provider.nearbyPlaces(query)
            }
        }
        let sent = try JSONDecoder().decode(JSONValue.self, from: Data(GoogleFixtures.legacyAnswer.utf8))
        let sentResults = try #require(sent["results"]?.arrayValue)
        #expect(sentResults.count == 3)
        #expect(response.results == Array(sentResults.prefix(2)))
        #expect(response.status == .ok)
        #expect(response.htmlAttributions == [.string(#"Listings by <a href="https://example.com/">Example</a>"#)])
        #expect(response.nextPageToken == "AeJbb3fTOKEN")
        #expect(response.errorMessage == nil)
        #expect(response.results[0]["icon"] == sentResults[0]["icon"])
        #expect(response.results[0]["opening_hours"] == .object(["open_now": .bool(false)]))
    }

    @Test("Legacy API: ZERO_RESULTS passes through")
    func legacyZeroResults() async throws {
        let response = try await FakePlacesServer.with([.json(GoogleFixtures.legacyZeroResults)]) { server in
            try await GoogleFixtures.withProvider(GoogleFixtures.configuration(server, api: .legacy)) { provider in
                try await provider.nearbyPlaces(GoogleFixtures.ucla)
            }
        }
        #expect(response == PlacesResponse(results: [], status: .zeroResults))
    }
}
