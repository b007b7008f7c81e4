import Foundation
import HerdKit
import Providers

/// A place provider that answers WHATSAT from a CSV file of places, for a herd with its own place list.
///
/// The file has a header row naming its columns: `name`, `latitude` and `longitude` are required,
/// `vicinity` and `types` (separated by `;`) are optional, other columns are ignored:
///
///     name,latitude,longitude,vicinity,types
///     Royce Hall,34.072830,-118.442140,"10745 Dickson Plaza, Los Angeles",tourist_attraction;point_of_interest
///
/// Each place becomes a Nearby Search result object (`geometry.location`, `name`, `place_id`, `vicinity`,
/// `types`), and a query gets the places within the radius, nearest first, at most the bound. The file is read
/// once, when the server is built, so a bad file stops the server from starting rather than failing queries.
public struct CSVPlaceProvider: PlaceProvider {
    /// One row of the file, ready to be sent.
    struct Place: Sendable {
        let latitude: Double
        let longitude: Double
        let result: JSONValue
    }

    let places: [Place]

    /// Why a CSV file cannot be used: the file, the line and what is wrong with it.
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the places of the CSV file at `path`.
    public init(path: String) throws(LoadError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LoadError(description: "\(path): cannot read it as UTF-8 text")
        }
        try self.init(csv: text, source: path)
    }

    /// Reads places from CSV text; `source` names it in errors.
    public init(csv text: String, source: String) throws(LoadError) {
        let records: [(line: Int, fields: [String])]
        do {
            records = try CSVRecords.parse(text)
        } catch {
            throw LoadError(description: "\(source): \(error.reason)")
        }
        guard let header = records.first else { throw LoadError(description: "\(source): the file is empty") }
        func column(_ name: String) -> Int? { header.fields.firstIndex(of: name) }
        guard let nameColumn = column("name"), let latitudeColumn = column("latitude"),
            let longitudeColumn = column("longitude")
        else {
            throw LoadError(
                description: "\(source):\(header.line): the header must name the columns name, latitude and "
                    + "longitude (vicinity and types are optional), got \(header.fields.joined(separator: ","))")
        }
        var places: [Place] = []
        for (line, fields) in records.dropFirst() {
            func field(_ column: Int?) -> String? { column.flatMap { $0 < fields.count ? fields[$0] : nil } }
            func coordinate(_ column: Int, _ name: String, limit: Double) throws(LoadError) -> Double {
                guard let text = field(column), let value = Double(text), abs(value) <= limit else {
                    throw LoadError(
                        description: "\(source):\(line): \(name): expected decimal degrees between -\(Int(limit)) "
                            + "and \(Int(limit)), got '\(field(column) ?? "")'")
                }
                return value
            }
            let latitude = try coordinate(latitudeColumn, "latitude", limit: 90)
            let longitude = try coordinate(longitudeColumn, "longitude", limit: 180)
            var result: [String: JSONValue] = [
                "geometry": .object(["location": .object(["lat": .number(latitude), "lng": .number(longitude)])]),
                "name": .string(field(nameColumn) ?? ""),
                "place_id": .string("csv-\(line)"),
            ]
            if let vicinity = field(column("vicinity")), !vicinity.isEmpty { result["vicinity"] = .string(vicinity) }
            if let types = field(column("types")), !types.isEmpty {
                result["types"] = .array(types.split(separator: ";").map { .string(String($0)) })
            }
            places.append(Place(latitude: latitude, longitude: longitude, result: .object(result)))
        }
        self.places = places
    }

    /// The places are in memory, so every answer is at hand: the respond stage asks this first and, given an
    /// answer, replies to WHATSAT right there on the server's event loop, with no task, no suspension and no
    /// hop between threads. A provider that must wait (a web service) returns nil here, or only answers
    /// what it has cached, and does the waiting in ``nearbyPlaces(_:)``.
    public func immediatePlaces(_ query: PlaceQuery) -> PlacesResponse? {
        places(near: query)
    }

    /// What the server asks when ``immediatePlaces(_:)`` has no answer; for this provider that never
    /// happens, but the protocol requires it, and callers outside the server (tools, tests) may use it.
    public func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse {
        places(near: query)
    }

    /// The places within the radius, nearest first, at most the bound.
    func places(near query: PlaceQuery) -> PlacesResponse {
        var found: [(distance: Double, place: Place)] = []
        for place in places {
            let distance = GreatCircle.distanceMetres(
                fromLatitude: query.latitude, longitude: query.longitude, toLatitude: place.latitude,
                longitude: place.longitude)
            if distance <= query.radiusMetres { found.append((distance, place)) }
        }
        found.sort { $0.distance < $1.distance }
        // PlacesResponse sets status: OK with results, ZERO_RESULTS without.
        return PlacesResponse(results: found.prefix(query.limit).map(\.place.result))
    }
}

extension CSVPlaceProvider {
    /// Reads the provider's options: `file` (required), the CSV file, relative to the config file. A file
    /// that cannot be used is an error on that key, so it names the config file and line too.
    public init(options: ConfigOptions) throws(ConfigError) {
        try options.allowOnly(["file"])
        guard let path = try options.path("file") else {
            throw options.error("file", "missing; the CSV file of places to answer WHATSAT from")
        }
        do {
            try self.init(path: path)
        } catch {
            throw options.error("file", error.description)
        }
    }

    /// Registers the provider as `csv`, the name the config's `provider` uses.
    public static func register(in registry: inout HerdRegistry) {
        registry.registerProvider("csv") { context in
            try CSVPlaceProvider(options: context.options)
        }
    }
}
