import Foundation
import HerdKit
import Testing

@testable import Providers

/// The test's own haversine distance in metres (mean Earth radius 6 371 008.8 m), independent of the provider's.
private func distance(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
    let toRadians = Double.pi / 180
    let phi1 = lat1 * toRadians
    let phi2 = lat2 * toRadians
    let halfDLat = (lat2 - lat1) * toRadians / 2
    let halfDLon = (lon2 - lon1) * toRadians / 2
    let h = sin(halfDLat) * sin(halfDLat) + cos(phi1) * cos(phi2) * sin(halfDLon) * sin(halfDLon)
    return 2 * 6_371_008.8 * atan2(sqrt(h), sqrt(1 - h))
}

private func location(_ place: JSONValue) throws -> (lat: Double, lng: Double) {
    let point = try #require(place["geometry"]?["location"])
    return (try #require(point["lat"]?.numberValue), try #require(point["lng"]?.numberValue))
}

private func name(_ place: JSONValue) -> String? { place["name"]?.stringValue }

private let ucla = (lat: 34.068930, lng: -118.445127)

/// Three places on the equator: 0 m, about 111 m and about 1112 m east of (0, 0), listed out of order.
private let threePlaces = """
    [
      {"name": "Far", "geometry": {"location": {"lat": 0, "lng": 0.01}}, "rating": 3.5},
      {"name": "Here", "geometry": {"location": {"lat": 0, "lng": 0}}, "types": ["cafe"]},
      {"name": "Near", "geometry": {"location": {"lat": 0, "lng": 0.001}}}
    ]
    """

private func temporaryFile(_ contents: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("herd-places-\(UUID().uuidString).json")
    try Data(contents.utf8).write(to: url)
    return url
}

@Suite("Fixture provider")
struct FixtureProviderTests {
    @Test func theBuiltInPlacesLoad() throws {
        let provider = try FixtureProvider()
        #expect(provider.places.count >= 200)
    }

    @Test func aOneKilometreQueryAtUCLA() async throws {
        let provider = try FixtureProvider()
        let response = try await provider.nearbyPlaces(
            PlaceQuery(latitude: ucla.lat, longitude: ucla.lng, radiusMetres: 1000, limit: 20))
        #expect(response.status == .ok)
        #expect(response.results.count == 20)
        var previous = 0.0
        for place in response.results {
            let (lat, lng) = try location(place)
            let metres = distance(ucla.lat, ucla.lng, lat, lng)
            #expect(metres <= 1000, "\(name(place) ?? "?") is \(metres) m away")
            #expect(metres >= previous, "\(name(place) ?? "?") is out of order")
            previous = metres
        }
        #expect(
            response.results.prefix(3).map(name) == [
                "Westwood Plaza Wings", "Iris's Matcha Bar", "Palm Court Pho Shop",
            ])
    }

    @Test func everyPlaceWithinTheRadiusIsFoundWhenTheLimitAllows() async throws {
        let provider = try FixtureProvider()
        let response = try await provider.nearbyPlaces(
            PlaceQuery(latitude: ucla.lat, longitude: ucla.lng, radiusMetres: 1000, limit: 1000))
        let expected = try provider.places.map(\.result).filter { place in
            let (lat, lng) = try location(place)
            return distance(ucla.lat, ucla.lng, lat, lng) <= 1000
        }
        #expect(response.results.count == 84)
        #expect(expected.count == 84)
        #expect(Set(response.results) == Set(expected))
    }

    @Test(arguments: [1, 3, 5])
    func atMostTheLimit(limit: Int) async throws {
        let provider = try FixtureProvider()
        let response = try await provider.nearbyPlaces(
            PlaceQuery(latitude: ucla.lat, longitude: ucla.lng, radiusMetres: 1000, limit: limit))
        #expect(response.results.count == limit)
        #expect(response.results.first.flatMap(name) == "Westwood Plaza Wings")
    }

    @Test(
        "The fixture has every answer at hand: its immediate answer is the one it gives when asked to wait",
        arguments: [
            PlaceQuery(latitude: ucla.lat, longitude: ucla.lng, radiusMetres: 1000, limit: 20),
            PlaceQuery(latitude: ucla.lat, longitude: ucla.lng, radiusMetres: 250, limit: 3),
            PlaceQuery(latitude: 0, longitude: -150, radiusMetres: 50_000, limit: 20),
        ])
    func theImmediateAnswerIsTheAnswer(query: PlaceQuery) async throws {
        let provider = try FixtureProvider()
        let immediate = try #require(provider.immediatePlaces(query))
        let waited = try await provider.nearbyPlaces(query)
        #expect(immediate == waited)
        // A cache around the fixture hands on the fixture's immediate answer.
        let cached = CachingPlaceProvider(wrapping: provider, ttl: .seconds(60), capacity: 10)
        #expect(cached.immediatePlaces(query) == waited)
    }

    @Test func theMiddleOfTheOceanHasNothing() async throws {
        let provider = try FixtureProvider()
        let response = try await provider.nearbyPlaces(
            PlaceQuery(latitude: 0, longitude: -150, radiusMetres: 50_000, limit: 20))
        #expect(response.status == .zeroResults)
        #expect(response.results.isEmpty)
        #expect(
            String(decoding: JSONWriter.bytes(response.json), as: UTF8.self) == """
                {
                   "html_attributions" : [],
                   "results" : [],
                   "status" : "ZERO_RESULTS"
                }
                """)
    }

    @Test(
        "A custom place file: radius, order and limit",
        arguments: [
            (50.0, 20, ["Here"]),
            (500.0, 20, ["Here", "Near"]),
            (2000.0, 20, ["Here", "Near", "Far"]),
            (2000.0, 2, ["Here", "Near"]),
            (1100.0, 20, ["Here", "Near"]),
        ])
    func customPlaces(radius: Double, limit: Int, expected: [String]) async throws {
        let provider = try FixtureProvider(json: Data(threePlaces.utf8), source: "three.json")
        #expect(provider.places.count == 3)
        let response = try await provider.nearbyPlaces(
            PlaceQuery(latitude: 0, longitude: 0, radiusMetres: radius, limit: limit))
        #expect(response.results.map(name) == expected)
        #expect(response.status == .ok)
    }

    @Test func resultsPassThroughUnchanged() async throws {
        let provider = try FixtureProvider(json: Data(threePlaces.utf8), source: "three.json")
        let response = try await provider.nearbyPlaces(
            PlaceQuery(latitude: 0, longitude: 0.01, radiusMetres: 10, limit: 5))
        #expect(
            response.results == [
                .object([
                    "name": .string("Far"),
                    "geometry": .object(["location": .object(["lat": .number(0), "lng": .number(0.01)])]),
                    "rating": .number(3.5),
                ])
            ])
    }

    @Test func aWholeResponseDocumentAndAFileOnDisk() async throws {
        let url = try temporaryFile(#"{"html_attributions": [], "status": "OK", "results": \#(threePlaces)}"#)
        defer { try? FileManager.default.removeItem(at: url) }
        let provider = try FixtureProvider(path: url.path)
        #expect(provider.places.count == 3)
        let response = try await provider.nearbyPlaces(
            PlaceQuery(latitude: 0, longitude: 0, radiusMetres: 500, limit: 20))
        #expect(response.results.map(name) == ["Here", "Near"])
    }

    @Test func noPlacesAtAll() async throws {
        let provider = try FixtureProvider(json: Data("[]".utf8), source: "empty.json")
        let response = try await provider.nearbyPlaces(
            PlaceQuery(latitude: 0, longitude: 0, radiusMetres: 50_000, limit: 20))
        #expect(response.status == .zeroResults)
    }

    @Test(
        "Unusable place data is a LoadError naming its source",
        arguments: [
            "not json",
            #"{"status": "OK"}"#,
            #""just a string""#,
            #"[{"name": "nowhere"}]"#,
            #"[{"geometry": {"location": {"lat": "34", "lng": -118}}}]"#,
            #"[{"geometry": {"location": {"lat": 34}}}]"#,
        ])
    func invalidData(json: String) throws {
        let error = try #require(throws: FixtureProvider.LoadError.self) {
            try FixtureProvider(json: Data(json.utf8), source: "bad.json")
        }
        #expect(error.path == "bad.json")
        #expect(error.description.hasPrefix("place file bad.json: "))
    }

    @Test func anInvalidFileIsALoadError() throws {
        let url = try temporaryFile("{ this is not json")
        defer { try? FileManager.default.removeItem(at: url) }
        let error = try #require(throws: FixtureProvider.LoadError.self) { try FixtureProvider(path: url.path) }
        #expect(error.path == url.path)
        #expect(error.reason.hasPrefix("not valid JSON"))
    }

    @Test func aMissingFileIsALoadError() throws {
        let error = try #require(throws: FixtureProvider.LoadError.self) {
            try FixtureProvider(path: "/nonexistent/herd-test/places.json")
        }
        #expect(error.path == "/nonexistent/herd-test/places.json")
        #expect(error.reason.hasPrefix("cannot read"))
    }

    @Test func theRegisteredFactoryReportsABadFileAsAConfigError() throws {
        let yaml = """
            servers: [{name: Alford, client_port: 12000, peer_port: 12100}]
            provider:
              name: fixture
              options:
                file: missing-places.json
            """
        let config = try ConfigLoader.parse(yaml: yaml, source: "herd.yaml", baseDirectory: "/nonexistent/herd-test")
        var registry = HerdRegistry()
        FixtureProvider.register(in: &registry)
        #expect(registry.providers.keys.sorted() == ["fixture"])
        let factory = try #require(registry.providers["fixture"])
        let context = HerdRegistry.Context(
            options: config.provider.options, serverName: "Alford", config: config, logger: .init(label: "test"))
        let error = try #require(throws: ConfigError.self) { try factory(context) }
        #expect(error.key == "provider.options.file")
        #expect(error.line == 5)
        #expect(error.description.contains("/nonexistent/herd-test/missing-places.json"))
    }

    @Test func theRegisteredFactoryRefusesUnknownOptions() throws {
        let yaml = """
            servers: [{name: Alford, client_port: 12000, peer_port: 12100}]
            provider: {name: fixture, options: {fiel: places.json}}
            """
        let config = try ConfigLoader.parse(yaml: yaml, source: "herd.yaml", baseDirectory: "/tmp")
        var registry = HerdRegistry()
        FixtureProvider.register(in: &registry)
        let factory = try #require(registry.providers["fixture"])
        let context = HerdRegistry.Context(
            options: config.provider.options, serverName: "Alford", config: config, logger: .init(label: "test"))
        let error = try #require(throws: ConfigError.self) { try factory(context) }
        #expect(error.key == "provider.options.fiel")
    }
}
