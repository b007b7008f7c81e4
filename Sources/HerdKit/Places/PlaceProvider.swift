/// "Places within `radiusMetres` of a point, at most `limit` of them", as WHATSAT asks.
public struct PlaceQuery: Sendable, Hashable {
    public var latitude: Double
    public var longitude: Double
    public var radiusMetres: Double
    public var limit: Int

    public init(latitude: Double, longitude: Double, radiusMetres: Double, limit: Int) {
        self.latitude = latitude
        self.longitude = longitude
        self.radiusMetres = radiusMetres
        self.limit = limit
    }
}

/// Answers place queries in the Nearby Search (legacy) shape, because that is what WHATSAT prints.
///
/// A provider reports an upstream failure either as a response whose `status` names it, or by throwing
/// ``PlaceProviderError``; any other error becomes `UNKNOWN_ERROR`. Either way the client gets a reply.
public protocol PlaceProvider: Sendable {
    func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse
    /// The answer, when it is at hand without waiting (an in-memory data set, a cache hit), so WHATSAT is
    /// answered on the event loop with no suspension; nil means "ask ``nearbyPlaces(_:)``".
    func immediatePlaces(_ query: PlaceQuery) -> PlacesResponse?
}

extension PlaceProvider {
    public func immediatePlaces(_ query: PlaceQuery) -> PlacesResponse? { nil }
}

/// A failure with the status Google would use for it.
public struct PlaceProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: PlacesResponse.Status
    public var message: String

    public init(status: PlacesResponse.Status, message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.rawValue): \(message)" }
}
