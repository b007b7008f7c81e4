import Testing

@testable import HerdKit

private func text(_ value: JSONValue) -> String {
    String(decoding: JSONWriter.bytes(value), as: UTF8.self)
}

private let cafe: JSONValue = .object([
    "name": .string("Iris's \"Matcha\" Bar"),
    "rating": .number(4.5),
    "user_ratings_total": .number(23),
    "types": .array([.string("cafe"), .string("food")]),
    "geometry": .object(["location": .object(["lat": .number(34.0690284), "lng": .number(-118.4448222)])]),
    "opening_hours": .object(["open_now": .bool(true)]),
    "photos": .array([]),
    "plus_code": .object([:]),
    "permanently_closed": .null,
])

@Suite("JSON writer")
struct JSONWriterTests {
    @Test func aSmallPlacesResponse() {
        let response = PlacesResponse(results: [cafe], nextPageToken: "tok3n")
        let expected = """
            {
               "html_attributions" : [],
               "next_page_token" : "tok3n",
               "results" : [
                  {
                     "geometry" : {
                        "location" : {
                           "lat" : 34.0690284,
                           "lng" : -118.4448222
                        }
                     },
                     "name" : "Iris's \\"Matcha\\" Bar",
                     "opening_hours" : {
                        "open_now" : true
                     },
                     "permanently_closed" : null,
                     "photos" : [],
                     "plus_code" : {},
                     "rating" : 4.5,
                     "types" : [
                        "cafe",
                        "food"
                     ],
                     "user_ratings_total" : 23
                  }
               ],
               "status" : "OK"
            }
            """
        let output = text(response.json)
        #expect(output == expected)
        #expect(!output.contains("\n\n"))
        #expect(!output.hasSuffix("\n"))
    }

    @Test func zeroResults() {
        let response = PlacesResponse(results: [])
        #expect(response.status == .zeroResults)
        #expect(
            text(response.json) == """
                {
                   "html_attributions" : [],
                   "results" : [],
                   "status" : "ZERO_RESULTS"
                }
                """)
    }

    @Test func failureHasErrorMessageAndEmptyResults() {
        let response = PlacesResponse.failure(.requestDenied, message: "The provided API key is invalid.")
        #expect(
            text(response.json) == """
                {
                   "error_message" : "The provided API key is invalid.",
                   "html_attributions" : [],
                   "results" : [],
                   "status" : "REQUEST_DENIED"
                }
                """)
    }

    @Test(
        "Status names as Google spells them",
        arguments: [
            (PlacesResponse.Status.ok, "OK"), (.zeroResults, "ZERO_RESULTS"), (.overQueryLimit, "OVER_QUERY_LIMIT"),
            (.requestDenied, "REQUEST_DENIED"), (.invalidRequest, "INVALID_REQUEST"), (.unknownError, "UNKNOWN_ERROR"),
        ])
    func statusNames(status: PlacesResponse.Status, expected: String) {
        #expect(status.rawValue == expected)
    }

    @Test func statusDefaultsFromResults() {
        #expect(PlacesResponse(results: [.object([:])]).status == .ok)
        #expect(PlacesResponse(results: []).status == .zeroResults)
        #expect(PlacesResponse(results: [], status: .invalidRequest).status == .invalidRequest)
    }

    @Test(
        "Numbers: integers without a fraction, others in shortest form, non-finite as null",
        arguments: [
            (0.0, "0"), (-0.0, "0"), (23.0, "23"), (-118.0, "-118"), (4.5, "4.5"), (34.0690284, "34.0690284"),
            (-118.4448222, "-118.4448222"), (123_456_789.0, "123456789"), (0.1, "0.1"), (Double.nan, "null"),
            (Double.infinity, "null"), (-Double.infinity, "null"),
        ])
    func numbers(number: Double, expected: String) {
        #expect(text(.number(number)) == expected)
    }

    @Test(
        "Strings are escaped",
        arguments: [
            ("plain", #""plain""#),
            ("say \"hi\"", #""say \"hi\"""#),
            (#"back\slash"#, #""back\\slash""#),
            ("two\nlines", #""two\nlines""#),
            ("cr\rtab\t", #""cr\rtab\t""#),
            ("\u{01}\u{1F}\u{08}\u{0C}", #""\u0001\u001f\u0008\u000c""#),
            ("café ☕", "\"café ☕\""),
            ("a/b", #""a/b""#),
        ])
    func strings(value: String, expected: String) {
        #expect(text(.string(value)) == expected)
    }

    @Test func scalarsAndEmptyContainers() {
        #expect(text(.null) == "null")
        #expect(text(.bool(true)) == "true")
        #expect(text(.bool(false)) == "false")
        #expect(text(.array([])) == "[]")
        #expect(text(.object([:])) == "{}")
    }

    @Test func nestedArrays() {
        let value: JSONValue = .array([.number(1), .array([.string("x"), .array([])]), .object(["k": .null])])
        #expect(
            text(value) == """
                [
                   1,
                   [
                      "x",
                      []
                   ],
                   {
                      "k" : null
                   }
                ]
                """)
    }

    @Test func aStringWithNewlinesNeverMakesAdjacentNewlines() {
        let response = PlacesResponse(results: [.object(["name": .string("a\n\nb\n")])])
        let output = text(response.json)
        #expect(!output.contains("\n\n"))
        #expect(output.contains(#""name" : "a\n\nb\n""#))
    }
}

@Suite("Places response")
struct PlacesResponseTests {
    private let three: [JSONValue] = [
        .object(["name": .string("A")]), .object(["name": .string("B")]),
        .object(["name": .string("C")]),
    ]

    @Test func limitedCutsToTheLimitAndKeepsStatus() {
        let cut = PlacesResponse(results: three, nextPageToken: "next").limited(to: 2)
        #expect(cut.results == [.object(["name": .string("A")]), .object(["name": .string("B")])])
        #expect(cut.status == .ok)
        #expect(cut.nextPageToken == "next")
    }

    @Test(arguments: [3, 4, 20])
    func limitedAtOrAboveTheCountChangesNothing(limit: Int) {
        let response = PlacesResponse(results: three)
        #expect(response.limited(to: limit) == response)
    }

    /// The doc comment of `limited(to:)` says the status is kept "unless nothing is left".
    @Test func limitedToZeroLeavesNothingAndSaysSo() {
        let cut = PlacesResponse(results: three).limited(to: 0)
        #expect(cut.results.isEmpty)
        #expect(cut.status == .zeroResults)
    }

    @Test func jsonValueDecodesAndReads() throws {
        let value: JSONValue = .object([
            "results": .array([.string("x")]), "n": .number(2), "s": .string("t"),
        ])
        #expect(value["results"]?.arrayValue == [.string("x")])
        #expect(value["n"]?.numberValue == 2)
        #expect(value["s"]?.stringValue == "t")
        #expect(value["missing"] == nil)
        #expect(value["n"]?.stringValue == nil)
        #expect(JSONValue.string("x")["k"] == nil)
    }
}
