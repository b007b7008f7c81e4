import Foundation
import HerdKit

/// Answers WHATSAT offline from a file of places: a JSON array of Nearby Search (legacy) result objects,
/// or a whole Nearby Search response with a `results` array.
///
/// It behaves like the real service where it matters to a client: only places within the radius (by
/// great-circle distance), nearest first, at most the bound, `ZERO_RESULTS` when none.
public struct FixtureProvider: PlaceProvider {
    struct Place: Sendable {
        let latitude: Double
        let longitude: Double
        let result: JSONValue
    }

    let places: [Place]

    /// Why a place file cannot be used.
    public struct LoadError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "place file \(path): \(reason)" }
    }

    /// Loads places from `path`; nil loads the built-in set of places around UCLA.
    public init(path: String? = nil) throws {
        let url: URL
        if let path {
            url = URL(fileURLWithPath: path)
        } else if let bundled = Bundle.module.url(forResource: "ucla-places", withExtension: "json") {
            url = bundled
        } else {
            throw LoadError(path: "ucla-places.json", reason: "the built-in place file is missing from the bundle")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw LoadError(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        try self.init(json: data, source: url.path)
    }

    /// Loads places from JSON data; `source` names it in errors.
    public init(json data: Data, source: String) throws {
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw LoadError(path: source, reason: "not valid JSON: \(error)")
        }
        guard let results = document.arrayValue ?? document["results"]?.arrayValue else {
            throw LoadError(path: source, reason: "expected an array of places or an object with a 'results' array")
        }
        var places: [Place] = []
        for (index, result) in results.enumerated() {
            guard let location = result["geometry"]?["location"],
                let latitude = location["lat"]?.numberValue, let longitude = location["lng"]?.numberValue
            else {
                throw LoadError(path: source, reason: "place \(index) has no geometry.location.lat/lng")
            }
            places.append(Place(latitude: latitude, longitude: longitude, result: result))
        }
        self.places = places
    }

    public func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse {
        places(near: query)
    }

    /// The fixture is in memory: every answer is at hand, so WHATSAT never leaves the event loop.
    public func immediatePlaces(_ query: PlaceQuery) -> PlacesResponse? {
        places(near: query)
    }

    private func places(near query: PlaceQuery) -> PlacesResponse {
        let nearby = places.lazy
            .map { place in
                (
                    place,
                    GreatCircle.distanceMetres(
                        fromLatitude: query.latitude, longitude: query.longitude, toLatitude: place.latitude,
                        longitude: place.longitude)
                )
            }
            .filter { $0.1 <= query.radiusMetres }
            .sorted { $0.1 < $1.1 }
            .prefix(query.limit)
            .map(\.0.result)
        return PlacesResponse(results: Array(nearby))
    }

    /// Registers `fixture`. Option `file`: a place file (relative to the config file); default the built-in set.
    public static func register(in registry: inout HerdRegistry) {
        registry.registerProvider("fixture") { context in
            try context.options.allowOnly(["file"])
            let path = try context.options.path("file")
            do {
                return try FixtureProvider(path: path)
            } catch let error as LoadError {
                throw context.options.error("file", error.description)
            }
        }
    }
}
