import Foundation
import HerdKit

/// Why a Google answer could not be read: it becomes `UNKNOWN_ERROR` with this reason in `error_message`.
struct MalformedResponse: Error, Sendable, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// The Places API (New) `places:searchNearby` call: its request body, and its answer in the legacy Nearby
/// Search shape that WHATSAT prints (PROTOCOL.md section 3).
enum NewPlacesMapping {
    private struct Request: Encodable {
        struct Center: Encodable {
            var latitude: Double
            var longitude: Double
        }
        struct Circle: Encodable {
            var center: Center
            var radius: Double
        }
        struct Restriction: Encodable {
            var circle: Circle
        }
        var maxResultCount: Int
        var locationRestriction: Restriction
    }

    /// `{"locationRestriction":{"circle":{"center":{...},"radius":METRES}},"maxResultCount":N}`, keys
    /// sorted so the bytes are the same every time.
    static func requestBody(for query: PlaceQuery) -> Data {
        let request = Request(
            maxResultCount: query.limit,
            locationRestriction: Request.Restriction(
                circle: Request.Circle(
                    center: Request.Center(latitude: query.latitude, longitude: query.longitude),
                    radius: query.radiusMetres)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain numbers and strings cannot fail.
        return try! encoder.encode(request)
    }

    /// The answer of a successful (HTTP 200) call: `places` mapped one by one, at most `limit` of them;
    /// no `places` (Google's answer when nothing is near) is `ZERO_RESULTS`.
    static func response(from document: JSONValue, limit: Int) throws(MalformedResponse) -> PlacesResponse {
        guard case .object(let members) = document else {
            throw MalformedResponse(reason: "expected a JSON object with 'places'")
        }
        guard let places = members["places"] else { return PlacesResponse(results: []) }
        guard case .array(let items) = places else {
            throw MalformedResponse(reason: "'places' is not an array")
        }
        var results: [JSONValue] = []
        for (index, place) in items.prefix(limit).enumerated() {
            guard case .object = place else { throw MalformedResponse(reason: "places[\(index)] is not an object") }
            results.append(legacyResult(from: place))
        }
        return PlacesResponse(results: results)
    }

    /// One Places API (New) `Place` as a Nearby Search (legacy) result object, with only the keys whose
    /// source fields are present (a field mask may leave any of them out):
    ///
    /// | new                                   | legacy                                  |
    /// |---------------------------------------|-----------------------------------------|
    /// | `location.latitude`/`longitude`       | `geometry.location.lat`/`lng`           |
    /// | `displayName.text`                    | `name`                                  |
    /// | `id`                                  | `place_id` and `reference`              |
    /// | `types`                               | `types`                                 |
    /// | `shortFormattedAddress`, else `formattedAddress` | `vicinity`                   |
    /// | `rating`                              | `rating`                                |
    /// | `userRatingCount`                     | `user_ratings_total`                    |
    /// | `businessStatus`                      | `business_status`                       |
    /// | `plusCode.globalCode`/`compoundCode`  | `plus_code.global_code`/`compound_code` |
    static func legacyResult(from place: JSONValue) -> JSONValue {
        var result: [String: JSONValue] = [:]
        if let location = place["location"], let latitude = location["latitude"]?.numberValue,
            let longitude = location["longitude"]?.numberValue
        {
            result["geometry"] = .object([
                "location": .object(["lat": .number(latitude), "lng": .number(longitude)])
            ])
        }
        if let name = place["displayName"]?["text"]?.stringValue { result["name"] = .string(name) }
        if let id = place["id"]?.stringValue {
            result["place_id"] = .string(id)
            result["reference"] = .string(id)
        }
        if let types = place["types"], case .array = types { result["types"] = types }
        if let vicinity = place["shortFormattedAddress"]?.stringValue ?? place["formattedAddress"]?.stringValue {
            result["vicinity"] = .string(vicinity)
        }
        if let rating = place["rating"]?.numberValue { result["rating"] = .number(rating) }
        if let count = place["userRatingCount"]?.numberValue { result["user_ratings_total"] = .number(count) }
        if let status = place["businessStatus"]?.stringValue { result["business_status"] = .string(status) }
        if let plusCode = place["plusCode"] {
            var code: [String: JSONValue] = [:]
            if let global = plusCode["globalCode"]?.stringValue { code["global_code"] = .string(global) }
            if let compound = plusCode["compoundCode"]?.stringValue { code["compound_code"] = .string(compound) }
            if !code.isEmpty { result["plus_code"] = .object(code) }
        }
        return .object(result)
    }

    /// Google's error body, `{"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED"}}`:
    /// its status and message, when present.
    static func errorDetails(from document: JSONValue?) -> (status: String?, message: String?) {
        guard let error = document?["error"] else { return (nil, nil) }
        return (error["status"]?.stringValue, error["message"]?.stringValue)
    }
}

/// The Nearby Search (legacy) call: its query string, and its answer passed through.
enum LegacyPlacesMapping {
    /// `location=LAT,LNG&radius=METRES&key=KEY`: plain decimals (never exponents), the key percent-encoded.
    static func queryString(for query: PlaceQuery, key: GooglePlacesAPIKey) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encodedKey = key.secret.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        return "location=\(decimal(query.latitude)),\(decimal(query.longitude))"
            + "&radius=\(decimal(query.radiusMetres))&key=\(encodedKey)"
    }

    /// Integers without a fraction (`10000`), others in their shortest exact form (`34.06893`), and tiny
    /// values in fixed notation (`0.00001`, where Swift would write `1e-05`).
    static func decimal(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let shortest = String(value)
        guard shortest.contains("e") else { return shortest }
        var fixed = String(format: "%.12f", value)
        while fixed.hasSuffix("0") { fixed.removeLast() }
        if fixed.hasSuffix(".") { fixed.removeLast() }
        return fixed
    }

    /// The answer's parts, as Google sent them; `results` cut to `limit`.
    static func response(from document: JSONValue, limit: Int) throws(MalformedResponse) -> PlacesResponse {
        guard case .object(let members) = document else {
            throw MalformedResponse(reason: "expected a JSON object with 'status' and 'results'")
        }
        guard let status = members["status"]?.stringValue else {
            throw MalformedResponse(reason: "the answer has no 'status'")
        }
        let results: [JSONValue]
        switch members["results"] {
        case nil: results = []
        case .array(let items)?: results = items
        case _?: throw MalformedResponse(reason: "'results' is not an array")
        }
        return PlacesResponse(
            results: Array(results.prefix(limit)), status: PlacesResponse.Status(rawValue: status),
            htmlAttributions: members["html_attributions"]?.arrayValue ?? [],
            nextPageToken: members["next_page_token"]?.stringValue,
            errorMessage: members["error_message"]?.stringValue)
    }
}
